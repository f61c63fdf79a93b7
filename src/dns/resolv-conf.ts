/** Reading upstream resolvers from /etc/resolv.conf, the default when `forward.resolvers` is empty. */
import { ipFamily } from '../net/ip.js';
import type { HostPort } from '../config/index.js';

/** Parses `nameserver` lines (IPv4 or IPv6, an IPv6 zone index dropped); other lines are ignored. */
export function parseResolvConf(text: string): HostPort[] {
  const out: HostPort[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)$/.exec(line);
    if (m === null) continue;
    const host = (m[1] ?? '').replace(/%.*$/, '');
    if (ipFamily(host) !== 0) out.push({ host, port: 53 });
  }
  return out;
}

/**
 * Removes upstreams that are this server itself (same port, and the listen address or, for a
 * wildcard listener, 127.0.0.1, ::1 or an interface address), so that mesodns never forwards to
 * itself. Other loopback addresses are kept: by convention they are local stub resolvers
 * (systemd-resolved's 127.0.0.53, Docker's 127.0.0.11), and the forwarder's loop guard catches a
 * real loop anyway.
 */
export function excludeSelf(
  upstreams: readonly HostPort[],
  listen: HostPort,
  localAddresses: readonly string[],
): HostPort[] {
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::';
  return upstreams.filter((u) => {
    if (u.port !== listen.port) return true;
    if (u.host === listen.host) return false;
    if (!wildcard) return true;
    const loopback = u.host === '127.0.0.1' || u.host === '::1';
    return !(loopback || localAddresses.includes(u.host));
  });
}
