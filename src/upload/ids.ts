import { randomBytes } from 'node:crypto';

/** A Mongo-style 24-hex id (4 bytes of seconds, 8 random bytes), as ImageKit's fileId and versionId look. */
export function createObjectId(now = Date.now()): string {
  const time = Math.floor(now / 1000).toString(16).padStart(8, '0');
  return time + randomBytes(8).toString('hex');
}

export const isObjectId = (id: string): boolean => /^[0-9a-f]{24}$/.test(id);

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** The random part ImageKit appends with `useUniqueFileName`: 9 characters of `[A-Za-z0-9_-]`. */
export function createUniqueSuffix(length = 9): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += SUFFIX_ALPHABET[b & 63];
  return out;
}
