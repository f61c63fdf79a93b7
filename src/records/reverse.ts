/**
 * Reverse lookups (`records.reverse`): the PTR records of the addresses the zone publishes, and
 * the reverse zones' names. Pure, like the generator that calls it.
 *
 * What gets a PTR (docs/names-and-dns.md, "Reverse lookups"):
 * - an agent address: the agent's Mesos hostname (`hostname` in the state, lower case, as an
 *   absolute name), unless that hostname is an IP literal or not a valid name (then none);
 * - a task address that is not an agent address: the per-instance name Mesos-DNS builds for the
 *   task (`{task}-{hash}-{agent}.{framework}.{domain}.`, T2 of the labelled pass), one PTR per
 *   task when several tasks share the address (a pod's tasks share its network namespace);
 * - a task address that is an agent address (host networking, the `host` IP source): nothing
 *   more: the agent's PTR answers for it, rather than one PTR per task the agent runs.
 * Masters, frameworks and the nameserver (M, F and N records) get none.
 */
import { ipFamily } from '../net/ip.js';
import { reverseName } from '../net/reverse.js';
import type { RecordBuilder } from './builder.js';
import { KIND_PTR } from './layout.js';

/**
 * The PTR target of an agent: its Mesos hostname as an absolute name, lower case; undefined for
 * an IP literal or an empty hostname (the builder refuses other invalid names).
 */
export function agentPtrTarget(hostname: string): string | undefined {
  const host = hostname.trim().toLowerCase().replace(/\.$/, '');
  if (host === '' || ipFamily(host) !== 0) return undefined;
  return `${host}.`;
}

/**
 * Adds the PTR of an address (`value`: its canonical text) to `target` (a name id of `b`;
 * nothing when -1).
 */
export function addPtr(b: RecordBuilder, ip: { readonly value: string }, target: number): void {
  if (target < 0) return;
  const owner = reverseName(ip.value);
  if (owner === undefined) return;
  const id = b.id(owner);
  if (id >= 0) b.add(KIND_PTR, id, target);
}

/** The PTRs of an agent's addresses: its Mesos hostname (`agentPtrTarget`), when it has one. */
export function addAgentPtrs(
  b: RecordBuilder,
  hostname: string,
  ips: readonly { readonly value: string }[],
): void {
  const host = agentPtrTarget(hostname);
  if (host === undefined) return;
  const target = b.id(host);
  for (const ip of ips) addPtr(b, ip, target);
}

/** The addresses (canonical text) of lists of addresses, such as the agents'. */
export function addressSet(lists: Iterable<readonly { readonly value: string }[]>): Set<string> {
  const out = new Set<string>();
  for (const ips of lists) for (const ip of ips) out.add(ip.value);
  return out;
}
