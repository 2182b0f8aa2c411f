import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';

export type AuthResult = { ok: true; key: string } | { ok: false; error: AppError };

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * ImageKit's server-side auth: HTTP Basic with the private key as user name. The password is ignored
 * (ImageKit's Node SDK sends `do_not_set`, `curl -u key:` sends none).
 */
export function authenticate(header: string | null | undefined, keys: readonly string[]): AuthResult {
  const match = header?.match(/^\s*Basic\s+([A-Za-z0-9+/=_-]*)\s*$/i);
  const decoded = match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : '';
  const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
  if (!user) {
    return { ok: false, error: new AppError('UNAUTHENTICATED', 'Your request does not contain private API key.', { parameter: 'Authorization' }) };
  }
  const given = digest(user);
  const found = keys.find((key) => timingSafeEqual(digest(key), given));
  if (!found) {
    return { ok: false, error: new AppError('FORBIDDEN', 'Your account cannot be authenticated.', { parameter: 'Authorization' }) };
  }
  return { ok: true, key: found };
}
