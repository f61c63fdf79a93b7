// Full builds in shared memory (arena.ts shareBuildMemory): the same data as a private build, on
// SharedArrayBuffers; small builds stay private. The setting is per thread (this test process).
import { createHash } from 'node:crypto';
import test from 'ava';
import { parseState } from '../../src/mesos/index.js';
import type { RecordData } from '../../src/records/index.js';
import {
  generateRecords,
  isSharedRecordData,
  recordViews,
  reserveBuildMemory,
  shareBuildMemory,
  toRecordData,
  withoutReserve,
} from '../../src/records/index.js';
import { syntheticState } from '../../support/cluster.js';
import { recordsFromText } from '../../support/records-text.js';

const OPTIONS = {
  domain: 'mesos',
  ipSources: ['netinfo', 'mesos', 'host'] as const,
  enforceRFC952: false,
  nsName: 'ns1.mesos.',
  nsIps: ['127.0.0.1', 'fd00::53'],
  masters: [],
  hostIps: new Map<string, string[]>(),
};

function build(): RecordData {
  const state = parseState(syntheticState({ tasks: 3000, seed: 7 })).state;
  return generateRecords(state, { ...OPTIONS, ipSources: [...OPTIONS.ipSources] }).data;
}

/**
 * A digest of every array of `data`, in order; the name index as its entries (its size, and so
 * its slots, follows the memory reserved for the build).
 */
const contents = (data: RecordData): string[] =>
  recordViews(data).map((v) => {
    if (v === data.nameTable) {
      const table = data.nameTable;
      const pairs: string[] = [];
      for (let i = 0; i < table.length; i += 2) {
        if (table[i] !== 0) pairs.push(`${String(table[i])}/${String(table[i + 1])}`);
      }
      return pairs.sort().join(' ');
    }
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return createHash('sha256').update(bytes).digest('hex');
  });

test('shared full builds equal private ones; small builds stay private', (t) => {
  const plain = build();
  t.false(isSharedRecordData(plain));
  shareBuildMemory();
  const shared = build();
  t.true(isSharedRecordData(shared));
  t.deepEqual(contents(shared), contents(plain));
  t.is(shared.enumeration.taskText, plain.enumeration.taskText);
  // The reservation for the next build is shared too.
  reserveBuildMemory(3000);
  const again = build();
  t.true(isSharedRecordData(again));
  t.deepEqual(contents(again), contents(plain));
  const small = withoutReserve(() => toRecordData(recordsFromText('a.mesos. A 10.0.0.1')));
  t.true(recordViews(small).every((v) => !(v.buffer instanceof SharedArrayBuffer)));
});
