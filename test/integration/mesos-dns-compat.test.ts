/**
 * Drop-in compatibility: the real server, polling a fake master that serves Mesos-DNS's own
 * fixture (fake.json) as /master/state, answers every name of the expectation tables
 * (test/fixtures/fake-expected.ts) exactly as Mesos-DNS does, over UDP and over TCP, for RFC 952
 * and RFC 1123 and several ipSources lists.
 *
 * The fake master rewrites the fixture's leader to itself (127.0.0.1:<port>) so that no outside
 * address is ever contacted; the master records are adjusted for that.
 */
import { readFile } from 'node:fs/promises';
import test from 'ava';
import type { IpSource } from '../../src/config/types.js';
import type { Expectation } from '../fixtures/fake-expected.js';
import { RFC1123_DEFAULT, UPSTREAM } from '../fixtures/fake-expected.js';
import type { DigMessage } from '../../support/dig.js';
import { dig } from '../../support/dig.js';
import { FakeMaster } from '../../support/fake-master.js';
import { startMesodns } from '../../support/mesodns.js';

const fixture: unknown = JSON.parse(await readFile('test/fixtures/fake.json', 'utf8'));

interface Case {
  readonly title: string;
  readonly enforceRFC952: boolean;
  readonly sources: readonly IpSource[];
  readonly mname: string;
  readonly withMastersList: boolean;
  readonly expect: readonly Expectation[];
}

const cases: Case[] = [
  ...UPSTREAM.map((u) => ({
    title: `RFC 952, ipSources [${u.sources.join(', ')}]`,
    enforceRFC952: true,
    sources: u.sources,
    mname: 'mesos-dns.mesos',
    withMastersList: true,
    expect: u.expect,
  })),
  {
    title: 'RFC 1123, default ipSources',
    enforceRFC952: false,
    sources: ['netinfo', 'mesos', 'host'],
    mname: 'ns1.mesos',
    withMastersList: false,
    expect: RFC1123_DEFAULT,
  },
];

/** The expected values once the leader is the fake master on 127.0.0.1:<port>. */
function adapt(
  kind: string,
  name: string,
  want: readonly string[] | undefined,
  port: number,
): string[] | undefined {
  if (want === undefined) {
    // `no pid` has only the hostname localhost: Mesos-DNS resolves it with the system resolver,
    // and so does mesodns (before generating, not during).
    if (name === 'nopid.mesos.' && kind === 'A') return ['127.0.0.1'];
    return undefined;
  }
  return want.map((v) =>
    v === '144.76.157.37' || v === '1.2.3.4'
      ? '127.0.0.1'
      : v.replace(/^leader\.mesos\.:5050$/, `leader.mesos.:${String(port)}`),
  );
}

/** The values of `kind` in a dig answer: addresses, or SRV as `target:port`. */
function valuesOf(m: DigMessage, kind: string, srvWeight: number): string[] {
  return m.answer
    .filter((r) => r.type === kind)
    .map((r) => {
      if (kind !== 'SRV') return r.data;
      const [priority, weight, port, target] = r.data.split(/\s+/);
      return `${priority === '0' && Number(weight) === srvWeight ? '' : 'BAD-PRIO-WEIGHT '}${target ?? ''}:${port ?? ''}`;
    })
    .sort();
}

for (const c of cases) {
  test(`answers every Mesos-DNS name of fake.json like Mesos-DNS: ${c.title}`, async (t) => {
    const master = new FakeMaster(fixture);
    await master.start();
    t.teardown(() => master.close());
    const srv = await startMesodns({
      config: {
        mesos: { masters: [master.url] },
        records: { enforceRFC952: c.enforceRFC952, ipSources: c.sources, srvWeight: 1, ttl: 60 },
        dns: { soa: { mname: c.mname } },
      },
    });
    t.teardown(() => srv.stop());
    const expect = c.withMastersList ? c.expect : c.expect;
    // One dig run per transport asks every question (dig takes several on one command line). The
    // options go first: dig applies options after a question to that question alone.
    const args = expect.flatMap(([kind, name]) => [name, kind]);
    for (const transport of ['udp', 'tcp'] as const) {
      const result = await dig(srv.dnsPort, [
        ...(transport === 'tcp' ? ['+tcp'] : []),
        '+bufsize=4096',
        ...args,
      ]);
      t.is(
        result.messages.length,
        expect.length,
        `${result.raw.slice(0, 1500)}\n--- server logs:\n${srv.logs().slice(-3000)}\nexit ${String(srv.proc.exitCode)}`,
      );
      expect.forEach(([kind, name, want], i) => {
        const m = result.messages[i];
        if (m === undefined) return;
        const expected = adapt(kind, name, want, master.port);
        t.is(m.question[0]?.name, name, 'answers arrive in question order');
        t.is(m.transport, transport, `${kind} ${name} asked over ${transport}`);
        t.false(m.flags.has('tc'), `${kind} ${name} truncated`);
        t.true(m.flags.has('aa'), `${kind} ${name} not authoritative`);
        if (expected === undefined) {
          t.deepEqual(
            valuesOf(m, kind, 1),
            [],
            `${transport} ${kind} ${name}: expected no records`,
          );
          t.true(m.status === 'NXDOMAIN' || m.status === 'NOERROR', `${kind} ${name}: ${m.status}`);
          t.is(m.authority[0]?.type, 'SOA', `${kind} ${name}: negative answer carries the SOA`);
        } else {
          t.is(m.status, 'NOERROR', `${kind} ${name}`);
          t.deepEqual(valuesOf(m, kind, 1), [...expected].sort(), `${transport} ${kind} ${name}`);
          t.true(m.answer.every((r) => r.ttl === 60));
          if (kind === 'SRV') {
            // Every SRV target's addresses ride along in the additional section.
            const targets = new Set(m.answer.map((r) => r.data.split(/\s+/)[3]));
            for (const target of targets) {
              t.true(
                m.additional.some((r) => r.name === target),
                `${kind} ${name}: no additional record for ${String(target)}`,
              );
            }
          }
        }
      });
    }
  });
}
