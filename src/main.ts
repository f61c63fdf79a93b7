#!/usr/bin/env node
/**
 * Composition root and command line: loads the config, builds the pipeline (state source ->
 * loader -> store -> DNS/HTTP), handles signals. The only module that reads argv/env or exits.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from './clock.js';
import type { Config, HostPort } from './config/index.js';
import {
  checkConfig,
  configToYaml,
  DEFAULT_CONFIG,
  describeConfigError,
  loadConfig,
} from './config/index.js';
import type { DnsSettings } from './dns/index.js';
import { DnsServer, Forwarder, excludeSelf, parseResolvConf } from './dns/index.js';
import { ConfigError, MesosDnsError } from './errors.js';
import { HttpApi } from './http/index.js';
import type { Logger } from './log.js';
import { createLogger } from './log.js';
import { Loader } from './loader.js';
import type { StateSource } from './mesos/index.js';
import {
  MasterPoller,
  StateFileSource,
  parseState,
  systemLookup,
  hostnamesOf,
  resolveHosts,
} from './mesos/index.js';
import { generateRecords, toZoneFile } from './records/index.js';
import { ZoneStore } from './store.js';
import { masterHosts } from './loader.js';

const VERSION = readVersion();

function readVersion(): string {
  try {
    const pkg: unknown = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    );
    if (
      typeof pkg === 'object' &&
      pkg !== null &&
      'version' in pkg &&
      typeof pkg.version === 'string'
    ) {
      return pkg.version;
    }
  } catch {
    // Fall through.
  }
  return 'dev';
}

const USAGE = `mesodns ${VERSION}: service-discovery DNS for Apache Mesos

usage:
  mesodns [serve] --config FILE        run the server (FILE: YAML, or a Mesos-DNS config.json)
  mesodns check-config FILE            validate FILE, print every problem, exit 1 on error
  mesodns convert-config FILE.json     print the YAML equivalent of a Mesos-DNS config.json
  mesodns records --state STATE.json [--config FILE]
                                       print the records a state document produces
  mesodns --version | --help`;

/** Addresses for the SOA-mname record N1: the listener, or every non-loopback address for a wildcard. */
function listenerAddresses(listen: HostPort): string[] {
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

async function resolveListen(listen: HostPort): Promise<HostPort> {
  if (isIP(listen.host) !== 0) return listen;
  const { address } = await lookup(listen.host);
  return { host: address, port: listen.port };
}

async function upstreams(config: Config, listen: HostPort): Promise<readonly HostPort[]> {
  if (config.forward.resolvers.length > 0) return config.forward.resolvers;
  let text = '';
  try {
    text = await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    return [];
  }
  return excludeSelf(
    parseResolvConf(text),
    listen,
    listenerAddresses({ host: '0.0.0.0', port: 0 }),
  );
}

function makeSource(
  config: Config,
  configFile: string,
  loader: Loader,
  logger: Logger,
): StateSource {
  const m = config.mesos;
  if (m.stateFile !== '') {
    return new StateFileSource({
      path: resolve(dirname(configFile), m.stateFile),
      checkMs: Math.min(m.refreshMs, 1000),
      listener: loader,
      clock: systemClock,
    });
  }
  if (m.masters.length > 0) {
    const secret =
      m.auth.secretFile !== '' ? readFileSync(m.auth.secretFile, 'utf8').trim() : m.auth.secret;
    return new MasterPoller({
      masters: m.masters,
      refreshMs: m.refreshMs,
      timeoutMs: m.timeoutMs,
      listener: loader,
      logger,
      clock: systemClock,
      auth: { principal: m.auth.principal, secret },
    });
  }
  throw new MesosDnsError(
    'ERR_CONFIG_INVALID',
    'mesos.zk: ZooKeeper leader detection is not available in this version; use mesos.masters',
  );
}

function sourceKey(config: Config): string {
  return JSON.stringify(config.mesos);
}

async function serve(configFile: string): Promise<number> {
  let config = loadConfig(configFile);
  const logger = createLogger(config.log);
  const store = new ZoneStore();
  const listen = await resolveListen(config.dns.listen);
  const nsIps = listenerAddresses(listen);
  const loader = new Loader({
    config: () => config,
    store,
    logger,
    clock: systemClock,
    lookup: systemLookup,
    nsIps: () => nsIps,
  });
  const makeSettings = async (c: Config): Promise<DnsSettings> => {
    let forwarder: Forwarder | undefined;
    if (c.forward.enabled) {
      const ups = await upstreams(c, listen);
      if (ups.length === 0) logger.warn('forwarding enabled but no upstream resolvers found');
      forwarder = new Forwarder({
        resolvers: ups,
        zones: c.forward.zones,
        timeoutMs: c.forward.timeoutMs,
        logger,
      });
    }
    return { domain: c.domain, recursionAvailable: c.dns.recursionAvailable, forwarder };
  };
  let settings = await makeSettings(config);
  const dns = new DnsServer({ listen, settings, zone: () => store.zone(), logger });
  let source = makeSource(config, configFile, loader, logger);
  const http = config.http.enabled
    ? new HttpApi({
        listen: await resolveListen(config.http.listen),
        store,
        config: () => config,
        loader,
        version: VERSION,
        logger,
      })
    : undefined;
  await dns.start();
  await http?.start();
  logger.info('mesodns started', {
    version: VERSION,
    dns: `${listen.host}:${String(dns.port)}`,
    http:
      http === undefined ? 'off' : `${config.http.listen.host}:${String(config.http.listen.port)}`,
    domain: config.domain,
  });
  source.start();

  let reloading = false;
  const reload = async (): Promise<void> => {
    if (reloading) return;
    reloading = true;
    try {
      const next = loadConfig(configFile);
      const previous = config;
      const oldForwarder = settings.forwarder;
      config = next;
      settings = await makeSettings(next);
      dns.update(settings);
      // Let queries in flight on the old forwarder finish before closing it.
      setTimeout(() => oldForwarder?.close(), previous.forward.timeoutMs + 100).unref();
      if (sourceKey(previous) !== sourceKey(next)) {
        await source.close();
        source = makeSource(next, configFile, loader, logger);
        source.start();
      } else {
        loader.rebuild();
        source.reloadNow();
      }
      if (
        JSON.stringify(previous.dns.listen) !== JSON.stringify(next.dns.listen) ||
        JSON.stringify(previous.http) !== JSON.stringify(next.http)
      ) {
        logger.warn('listener changes take effect after a restart');
      }
      logger.info('configuration reloaded', { file: configFile });
    } catch (err) {
      logger.error('configuration rejected; keeping the running one', {
        error: err instanceof Error ? err.message : String(err),
      });
    } finally {
      reloading = false;
    }
  };

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      void (async () => {
        await source.close();
        await Promise.all([dns.close(), http?.close()]);
        settings.forwarder?.close();
        resolveExit(0);
      })();
    };
    process.on('SIGTERM', () => {
      stop('SIGTERM');
    });
    process.on('SIGINT', () => {
      stop('SIGINT');
    });
    process.on('SIGHUP', () => {
      void reload();
    });
  });
}

async function printRecords(stateFile: string, configFile: string | undefined): Promise<number> {
  const config = configFile === undefined ? DEFAULT_CONFIG : loadConfig(configFile);
  const text = await readFile(stateFile, 'utf8');
  const parsed = parseState(JSON.parse(text) as unknown);
  const masters = masterHosts(config);
  const hostIps = await resolveHosts(hostnamesOf(parsed.state, masters), systemLookup, 2000);
  const records = generateRecords(parsed.state, {
    domain: config.domain,
    ipSources: config.records.ipSources,
    enforceRFC952: config.records.enforceRFC952,
    nsName: config.dns.soa.mname,
    nsIps: listenerAddresses(config.dns.listen),
    masters,
    hostIps,
  });
  const lines = toZoneFile(records, {
    ttl: config.records.ttl,
    srvWeight: config.records.srvWeight,
  });
  process.stdout.write(lines.join('\n') + (lines.length > 0 ? '\n' : ''));
  const skipped = parsed.report.skippedTasks + records.stats.skippedTasks;
  if (skipped > 0) process.stderr.write(`${String(skipped)} task(s) skipped because of bad data\n`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      state: { type: 'string' },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.version === true) {
    process.stdout.write(`mesodns ${VERSION}\n`);
    return 0;
  }
  if (values.help === true) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const [command = 'serve', arg] = positionals;
  switch (command) {
    case 'serve': {
      const file = values.config ?? arg;
      if (file === undefined) break;
      return serve(file);
    }
    case 'check-config': {
      const file = arg ?? values.config;
      if (file === undefined) break;
      const result = checkConfig(file);
      for (const m of result.messages) process.stderr.write(m + '\n');
      if (result.ok) process.stdout.write(`${file}: OK\n`);
      return result.ok ? 0 : 1;
    }
    case 'convert-config': {
      const file = arg ?? values.config;
      if (file === undefined) break;
      process.stdout.write(configToYaml(loadConfig(file)));
      return 0;
    }
    case 'records': {
      const state = values.state ?? arg;
      if (state === undefined) break;
      return printRecords(state, values.config);
    }
    default:
      process.stderr.write(`unknown command: ${command}\n`);
  }
  process.stderr.write(USAGE + '\n');
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError)
      process.stderr.write(describeConfigError(err).join('\n') + '\n');
    else if (err instanceof MesosDnsError) process.stderr.write(`mesodns: ${err.message}\n`);
    else
      process.stderr.write(
        `mesodns: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    process.exit(1);
  },
);
