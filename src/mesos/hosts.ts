/**
 * Resolution of the hostnames a state names (agent and framework pid hosts, framework hostnames,
 * masters), done at the edge before generation so that the record generator stays pure and a
 * slow resolver can never fail a load (Mesos-DNS resolves while decoding and fails the whole
 * load on one bad name).
 */
import { ipFamily } from '../net/ip.js';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { State } from './types.js';

/** Looks up all addresses of a hostname. */
export type HostLookup = (host: string) => Promise<string[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS). */
export const systemLookup: HostLookup = async (host) => {
  const results = await dnsLookup(host, { all: true, verbatim: true });
  return results.map((r) => r.address);
};

/** Every non-IP host name the generator may need for `state` and `masters`. */
export function hostnamesOf(state: State, masters: readonly string[]): Set<string> {
  const names = new Set<string>();
  const add = (h: string): void => {
    const host = h.trim();
    if (host !== '' && ipFamily(host) === 0) names.add(host.toLowerCase());
  };
  if (state.leader !== undefined) add(state.leader.host);
  for (const agent of state.agents) add(agent.pid.host);
  for (const fw of state.frameworks) {
    if (fw.pid !== undefined) add(fw.pid.host);
    else add(fw.hostname);
  }
  for (const m of masters) add(m);
  return names;
}

/**
 * Resolves `names` with `lookup`, each bounded by `timeoutMs`, in parallel. Failures and
 * timeouts give no entry; they never throw.
 */
export async function resolveHosts(
  names: Iterable<string>,
  lookup: HostLookup,
  timeoutMs: number,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    [...names].map(async (name) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => {
          resolve(undefined);
        }, timeoutMs);
      });
      try {
        const ips = await Promise.race([lookup(name), timeout]);
        if (ips !== undefined && ips.length > 0) out.set(name, ips);
      } catch {
        // Unresolvable: the records that need it are simply not generated.
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return out;
}
