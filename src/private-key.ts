import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PRIVATE_FILE_MODE, tightenMode } from './storage/private-files.js';

export const KEY_FILE = 'private-key';
export const WEBHOOK_SECRET_FILE = 'webhook-secret';
export const PUBLIC_KEY_FILE = 'public-key';

/**
 * The private keys requests must present. Configured keys win; otherwise the key stored in the data dir,
 * generated (and announced once through `announce`) on the first start.
 */
export function resolvePrivateKeys(configured: readonly string[], dataDir: string, announce: (key: string, file: string) => void): string[] {
  if (configured.length > 0) return [...configured];
  return [loadOrCreateSecret(path.join(dataDir, KEY_FILE), () => `private_${randomBytes(24).toString('base64url')}`, announce)];
}

/**
 * The public keys client-side (browser) uploads may name: configured ones win; otherwise the key stored in the data
 * dir beside the private key, generated (and announced once) on the first start. It is not a secret: it only says
 * which account a signed upload is for.
 */
export function resolvePublicKeys(configured: readonly string[], dataDir: string, announce: (key: string, file: string) => void): string[] {
  if (configured.length > 0) return [...configured];
  return [loadOrCreateSecret(path.join(dataDir, PUBLIC_KEY_FILE), () => `public_${randomBytes(24).toString('base64url')}`, announce)];
}

/** The webhook signing secret: configured, or generated once and kept in the data dir. */
export function resolveWebhookSecret(configured: string | undefined, dataDir: string, announce: (secret: string, file: string) => void): string {
  return configured ?? loadOrCreateSecret(path.join(dataDir, WEBHOOK_SECRET_FILE), () => `whsec_${randomBytes(24).toString('base64url')}`, announce);
}

function loadOrCreateSecret(file: string, create: () => string, announce: (secret: string, file: string) => void): string {
  try {
    const stored = fs.readFileSync(file, 'utf8').trim();
    tightenMode(file);
    if (stored) return stored;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = create();
  fs.writeFileSync(file, `${secret}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  announce(secret, file);
  return secret;
}
