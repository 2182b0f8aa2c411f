import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AppError, badRequest } from '../errors.js';

/**
 * ImageKit's client-side (browser) upload authentication: instead of Basic auth, the form carries `publicKey`,
 * `token`, `expire` and `signature` = lowercase hex HMAC-SHA1(privateKey, token + expire), what the SDKs'
 * `getAuthenticationParameters()` compute on the customer's server. `expire` is a Unix time in seconds, in the
 * future and at most an hour ahead; each token is accepted once.
 */
export const CLIENT_AUTH_FIELDS = ['publicKey', 'signature', 'expire', 'token'] as const;

/** The longest token accepted (ImageKit advises a UUID: 36 characters). */
export const MAX_TOKEN_LENGTH = 256;

/** How far ahead `expire` may be. */
export const MAX_EXPIRE_AHEAD_S = 3600;

export interface ClientAuthDeps {
  publicKeys: readonly string[];
  privateKeys: readonly string[];
  /** Records the token as used until `expiresAtMs`: true when it was new. */
  useToken(token: string, expiresAtMs: number): Promise<boolean>;
  /** Epoch milliseconds. */
  now(): number;
}

/** Whether the form carries any of the client-side authentication fields. */
export const hasClientAuthFields = (fields: ReadonlyMap<string, string>) => CLIENT_AUTH_FIELDS.some((name) => fields.has(name));

/** A form that authenticates both ways: refused, as ImageKit refuses it. */
export const bothAuthMethods = () =>
  badRequest('signature', 'Your request contains both signature and basic auth parameter. Use only one method, you might be exposing your private API key.');

const invalidExpire = () =>
  badRequest('expire', 'Your request contains invalid expire parameter. Expire parameter should be a Unix time in less than 1 hour into the future.');

const digest = (value: string) => createHash('sha256').update(value).digest();
const sameText = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** `signature` for `token` and `expire` under `privateKey`, as ImageKit's SDKs compute it. */
export const signUploadToken = (privateKey: string, token: string, expire: string | number) => createHmac('sha1', privateKey).update(`${token}${expire}`).digest('hex');

/**
 * Checks `expire` without consuming anything: decimal Unix seconds, after `nowMs` and at most an hour after it.
 * @returns expire in epoch milliseconds
 * @throws BAD_REQUEST (expire)
 */
export function parseExpire(raw: string, nowMs: number): number {
  if (!/^\d{1,12}$/.test(raw.trim())) throw invalidExpire();
  const expireMs = Number(raw.trim()) * 1000;
  if (expireMs <= nowMs || expireMs > nowMs + MAX_EXPIRE_AHEAD_S * 1000) throw invalidExpire();
  return expireMs;
}

/**
 * Authenticates a form by its client-side fields: the public key, the expiry, the signature under one of the private
 * keys, and last the token, which is used up (even if the upload then fails, as on ImageKit).
 * @throws AppError: UNAUTHENTICATED (401) when the form has none of the fields; BAD_REQUEST naming the missing or
 *   invalid field otherwise.
 */
export async function verifyClientAuth(fields: ReadonlyMap<string, string>, deps: ClientAuthDeps): Promise<void> {
  if (!hasClientAuthFields(fields)) {
    throw new AppError('UNAUTHENTICATED', 'Your request does not contain private API key.', { parameter: 'Authorization' });
  }
  for (const name of CLIENT_AUTH_FIELDS) {
    if (!fields.get(name)) throw badRequest(name, `Your request is missing ${name} parameter.`);
  }
  const publicKey = fields.get('publicKey') as string;
  if (!deps.publicKeys.some((key) => sameText(key, publicKey))) throw badRequest('publicKey', 'Your request contains invalid publicKey parameter.');
  const expire = fields.get('expire') as string;
  const expireMs = parseExpire(expire, deps.now());
  const token = fields.get('token') as string;
  if (token.length > MAX_TOKEN_LENGTH) throw badRequest('token', `Your request contains invalid token parameter. It must be at most ${MAX_TOKEN_LENGTH} characters.`);
  const signature = (fields.get('signature') as string).trim().toLowerCase();
  if (!deps.privateKeys.some((key) => sameText(signUploadToken(key, token, expire.trim()), signature))) {
    throw badRequest('signature', 'Your request contains invalid signature parameter.');
  }
  if (!(await deps.useToken(token, expireMs))) {
    throw badRequest('token', 'Your request contains invalid token parameter. The token was already used: every upload needs new authentication parameters.');
  }
}
