import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const KEY_FILE = 'private-key';

/**
 * The private keys requests must present. Configured keys win; otherwise the key stored in the data dir,
 * generated (and announced once through `announce`) on the first start.
 */
export function resolvePrivateKeys(configured: readonly string[], dataDir: string, announce: (key: string, file: string) => void): string[] {
  if (configured.length > 0) return [...configured];
  const file = path.join(dataDir, KEY_FILE);
  try {
    const stored = fs.readFileSync(file, 'utf8').trim();
    if (stored) return [stored];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = `private_${randomBytes(24).toString('base64url')}`;
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  announce(key, file);
  return [key];
}
