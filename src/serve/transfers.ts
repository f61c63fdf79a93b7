/**
 * The zone transfer settings a config gives (`transfer.*`): the clients allowed, and the TSIG
 * keyring with each secret read from the config or its `secretFile` (relative to the config
 * file) and decoded. Read at start and at every reload, so that a rotated key file is picked up
 * by a SIGHUP; a key that cannot be read fails the start or rejects the reload.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { secretProblem } from '../config/index.js';
import type { NotifySettings, TransferSettings, TsigKey } from '../dns/index.js';
import { Acl, keyring } from '../dns/index.js';

/** What `transferSettings` gives: the transfer service's and the notifier's settings. */
export interface TransferSetup {
  readonly transfers: TransferSettings;
  readonly notify: NotifySettings;
}

/** The transfer settings of `config`, read from `configFile`'s directory. Throws on a bad key. */
export function transferSettings(config: Config, configFile: string): TransferSetup {
  const keys: TsigKey[] = config.transfer.tsig.keys.map((k, index) => {
    const where = `transfer.tsig.keys[${String(index)}]`;
    let text = k.secret;
    if (k.secretFile !== '') {
      const file = resolve(dirname(configFile), k.secretFile);
      try {
        text = readFileSync(file, 'utf8').trim();
      } catch (err) {
        throw new Error(
          `${where}.secretFile: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      const problem = secretProblem(text);
      if (problem !== undefined) throw new Error(`${where}.secretFile: ${file} ${problem}`);
    }
    return {
      name: k.name,
      algorithm: k.algorithm,
      secret: Buffer.from(text.replace(/\s+/g, ''), 'base64'),
    };
  });
  return {
    transfers: {
      allow: new Acl(config.transfer.allow),
      keys: keyring(keys),
      maxConcurrent: config.transfer.maxConcurrent,
    },
    // NOTIFY is signed with the first key (secondaries verify it with the key they transfer with).
    notify: { targets: config.transfer.notify, key: keys[0] },
  };
}
