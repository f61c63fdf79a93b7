/** The DNS listener's address at start: resolved once, and the addresses behind a wildcard. */
import { ipFamily } from '../net/ip.js';
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import type { HostPort } from '../config/index.js';
import { errnoText } from '../os-errors.js';
import { CliFailure } from './failure.js';

/** Addresses for the SOA-mname record N1: the listener, or every non-loopback address for a wildcard. */
export function listenerAddresses(listen: HostPort): string[] {
  if (listen.host !== '0.0.0.0' && listen.host !== '::') return [listen.host];
  const out: string[] = [];
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (listen.host === '0.0.0.0' && info.family !== 'IPv4') continue;
      out.push(info.address);
    }
  }
  return out;
}

export async function resolveListen(listen: HostPort): Promise<HostPort> {
  if (ipFamily(listen.host) !== 0) return listen;
  const { address } = await lookup(listen.host);
  return { host: address, port: listen.port };
}

/** `resolveListen` at start: a name that does not resolve is a one-line failure. */
export async function resolveListenAt(key: string, listen: HostPort): Promise<HostPort> {
  try {
    return await resolveListen(listen);
  } catch (err) {
    throw new CliFailure(
      `mesodns: cannot resolve ${listen.host} (${key}): ${errnoText(err)}; use an IP address or a name this host resolves`,
      { cause: err },
    );
  }
}
