import { hash } from 'node:crypto';

/** The z-base-32 alphabet (human-oriented base-32, as Mesos-DNS uses it). */
const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/**
 * Returns the 5-character task-id hash of Mesos-DNS: sha1 of the UTF-8 bytes, z-base-32 encoded,
 * first 5 characters (the top 25 bits of the digest). `test` gives `iffe9`.
 */
export function taskIdHash(taskId: string): string {
  const digest = hash('sha1', taskId, 'buffer');
  const top = digest.readUInt32BE(0);
  let out = '';
  for (let shift = 27; shift >= 7; shift -= 5) {
    out += ZBASE32.charAt((top >>> shift) & 0x1f);
  }
  return out;
}
