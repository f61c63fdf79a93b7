/** The `transfer` section: who may transfer the zone, whom to notify, TSIG keys, the journal. */
import { DEFAULT_CONFIG } from '../defaults.js';
import { TSIG_ALGORITHM_NAMES } from '../types.js';
import type { Config, TsigKeyConfig } from '../types.js';
import { domainProblem, normalizeDomain, parseCidr, parseUpstream } from '../values.js';
import { hostPortKey, includes } from './fields.js';
import type { Fields } from './fields.js';

/** A base64 secret: the alphabet, padding at the end only, at least one byte. */
const BASE64_RE =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;

/** Why `text` is not a usable base64 secret, or undefined. */
export function secretProblem(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact === '') return 'is empty';
  if (!BASE64_RE.test(compact)) return 'must be base64 (as tsig-keygen and keymgr print it)';
  return undefined;
}

/** Reads `transfer`; every key must have exactly one of `secret` and `secretFile`. */
export function buildTransfer(f: Fields): Config['transfer'] {
  const D = DEFAULT_CONFIG.transfer;
  const { r, get, int, list, items } = f;

  const keys: TsigKeyConfig[] = [];
  const names = new Map<string, number>();
  list(['transfer', 'tsig', 'keys']).forEach((_, index) => {
    const at = (key: string): (string | number)[] => ['transfer', 'tsig', 'keys', index, key];
    if (r.isFlagged(['transfer', 'tsig', 'keys', index])) return;
    const rawName = get(at('name'));
    if (typeof rawName !== 'string') return;
    const name = normalizeDomain(rawName);
    const bad = domainProblem(name);
    if (bad !== undefined) {
      r.error(at('name'), bad);
      return;
    }
    const first = names.get(name);
    if (first !== undefined) {
      r.error(at('name'), `duplicate of ${r.display(['transfer', 'tsig', 'keys', first, 'name'])}`);
      return;
    }
    names.set(name, index);
    const algorithm = get(at('algorithm'));
    const secret = f.str(at('secret'), '');
    const secretFile = f.str(at('secretFile'), '');
    if (secret !== '' && secretFile !== '') {
      r.error(
        at('secretFile'),
        `set either ${r.display(at('secret'))} or ${r.display(at('secretFile'))}, not both`,
      );
    } else if (secret === '' && secretFile === '') {
      r.error(
        at('name'),
        `key '${name}' needs ${r.display(at('secret'))} or ${r.display(at('secretFile'))}`,
      );
    } else if (secret !== '') {
      const problem = secretProblem(secret);
      if (problem !== undefined) r.error(at('secret'), problem);
    }
    keys.push({
      name: `${name}.`,
      algorithm: includes(TSIG_ALGORITHM_NAMES, algorithm) ? algorithm : 'hmac-sha256',
      secret,
      secretFile,
    });
  });

  return {
    allow: items(['transfer', 'allow'], parseCidr, (c) => c.toLowerCase()),
    notify: items(['transfer', 'notify'], parseUpstream, hostPortKey),
    tsig: { keys },
    journal: int(['transfer', 'journal'], D.journal),
    maxConcurrent: int(['transfer', 'maxConcurrent'], D.maxConcurrent),
  };
}
