import test from 'ava';
import { parsePrefix } from '../../src/net/ip.js';
import { reverseApexes, reverseName, reverseZoneOf } from '../../src/net/reverse.js';
import type { Prefix } from '../../src/net/ip.js';
import type { RecordSet } from '../../src/records/index.js';
import { generateRecords, taskIdHash, toZoneFile } from '../../src/records/index.js';
import type { Agent } from '../../src/mesos/index.js';
import {
  agent,
  discovery,
  docker,
  framework,
  netinfoStatus,
  options,
  state,
  task,
} from '../../support/state-builder.js';

const REVERSE = options({ reverse: { zones: ['10.in-addr.arpa.', '0.0.d.f.ip6.arpa.'] } });

function named(a: Agent, hostname: string): Agent {
  return { ...a, hostname };
}

const AGENTS = [
  named(agent('ag-S0', '10.0.0.1'), 'Node-0.Example.org'),
  agent('ag-S1', '10.0.0.2'), // hostname: its IP
];

function prefix(text: string): Prefix {
  const p = parsePrefix(text);
  if ('problem' in p) throw new Error(p.problem);
  return p;
}

function problemOf(cidr: string): string {
  const zone = reverseZoneOf(prefix(cidr));
  return 'problem' in zone ? zone.problem : '';
}

function ptr(set: RecordSet, address: string): readonly string[] | undefined {
  const name = reverseName(address);
  return name === undefined ? undefined : set.ptr?.get(name);
}

test('reverse names: dotted quads reversed, IPv6 as 32 nibbles (RFC 1035 3.5, RFC 3596 2.5)', (t) => {
  t.is(reverseName('10.32.1.7'), '7.1.32.10.in-addr.arpa.');
  t.is(
    reverseName('fd01:b::d8:8000:0:10'),
    '0.1.0.0.0.0.0.0.0.0.0.8.8.d.0.0.0.0.0.0.0.0.0.0.b.0.0.0.1.0.d.f.ip6.arpa.',
  );
  t.is(reverseName('not an address'), undefined);
});

test('reverse zones: apexes of CIDRs on octet and nibble boundaries, others refused', (t) => {
  t.deepEqual(reverseZoneOf(prefix('10.32.0.0/16')), { apex: '32.10.in-addr.arpa.' });
  t.deepEqual(reverseZoneOf(prefix('0.0.0.0/0')), { apex: 'in-addr.arpa.' });
  t.deepEqual(reverseZoneOf(prefix('10.32.1.7/32')), { apex: '7.1.32.10.in-addr.arpa.' });
  t.deepEqual(reverseZoneOf(prefix('fd01:b::/32')), { apex: 'b.0.0.0.1.0.d.f.ip6.arpa.' });
  t.deepEqual(reverseZoneOf(prefix('fd00::/12')), { apex: '0.d.f.ip6.arpa.' });
  t.regex(problemOf('10.32.0.0/12'), /not on an octet boundary.*\/8 or a \/16/);
  t.regex(problemOf('fd00::/10'), /not on a nibble boundary.*\/8 or a \/12/);
  t.regex(problemOf('10.32.0.1/24'), /bits set past the prefix length 24/);
  t.deepEqual(reverseApexes(['10.0.0.0/8', 'fd00::/16']), [
    '10.in-addr.arpa.',
    '0.0.d.f.ip6.arpa.',
  ]);
});

test('off by default: no PTR records at all', (t) => {
  const s = state({
    agents: AGENTS,
    frameworks: [
      framework('marathon', [task('web', 'ag-S0', { statuses: [netinfoStatus(['10.8.0.5'])] })]),
    ],
  });
  const set = generateRecords(s, options());
  t.is(set.ptr.size, 0);
  t.false(toZoneFile(set, { ttl: 60, srvWeight: 1 }).some((line) => line.includes(' PTR ')));
});

test('a container address points at the per-instance name, an agent address at the hostname', (t) => {
  const web = task('web', 'ag-S0', {
    id: 'web.1',
    statuses: [netinfoStatus(['10.8.0.5', 'fd00::5'])],
  });
  const host = task('host-app', 'ag-S1', { id: 'host.1' }); // `host` source: the agent's address
  const s = state({ agents: AGENTS, frameworks: [framework('marathon', [web, host])] });
  const set = generateRecords(s, REVERSE);
  const instance = `web-${taskIdHash('web.1')}-s0.marathon.mesos.`;
  t.deepEqual(ptr(set, '10.8.0.5'), [instance]);
  t.deepEqual(ptr(set, 'fd00::5'), [instance]);
  // Forward and reverse agree.
  t.deepEqual(set.a.get(instance), ['10.8.0.5']);
  t.deepEqual(set.aaaa.get(instance), ['fd00::5']);
  // The agent's Mesos hostname, lower case and absolute; an IP-literal hostname gives none, and
  // the tasks on an agent address never add theirs.
  t.deepEqual(ptr(set, '10.0.0.1'), ['node-0.example.org.']);
  t.is(ptr(set, '10.0.0.2'), undefined);
  t.true(set.a.get(`host-app-${taskIdHash('host.1')}-s1.marathon.mesos.`)?.includes('10.0.0.2'));
  t.is(set.ptr.size, 3);
});

test('tasks sharing an address get one PTR each; DiscoveryInfo names the labelled instance', (t) => {
  const a = task('a', 'ag-S0', { id: 'pod.a', statuses: [netinfoStatus(['10.9.0.1'])] });
  const b = task('b', 'ag-S0', {
    id: 'pod.b',
    statuses: [netinfoStatus(['10.9.0.1'])],
    discovery: discovery('My.Service'),
  });
  const bridge = task('bridged', 'ag-S0', {
    id: 'br.1',
    container: docker('BRIDGE'),
    statuses: [netinfoStatus(['172.17.0.2'])],
  });
  const s = state({ agents: AGENTS, frameworks: [framework('marathon', [a, b, bridge])] });
  const set = generateRecords(s, REVERSE);
  t.deepEqual(ptr(set, '10.9.0.1'), [
    `a-${taskIdHash('pod.a')}-s0.marathon.mesos.`,
    `my-service-${taskIdHash('pod.b')}-s0.marathon.mesos.`,
  ]);
  // A Docker bridge task falls back to its agent's address: the agent's PTR only.
  t.is(ptr(set, '172.17.0.2'), undefined);
  t.deepEqual(ptr(set, '10.0.0.1'), ['node-0.example.org.']);
});

test('PTRs outside the reverse zones are made too; the zones get their empty non-terminals', (t) => {
  const web = task('web', 'ag-S0', { id: 'w.1', statuses: [netinfoStatus(['192.168.5.9'])] });
  const s = state({ agents: AGENTS, frameworks: [framework('marathon', [web])] });
  const set = generateRecords(s, REVERSE);
  t.deepEqual(ptr(set, '192.168.5.9'), [`web-${taskIdHash('w.1')}-s0.marathon.mesos.`]);
  const data = set.data;
  const ent = (name: string): boolean => data.emptyNonTerminal[set.nameId(name)] === 1;
  t.true(ent('10.in-addr.arpa.'), 'a reverse apex exists');
  t.true(ent('0.10.in-addr.arpa.'));
  t.true(ent('0.0.10.in-addr.arpa.'));
  t.true(ent('0.0.d.f.ip6.arpa.'), 'an apex without records exists');
  t.is(set.nameId('5.168.192.in-addr.arpa.'), -1, 'no empty non-terminals outside the zones');
  t.deepEqual(set.reverseZones, ['10.in-addr.arpa.', '0.0.d.f.ip6.arpa.']);
});

test('mesodns records prints the PTR records, sorted with the others', (t) => {
  const web = task('web', 'ag-S0', { id: 'w.1', statuses: [netinfoStatus(['10.8.0.5'])] });
  const s = state({ agents: AGENTS, frameworks: [framework('marathon', [web])] });
  const lines = toZoneFile(generateRecords(s, REVERSE), { ttl: 60, srvWeight: 1 });
  t.deepEqual(
    lines.filter((line) => line.includes(' PTR ')),
    [
      '1.0.0.10.in-addr.arpa. 60 IN PTR node-0.example.org.',
      `5.0.8.10.in-addr.arpa. 60 IN PTR web-${taskIdHash('w.1')}-s0.marathon.mesos.`,
    ],
  );
  t.deepEqual([...lines].sort(), lines);
});
