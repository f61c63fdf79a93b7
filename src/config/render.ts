/**
 * Rendering: a `Config` as the YAML file of docs/configuration.md (`mesodns convert-config`, the
 * HTTP API's `/config`), with optional comments above the document and above keys.
 */
import { Document, isMap, isScalar, visit } from 'yaml';
import type { Document as YamlDocument } from 'yaml';
import { formatDuration } from '../duration.js';
import { DEFAULT_UPSTREAM_PORT } from './defaults.js';
import type { Config, HostPort } from './types.js';
import { joinHostPort } from './values.js';

/** A listen address as the file writes it: `host:port`, `[v6]:port`. */
function formatListen(hp: HostPort): string {
  return joinHostPort(hp.host, hp.port);
}

/** An upstream as the file writes it: the port only when it is not 53. */
function formatUpstream(hp: HostPort): string {
  if (hp.port !== DEFAULT_UPSTREAM_PORT) return joinHostPort(hp.host, hp.port);
  return hp.host;
}

/** Comments for `configToYaml`: lines above the document, and lines above keys. */
export interface YamlComments {
  readonly header?: readonly string[];
  /** Dotted YAML key path (`forward.timeout`) -> comment lines placed above that key. */
  readonly keys?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Renders a `Config` as YAML in docs/configuration.md's layout (durations as `30s`, addresses as
 * `host:port`), for `mesodns convert-config`. `parseConfig` reads the result back to an equal
 * `Config`. Secrets are included: the output is the operator's own file. `comments` go above the
 * document and above keys; a key inside a one-line group (`dns.soa.minimum`) gets its comment
 * above the group, prefixed with its name.
 */
export function configToYaml(config: Config, comments: YamlComments = {}): string {
  const { mesos, records, dns, forward, transfer, http, log } = config;
  const doc = new Document({
    domain: config.domain,
    mesos: {
      masters: [...mesos.masters],
      zk: mesos.zk,
      stateFile: mesos.stateFile,
      mode: mesos.mode,
      refresh: formatDuration(mesos.refreshMs),
      timeout: formatDuration(mesos.timeoutMs),
      scheme: mesos.scheme,
      failover: {
        minRetained: mesos.failover.minRetained,
        maxHold: formatDuration(mesos.failover.maxHoldMs),
      },
      stream: {
        resync: formatDuration(mesos.stream.resyncMs),
        batch: formatDuration(mesos.stream.batchMs),
        missedHeartbeats: mesos.stream.missedHeartbeats,
      },
      auth: { ...mesos.auth },
      tls: { ...mesos.tls },
    },
    records: {
      ...records,
      ipSources: [...records.ipSources],
      reverse: { enabled: records.reverse.enabled, zones: [...records.reverse.zones] },
    },
    dns: {
      listen: formatListen(dns.listen),
      recursionAvailable: dns.recursionAvailable,
      batchedUdp: dns.batchedUdp,
      tcp: {
        maxConnections: dns.tcp.maxConnections,
        maxConnectionsPerClient: dns.tcp.maxConnectionsPerClient,
        idleTimeout: formatDuration(dns.tcp.idleTimeoutMs),
        ioTimeout: formatDuration(dns.tcp.ioTimeoutMs),
      },
      rrl: { ...dns.rrl, exempt: [...dns.rrl.exempt] },
      soa: { ...dns.soa },
    },
    forward: {
      enabled: forward.enabled,
      resolvers: forward.resolvers.map(formatUpstream),
      zones: Object.fromEntries(
        Object.entries(forward.zones).map(([zone, ups]) => [zone, ups.map(formatUpstream)]),
      ),
      timeout: formatDuration(forward.timeoutMs),
      policy: forward.policy,
      maxConcurrent: forward.maxConcurrent,
      maxConcurrentPerClient: forward.maxConcurrentPerClient,
      allowFrom: [...forward.allowFrom],
      tcpFallback: forward.tcpFallback,
      maxFails: forward.maxFails,
      healthCheck: formatDuration(forward.healthCheckMs),
      cache: { ...forward.cache },
    },
    transfer: {
      allow: [...transfer.allow],
      notify: transfer.notify.map(formatUpstream),
      tsig: { keys: transfer.tsig.keys.map((k) => ({ ...k })) },
      journal: transfer.journal,
      maxConcurrent: transfer.maxConcurrent,
    },
    http: {
      enabled: http.enabled,
      listen: formatListen(http.listen),
      readyMaxAge: formatDuration(http.readyMaxAgeMs),
      maxConnections: http.maxConnections,
    },
    log: { ...log },
  });
  // Short lists and the auth/tls/soa/tcp groups read best on one line, as in docs/configuration.md.
  visit(doc, {
    Seq(_, node) {
      node.flow = true;
    },
    Pair(_, pair) {
      if (
        isScalar(pair.key) &&
        ['auth', 'tls', 'soa', 'failover', 'stream', 'tcp', 'rrl', 'reverse'].includes(
          String(pair.key.value),
        ) &&
        isMap(pair.value)
      ) {
        pair.value.flow = true;
      }
    },
  });
  addComments(doc, comments);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function commentText(lines: readonly string[]): string {
  return lines.map((line) => ` ${line}`).join('\n');
}

/** Places `comments` on the document built by `configToYaml` (block maps of scalar keys). */
function addComments(doc: YamlDocument, comments: YamlComments): void {
  if (comments.header !== undefined && comments.header.length > 0) {
    doc.commentBefore = commentText(comments.header);
  }
  for (const [dotted, lines] of comments.keys ?? []) {
    const path = dotted.split('.');
    let map: unknown = doc.contents;
    let target: { key: unknown } | undefined;
    let rest: string[] = [];
    for (const [i, seg] of path.entries()) {
      if (!isMap(map) || map.flow === true) {
        rest = path.slice(i);
        break;
      }
      const pair = map.items.find((p) => isScalar(p.key) && p.key.value === seg);
      if (pair === undefined) break;
      target = pair;
      map = pair.value;
    }
    const key = target?.key;
    if (!isScalar(key)) {
      doc.commentBefore = [doc.commentBefore, commentText(lines)].filter(Boolean).join('\n');
      continue;
    }
    const prefix = rest.length > 0 ? `${rest.join('.')}: ` : '';
    const text = commentText(lines.map((line, i) => (i === 0 ? prefix + line : line)));
    key.commentBefore = key.commentBefore === undefined ? text : `${key.commentBefore}\n${text}`;
  }
}
