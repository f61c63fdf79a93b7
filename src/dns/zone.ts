/**
 * The compiled zone: every answer the authoritative server can give, encoded once when a state
 * loads. A query then costs one Map lookup plus copying bytes (STYLE.md: the authoritative path
 * is synchronous and allocation-light).
 *
 * Every pre-encoded RR is position independent relative to the question: owner names are the
 * pointer 0xC00C (the QNAME at offset 12), additional-record owners point into the QNAME's
 * suffix when they share one, SRV targets are never compressed (RFC 2782).
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { RecordSet, SrvTarget } from '../records/index.js';
import type { SoaConfig } from '../config/index.js';
import { CLASS, HEADER_SIZE, TYPE, encodeLabels, encodeName, nameKey, nameLabels } from './wire.js';

/** A set of encoded RRs: `data` holds them back to back, `offsets[i]..offsets[i+1]` is RR i. */
export interface RRSet {
  readonly data: Buffer;
  readonly offsets: readonly number[];
}

/** Everything encoded for one owner name. Absent sets mean no records of that type. */
export interface ZoneNode {
  readonly a: RRSet | undefined;
  readonly aaaa: RRSet | undefined;
  readonly srv: RRSet | undefined;
  /** A/AAAA of the SRV targets, for the additional section. */
  readonly srvAdditional: RRSet | undefined;
}

/** Options of `compileZone`. */
export interface ZoneOptions {
  readonly ttl: number;
  readonly srvWeight: number;
  readonly soa: SoaConfig;
  readonly serial: number;
}

/** An immutable compiled zone. */
export interface Zone {
  /** Lookup key of the apex (see `nameKey`). */
  readonly apexKey: string;
  /** Wire length of the apex name including the root label. */
  readonly apexWireLength: number;
  readonly nodes: ReadonlyMap<string, ZoneNode>;
  /** SOA RR owned by the QNAME (answer to `SOA` at the apex). */
  readonly soaAnswer: Buffer;
  /**
   * SOA RR for the authority section of negative answers, TTL = min(ttl, minimum) (RFC 2308 3).
   * Its first two bytes are a placeholder for a compression pointer to the apex inside the QNAME.
   */
  readonly soaNegative: Buffer;
  /** NS RR owned by the QNAME (answer to `NS` at the apex). */
  readonly nsAnswer: Buffer;
  readonly serial: number;
  /** Digest of the records, to tell whether a new load changed anything. */
  readonly fingerprint: string;
  /** Number of owner names with records, and of RRs. */
  readonly names: number;
  readonly rrs: number;
}

const EMPTY_NODE: ZoneNode = {
  a: undefined,
  aaaa: undefined,
  srv: undefined,
  srvAdditional: undefined,
};

/** Writes the fixed RR header after the owner: type, class IN, ttl, rdlength. */
function writeRRHeader(
  out: Buffer,
  off: number,
  type: number,
  ttl: number,
  rdlength: number,
): number {
  out.writeUInt16BE(type, off);
  out.writeUInt16BE(CLASS.IN, off + 2);
  out.writeUInt32BE(ttl >>> 0, off + 4);
  out.writeUInt16BE(rdlength, off + 8);
  return off + 10;
}

/** Encodes an address RR owned by `owner` (wire bytes, possibly a pointer). */
function addressRR(owner: Buffer, ip: string, ttl: number): Buffer | undefined {
  const family = isIP(ip);
  if (family === 0) return undefined;
  const rdata = family === 4 ? ipv4Bytes(ip) : ipv6Bytes(ip);
  if (rdata === undefined) return undefined;
  const out = Buffer.allocUnsafe(owner.length + 10 + rdata.length);
  owner.copy(out, 0);
  const off = writeRRHeader(
    out,
    owner.length,
    family === 4 ? TYPE.A : TYPE.AAAA,
    ttl,
    rdata.length,
  );
  rdata.copy(out, off);
  return out;
}

/** Parses dotted IPv4 into 4 bytes. */
export function ipv4Bytes(ip: string): Buffer | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.allocUnsafe(4);
  for (let i = 0; i < 4; i++) {
    const n = Number(parts[i]);
    if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Parses an IPv6 address (with `::` and an optional embedded IPv4 tail) into 16 bytes. */
export function ipv6Bytes(ip: string): Buffer | undefined {
  const zone = ip.indexOf('%');
  const addr = zone >= 0 ? ip.slice(0, zone) : ip;
  const out = Buffer.alloc(16);
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const words: number[] = [];
    const groups = part.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] ?? '';
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = ipv4Bytes(g);
        if (v4 === undefined) return undefined;
        words.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        words.push(parseInt(g, 16));
      }
    }
    return words;
  };
  const head = parse(halves[0] ?? '');
  const tail = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  head.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  tail.forEach((w, i) => out.writeUInt16BE(w, 16 - (tail.length - i) * 2));
  return out;
}

/**
 * Encodes `name` for use after a question whose QNAME is `base`: the longest shared label
 * suffix becomes a pointer into the QNAME at offset 12.
 */
function encodeRelative(name: string, base: readonly string[]): Buffer {
  const labels = nameLabels(name) ?? [];
  let shared = 0;
  while (
    shared < labels.length &&
    shared < base.length &&
    labels[labels.length - 1 - shared] === base[base.length - 1 - shared]
  ) {
    shared++;
  }
  if (shared === 0) return encodeName(name);
  const prefix = labels.slice(0, labels.length - shared);
  let pointer = HEADER_SIZE;
  for (let i = 0; i < base.length - shared; i++) pointer += (base[i] ?? '').length + 1;
  return encodeLabels(prefix, pointer);
}

const QNAME_POINTER = Buffer.from([0xc0, HEADER_SIZE]);

/** Concatenates RRs into an RRSet. */
function toRRSet(rrs: readonly Buffer[]): RRSet | undefined {
  if (rrs.length === 0) return undefined;
  const offsets: number[] = [0];
  let size = 0;
  for (const rr of rrs) {
    size += rr.length;
    offsets.push(size);
  }
  return { data: Buffer.concat(rrs, size), offsets };
}

function addressSet(
  ips: readonly string[] | undefined,
  owner: Buffer,
  ttl: number,
): RRSet | undefined {
  if (ips === undefined) return undefined;
  const rrs: Buffer[] = [];
  for (const ip of ips) {
    const rr = addressRR(owner, ip, ttl);
    if (rr !== undefined) rrs.push(rr);
  }
  return toRRSet(rrs);
}

function srvRR(target: SrvTarget, ttl: number, weight: number): Buffer | undefined {
  if (nameLabels(target.target) === undefined) return undefined;
  const t = encodeName(target.target);
  const out = Buffer.allocUnsafe(2 + 10 + 6 + t.length);
  QNAME_POINTER.copy(out, 0);
  let off = writeRRHeader(out, 2, TYPE.SRV, ttl, 6 + t.length);
  out.writeUInt16BE(0, off); // priority
  out.writeUInt16BE(weight, off + 2);
  out.writeUInt16BE(target.port, off + 4);
  off += 6;
  t.copy(out, off);
  return out;
}

function soaRdata(soa: SoaConfig, serial: number): Buffer {
  const m = encodeName(soa.mname);
  const r = encodeName(soa.rname);
  const out = Buffer.allocUnsafe(m.length + r.length + 20);
  m.copy(out, 0);
  r.copy(out, m.length);
  let off = m.length + r.length;
  for (const v of [serial, soa.refresh, soa.retry, soa.expire, soa.minimum]) {
    out.writeUInt32BE(v >>> 0, off);
    off += 4;
  }
  return out;
}

function rrWithRdata(owner: Buffer, type: number, ttl: number, rdata: Buffer): Buffer {
  const out = Buffer.allocUnsafe(owner.length + 10 + rdata.length);
  owner.copy(out, 0);
  const off = writeRRHeader(out, owner.length, type, ttl, rdata.length);
  rdata.copy(out, off);
  return out;
}

/** Compiles a record set into a zone. Pure; costs one pass over the records. */
export function compileZone(records: RecordSet, options: ZoneOptions): Zone {
  const { ttl, srvWeight, soa, serial } = options;
  const digest = createHash('sha1');
  const nodes = new Map<string, ZoneNode>();
  const apexKey = nameKey(records.zone);
  const names = new Set<string>([
    ...records.a.keys(),
    ...records.aaaa.keys(),
    ...records.srv.keys(),
  ]);
  let rrs = 0;
  for (const name of names) {
    const labels = nameLabels(name);
    if (labels === undefined) continue;
    const key = nameKey(name);
    const a = addressSet(records.a.get(name), QNAME_POINTER, ttl);
    const aaaa = addressSet(records.aaaa.get(name), QNAME_POINTER, ttl);
    let srv: RRSet | undefined;
    let srvAdditional: RRSet | undefined;
    const targets = records.srv.get(name);
    if (targets !== undefined) {
      const answers: Buffer[] = [];
      const extra: Buffer[] = [];
      const seen = new Set<string>();
      for (const t of targets) {
        const rr = srvRR(t, ttl, srvWeight);
        if (rr === undefined) continue;
        answers.push(rr);
        if (seen.has(t.target)) continue;
        seen.add(t.target);
        const owner = encodeRelative(t.target, labels);
        for (const ip of records.a.get(t.target) ?? []) {
          const x = addressRR(owner, ip, ttl);
          if (x !== undefined) extra.push(x);
        }
        for (const ip of records.aaaa.get(t.target) ?? []) {
          const x = addressRR(owner, ip, ttl);
          if (x !== undefined) extra.push(x);
        }
      }
      srv = toRRSet(answers);
      srvAdditional = toRRSet(extra);
    }
    const node: ZoneNode = { a, aaaa, srv, srvAdditional };
    for (const set of [a, aaaa, srv]) {
      if (set !== undefined) {
        rrs += set.offsets.length - 1;
        digest.update(key).update(set.data);
      }
    }
    if (a === undefined && aaaa === undefined && srv === undefined) continue;
    nodes.set(key, node);
    // Every ancestor up to the apex exists (empty non-terminal, RFC 8020): NODATA, not NXDOMAIN.
    let parent = key;
    while (parent.length > apexKey.length) {
      parent = parent.slice(parent.charCodeAt(0) + 1);
      if (!nodes.has(parent)) nodes.set(parent, EMPTY_NODE);
    }
  }
  if (!nodes.has(apexKey)) nodes.set(apexKey, EMPTY_NODE);
  const rdata = soaRdata(soa, serial);
  const negTtl = Math.min(ttl, soa.minimum);
  digest.update(soaRdata(soa, 0));
  return {
    apexKey,
    apexWireLength: apexKey.length + 1,
    nodes,
    soaAnswer: rrWithRdata(QNAME_POINTER, TYPE.SOA, ttl, rdata),
    soaNegative: rrWithRdata(QNAME_POINTER, TYPE.SOA, negTtl, rdata),
    nsAnswer: rrWithRdata(QNAME_POINTER, TYPE.NS, ttl, encodeName(soa.mname)),
    serial,
    fingerprint: digest.digest('hex'),
    names: nodes.size,
    rrs,
  };
}

/** Returns the same zone with a new serial (SOA re-encoded), reusing every node. */
export function withSerial(zone: Zone, soa: SoaConfig, ttl: number, serial: number): Zone {
  const rdata = soaRdata(soa, serial);
  return {
    ...zone,
    serial,
    soaAnswer: rrWithRdata(QNAME_POINTER, TYPE.SOA, ttl, rdata),
    soaNegative: rrWithRdata(QNAME_POINTER, TYPE.SOA, Math.min(ttl, soa.minimum), rdata),
  };
}
