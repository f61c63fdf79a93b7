/**
 * The DNS and HTTP listeners of a running server, and how a reload moves them: a changed
 * listener is bound before the old one closes, so that no query is dropped; when the new address
 * needs the old one's port (127.0.0.1:53 -> 0.0.0.0:53), the old listener closes first and is
 * restored if the new one still cannot bind. The servers are made by injected factories, so the
 * moves are tested with fake servers (test/serve/listeners.test.ts).
 */
import type { HostPort } from '../config/index.js';
import type { Logger } from '../log.js';
import { bindProblem, bindProtocol, errnoCode, portHolder } from '../os-errors.js';
import { CliFailure } from '../cli/failure.js';

/** What a listener does. */
export interface Listener {
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The part of the config the listeners follow. */
export interface ListenConfig {
  readonly dns: { readonly listen: HostPort; readonly batchedUdp: boolean };
  readonly http: { readonly enabled: boolean; readonly listen: HostPort };
}

/** How listeners are made. */
export interface ListenerFactories<D extends Listener, H extends Listener> {
  readonly newDns: (address: HostPort, batchedUdp: boolean) => D;
  readonly newHttp: (address: HostPort) => H;
  /** A configured listen address as the address to bind (host names resolved). */
  readonly resolve: (address: HostPort) => Promise<HostPort>;
  readonly logger: Logger;
}

/** Listeners a reload bound anew (undefined: unchanged); `isOldClosed` when it had to go first. */
export interface Rebound<D, H> {
  readonly dns:
    { readonly server: D; readonly listen: HostPort; readonly isOldClosed: boolean } | undefined;
  readonly http:
    | {
        readonly server: H | undefined;
        readonly listen: HostPort | undefined;
        readonly isOldClosed: boolean;
      }
    | undefined;
}

/** How long the owner of a busy port is looked for in /proc before giving up on naming it. */
const PORT_HOLDER_TIMEOUT_MS = 1000;

/**
 * Starts a listener at start-up; a bind error (address in use, a privileged port, an address
 * not on this host) becomes one line naming the address, its config key and what to do.
 */
export async function startListener(
  start: () => Promise<void>,
  key: 'dns.listen' | 'http.listen',
  address: HostPort,
): Promise<void> {
  try {
    await start();
  } catch (err) {
    const protocol = key === 'http.listen' ? 'TCP' : bindProtocol(err);
    let holder: string | undefined;
    if (errnoCode(err) === 'EADDRINUSE') {
      const timeout = new Promise<undefined>((r) => {
        setTimeout(() => {
          r(undefined);
        }, PORT_HOLDER_TIMEOUT_MS).unref();
      });
      holder = await Promise.race([
        portHolder(address.port, protocol).catch(() => undefined),
        timeout,
      ]);
    }
    const line = bindProblem(
      err,
      { key, host: address.host, port: address.port, protocol },
      holder,
    );
    if (line === undefined) throw err;
    throw new CliFailure(`mesodns: ${line}`, { cause: err });
  }
}

function sameAddress(a: HostPort, b: HostPort): boolean {
  return a.host === b.host && a.port === b.port;
}

function isAddressInUse(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'EADDRINUSE';
}

/** A listener that failed half-way (UDP bound, TCP not) must not keep what it bound. */
async function startOrClose(server: Listener): Promise<void> {
  try {
    await server.start();
  } catch (err) {
    await server.close();
    throw err;
  }
}

/** The running listeners (see the module comment). */
export class Listeners<D extends Listener, H extends Listener> {
  readonly #make: ListenerFactories<D, H>;
  dns: D;
  /** The address the DNS listener is bound to. */
  listen: HostPort;
  http: H | undefined;
  httpListen: HostPort | undefined;

  /** Makes (does not start) the listeners for their resolved addresses. */
  constructor(
    make: ListenerFactories<D, H>,
    config: ListenConfig,
    listen: HostPort,
    httpListen: HostPort | undefined,
  ) {
    this.#make = make;
    this.listen = listen;
    this.dns = make.newDns(listen, config.dns.batchedUdp);
    this.httpListen = httpListen;
    this.http = httpListen === undefined ? undefined : make.newHttp(httpListen);
  }

  /**
   * Starts the listeners whose address changed in `next`, before the old ones close (see the
   * module comment). Throws, having closed what it bound and restored what it closed, when one
   * cannot bind.
   */
  async rebind(previous: ListenConfig, next: ListenConfig): Promise<Rebound<D, H>> {
    let dns: Rebound<D, H>['dns'];
    const undoDns = async (): Promise<void> => {
      if (dns === undefined) return;
      await dns.server.close();
      if (dns.isOldClosed) {
        this.dns = this.#make.newDns(this.listen, previous.dns.batchedUdp);
        await this.dns.start();
      }
    };
    if (
      !sameAddress(previous.dns.listen, next.dns.listen) ||
      previous.dns.batchedUdp !== next.dns.batchedUdp
    ) {
      dns = await this.#rebindDns(previous, next);
    }
    let http: Rebound<D, H>['http'];
    try {
      http = await this.#rebindHttp(previous, next);
    } catch (err) {
      await undoDns();
      throw err;
    }
    return { dns, http };
  }

  async #rebindDns(previous: ListenConfig, next: ListenConfig): Promise<Rebound<D, H>['dns']> {
    const address = await this.#make.resolve(next.dns.listen);
    const server = this.#make.newDns(address, next.dns.batchedUdp);
    try {
      await startOrClose(server);
      return { server, listen: address, isOldClosed: false };
    } catch (err) {
      if (!isAddressInUse(err) || address.port !== this.listen.port) throw err;
      this.#make.logger.warn(
        'the new DNS listener needs the port of the old one: closing the old listener first',
        {
          from: `${this.listen.host}:${String(this.listen.port)}`,
          to: `${address.host}:${String(address.port)}`,
        },
      );
      await this.dns.close();
      const retry = this.#make.newDns(address, next.dns.batchedUdp);
      try {
        await startOrClose(retry);
      } catch (again) {
        this.dns = this.#make.newDns(this.listen, previous.dns.batchedUdp);
        await this.dns.start();
        throw again;
      }
      return { server: retry, listen: address, isOldClosed: true };
    }
  }

  async #rebindHttp(previous: ListenConfig, next: ListenConfig): Promise<Rebound<D, H>['http']> {
    const wasOn = previous.http.enabled;
    const isOn = next.http.enabled;
    if (wasOn === isOn && (!isOn || sameAddress(previous.http.listen, next.http.listen))) {
      return undefined;
    }
    if (!isOn) return { server: undefined, listen: undefined, isOldClosed: false };
    const address = await this.#make.resolve(next.http.listen);
    const server = this.#make.newHttp(address);
    try {
      await server.start();
      return { server, listen: address, isOldClosed: false };
    } catch (err) {
      const old = this.http;
      const oldListen = this.httpListen;
      if (!isAddressInUse(err) || old === undefined || address.port !== oldListen?.port) throw err;
      await old.close();
      const retry = this.#make.newHttp(address);
      try {
        await retry.start();
      } catch (again) {
        this.http = this.#make.newHttp(oldListen);
        await this.http.start();
        throw again;
      }
      return { server: retry, listen: address, isOldClosed: true };
    }
  }

  /**
   * Takes the listeners a reload bound (commit): the old ones close once their queries are
   * done; resolves when they have.
   */
  async adopt(rebound: Rebound<D, H>): Promise<void> {
    const closing: Promise<void>[] = [];
    if (rebound.dns !== undefined) {
      const old = this.dns;
      this.dns = rebound.dns.server;
      this.listen = rebound.dns.listen;
      if (!rebound.dns.isOldClosed) closing.push(old.close());
    }
    if (rebound.http !== undefined) {
      const old = this.http;
      this.http = rebound.http.server;
      this.httpListen = rebound.http.listen;
      if (!rebound.http.isOldClosed && old !== undefined) closing.push(old.close());
    }
    await Promise.all(closing);
  }

  /** Closes both listeners. */
  async close(): Promise<void> {
    await Promise.all([this.dns.close(), this.http?.close()]);
  }
}
