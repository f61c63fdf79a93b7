// Leader facts from state documents, the "follow the leader field" rule and the static list.
import test from 'ava';
import { StaticMasters, leaderFacts, leaderKey } from '../../src/mesos/index.js';
import { otherLeaderUrl } from '../../src/mesos/leader.js';

test('leaderFacts reads leader, pid and leader_info; ignores junk', (t) => {
  t.deepEqual(
    leaderFacts({
      leader: 'master@10.0.0.11:5050',
      pid: 'master@10.0.0.12:5050',
      leader_info: { id: 'abc', hostname: 'm1.example' },
    }),
    {
      leader: 'master@10.0.0.11:5050',
      self: 'master@10.0.0.12:5050',
      leaderId: 'abc',
      leaderHostname: 'm1.example',
    },
  );
  t.deepEqual(leaderFacts({ leader: 7, pid: '', leader_info: [] }), {
    leader: undefined,
    self: undefined,
    leaderId: undefined,
    leaderHostname: undefined,
  });
  t.is(leaderFacts('nope').leader, undefined);
});

test('leaderKey changes with the leader and with its process id', (t) => {
  const a = leaderFacts({ leader: 'master@10.0.0.11:5050', leader_info: { id: '1' } });
  const restarted = leaderFacts({ leader: 'master@10.0.0.11:5050', leader_info: { id: '2' } });
  const old = leaderFacts({ leader: 'master@10.0.0.11:5050' });
  t.not(leaderKey(a), leaderKey(restarted));
  t.is(leaderKey(old), 'master@10.0.0.11:5050');
  t.is(leaderKey(leaderFacts({})), undefined);
});

const CASES: ReadonlyArray<{
  readonly title: string;
  readonly doc: Record<string, unknown>;
  readonly via: string;
  readonly want: string | undefined;
}> = [
  {
    title: 'the answering master leads (pid = leader)',
    doc: { leader: 'master@10.0.0.11:5050', pid: 'master@10.0.0.11:5050' },
    via: 'http://m1.example:5050',
    want: undefined,
  },
  {
    title: 'another master leads: its pid IP over http',
    doc: {
      leader: 'master@10.0.0.11:5050',
      pid: 'master@10.0.0.12:5050',
      leader_info: { hostname: 'm1.example' },
    },
    via: 'http://10.0.0.12:5050',
    want: 'http://10.0.0.11:5050',
  },
  {
    title: 'another master leads: its hostname over https (certificates name hosts)',
    doc: {
      leader: 'master@10.0.0.11:5050',
      pid: 'master@10.0.0.12:5050',
      leader_info: { hostname: 'm1.example' },
    },
    via: 'https://m2.example:5050',
    want: 'https://m1.example:5050',
  },
  {
    title: 'no pid: the address asked is the leader',
    doc: { leader: 'master@10.0.0.11:5050' },
    via: 'http://10.0.0.11:5050',
    want: undefined,
  },
  {
    title: 'no pid: another address leads',
    doc: { leader: 'master@10.0.0.11:5050' },
    via: 'http://10.0.0.12:5050',
    want: 'http://10.0.0.11:5050',
  },
  {
    title: 'no pid, asked by hostname without leader_info: cannot tell, take it',
    doc: { leader: 'master@10.0.0.11:5050' },
    via: 'http://m1.example:5050',
    want: undefined,
  },
  {
    title: 'an IPv6 leader gets brackets',
    doc: { leader: 'master@[fd00::11]:5050', pid: 'master@[fd00::12]:5050' },
    via: 'http://[fd00::12]:5050',
    want: 'http://[fd00::11]:5050',
  },
  {
    title: 'no leader field: nothing to follow',
    doc: { pid: 'master@10.0.0.12:5050' },
    via: 'http://10.0.0.12:5050',
    want: undefined,
  },
];

for (const c of CASES) {
  test(`otherLeaderUrl: ${c.title}`, (t) => {
    t.is(otherLeaderUrl(leaderFacts(c.doc), c.via), c.want);
  });
}

test('StaticMasters tries the last leader first, then the list in order', (t) => {
  const masters = new StaticMasters(['http://a:5050', 'http://b:5050', 'http://c:5050']);
  t.deepEqual(masters.candidates(), ['http://a:5050', 'http://b:5050', 'http://c:5050']);
  masters.noteLeader('http://b:5050');
  t.deepEqual(masters.candidates(), ['http://b:5050', 'http://a:5050', 'http://c:5050']);
  // A leader reached through a redirect that is not in the list comes first too.
  masters.noteLeader('http://10.0.0.9:5050');
  t.deepEqual(masters.candidates(), [
    'http://10.0.0.9:5050',
    'http://a:5050',
    'http://b:5050',
    'http://c:5050',
  ]);
  t.is(masters.masters(), undefined);
  t.is(masters.describe(), 'mesos.masters');
});
