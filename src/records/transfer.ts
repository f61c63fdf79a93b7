/**
 * Moving and copying a `RecordData` (layout.ts) between threads, and converting any `RecordSet`
 * to one. Every part of a record set is a typed array with its own buffer, a string or a small
 * array, so it can be posted with its buffers transferred (`recordTransferList`) or shared
 * (`cloneRecordData(data, 'shared')`) rather than copied: a large cluster's set is tens of
 * megabytes (docs/performance.md).
 */
import type { RecordSet } from './types.js';
import { RecordBuilder } from './builder.js';
import { formatIpv6, ipv4ToInt, ipv6Groups } from '../net/ip.js';
import { KIND_A, KIND_AAAA, KIND_PTR, KIND_SRV } from './layout.js';
import type { KindData, RecordData } from './layout.js';
import { CompactRecordSet } from './views.js';

/** The ArrayBuffers of a `RecordData`, to transfer it with `postMessage`. */
export function recordTransferList(data: RecordData): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const v of recordViews(data)) {
    if (v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0) buffers.add(v.buffer);
  }
  return [...buffers];
}

/** Every typed array of a `RecordData`. */
export function recordViews(data: RecordData): ArrayBufferView[] {
  const e = data.enumeration;
  const views: ArrayBufferView[] = [
    data.names,
    data.nameEnd,
    data.nameTable,
    data.v6,
    data.emptyNonTerminal,
    e.frameworkEnd,
    e.taskTextEnd,
    e.taskLogEnd,
    e.logKindPort,
    e.logName,
    e.logValue,
  ];
  for (const k of data.kinds) views.push(k.keys, k.start, k.values, k.ports, k.slot);
  if (data.health !== undefined) views.push(data.health);
  return views;
}

/**
 * Whether every array of `data` (but empty ones) is on a SharedArrayBuffer: posted to another
 * thread, it is shared whole (a full build of the pipeline worker, arena.ts `shareBuildMemory`).
 */
export function isSharedRecordData(data: RecordData): boolean {
  return recordViews(data).every(
    (v) => v.byteLength === 0 || v.buffer instanceof SharedArrayBuffer,
  );
}

/**
 * A copy of `data` that owns exactly its bytes (each typed array sliced: `structuredClone` would
 * copy whole underlying buffers, reserved tails included, and took many times longer).
 * `memory: 'shared'` puts every array on a SharedArrayBuffer: posted to another thread, such a
 * copy is shared, not copied or moved, so two threads can read one copy (stream mode: the
 * worker's incremental updater and the main thread's served records). Nobody writes to it.
 */
export function cloneRecordData(
  data: RecordData,
  memory: 'private' | 'shared' = 'private',
): RecordData {
  const copy = <T extends Int32Array | Uint8Array | Uint16Array>(a: T): T =>
    memory === 'shared' ? sharedCopy(a) : (a.slice() as T);
  const e = data.enumeration;
  return {
    ...data,
    names: copy(data.names),
    nameEnd: copy(data.nameEnd),
    nameTable: copy(data.nameTable),
    v6: copy(data.v6),
    emptyNonTerminal: copy(data.emptyNonTerminal),
    ...(data.health === undefined ? {} : { health: copy(data.health) }),
    kinds: [
      cloneKind(data.kinds[0], copy),
      cloneKind(data.kinds[1], copy),
      cloneKind(data.kinds[2], copy),
      cloneKind(data.kinds[3], copy),
    ],
    reverseZones: [...data.reverseZones],
    enumeration: {
      ...e,
      frameworks: [...e.frameworks],
      frameworkIds: [...e.frameworkIds],
      frameworkEnd: copy(e.frameworkEnd),
      taskTextEnd: copy(e.taskTextEnd),
      taskLogEnd: copy(e.taskLogEnd),
      logKindPort: copy(e.logKindPort),
      logName: copy(e.logName),
      logValue: copy(e.logValue),
    },
    stats: { ...data.stats },
  };
}

/** A copy of `a` of the same type, on a SharedArrayBuffer of exactly its size. */
function sharedCopy<T extends Int32Array | Uint8Array | Uint16Array>(a: T): T {
  const Type = a.constructor as new (buffer: SharedArrayBuffer) => T;
  const out = new Type(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

function cloneKind(
  k: KindData,
  copy: <T extends Int32Array | Uint8Array | Uint16Array>(a: T) => T,
): KindData {
  return {
    keys: copy(k.keys),
    start: copy(k.start),
    values: copy(k.values),
    ports: copy(k.ports),
    slot: copy(k.slot),
  };
}

/** Bytes held by a `RecordData` (for logs and the benchmark). */
export function recordDataBytes(data: RecordData): number {
  let total = data.enumeration.taskText.length * 2;
  const buffers = new Set<ArrayBufferLike>();
  for (const v of recordViews(data)) buffers.add(v.buffer);
  for (const b of buffers) total += b.byteLength;
  return total;
}

/**
 * The compact data of any `RecordSet`: a `CompactRecordSet`'s own, else built from its maps
 * (invalid names, see `isValidName`, are left out). The enumeration is not carried over.
 */
export function toRecordData(records: RecordSet): RecordData {
  if (records instanceof CompactRecordSet) return records.data;
  const builder = new RecordBuilder(records.zone, records.reverseZones);
  for (const [name, ips] of records.a) {
    const id = builder.id(name);
    if (id < 0) continue;
    for (const ip of ips) builder.add(KIND_A, id, ipv4ToInt(ip));
  }
  for (const [name, ips] of records.aaaa) {
    const id = builder.id(name);
    if (id < 0) continue;
    for (const ip of ips) {
      const groups = ipv6Groups(ip);
      if (groups !== undefined)
        builder.add(KIND_AAAA, id, builder.v6Index(formatIpv6(groups), groups));
    }
  }
  for (const [name, targets] of records.srv) {
    const id = builder.id(name);
    if (id < 0) continue;
    for (const t of targets) {
      const target = builder.id(t.target);
      if (target >= 0) builder.add(KIND_SRV, id, target, t.port);
    }
  }
  for (const [name, targets] of records.ptr ?? []) {
    const id = builder.id(name);
    if (id < 0) continue;
    for (const t of targets) {
      const target = builder.id(t);
      if (target >= 0) builder.add(KIND_PTR, id, target);
    }
  }
  const { stats } = records;
  return builder.finish({
    frameworks: stats.frameworks,
    agents: stats.agents,
    tasks: stats.tasks,
    skippedTasks: stats.skippedTasks,
  });
}
