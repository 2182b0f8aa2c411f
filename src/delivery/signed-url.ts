import { createHmac, timingSafeEqual } from 'node:crypto';

/** ImageKit signs URLs without an expiry with this constant in place of the timestamp. */
const NO_EXPIRY = '9999999999';

/**
 * ImageKit's URL signature: HMAC-SHA1 (hex) with the private key over the URL after `<urlEndpoint>/`, with the
 * expiry (unix seconds, or 9999999999) appended; `ik-t` (when it expires) and `ik-s` are then added as query params.
 * @param rest the URL after the endpoint and its slash, e.g. `tr:w-100/folder/a.jpg` or `a.jpg?tr=w-100`.
 */
export function signUrl(urlEndpoint: string, rest: string, privateKey: string, expiresAt?: number): string {
  const expiry = expiresAt === undefined ? NO_EXPIRY : String(expiresAt);
  if (!isWellFormedExpiry(expiry)) throw new RangeError(`A signed URL's expiry must be unix seconds in 10 digits, not ${expiry}.`);
  const signature = createHmac('sha1', privateKey).update(rest + expiry).digest('hex');
  const params = `${expiresAt === undefined ? '' : `ik-t=${expiry}&`}ik-s=${signature}`;
  return `${urlEndpoint}/${rest}${rest.includes('?') ? '&' : '?'}${params}`;
}

export type SignatureCheck = 'unsigned' | 'valid' | 'expired' | 'invalid' | 'malformed-expiry';

/**
 * `ik-t` as ImageKit's SDKs write it: unix seconds in exactly 10 digits. The signature covers `url + expiry` with
 * no separator, so a longer `ik-t` could take digits from the URL's end and push the expiry centuries ahead.
 */
export const isWellFormedExpiry = (expiry: string) => /^\d{10}$/.test(expiry);

/**
 * Checks the `ik-s` / `ik-t` of a request URL (`rest` as in `signUrl`, with the signature params still in it)
 * against any of the private keys. The other query params keep their order and encoding, as signed.
 */
export function checkSignedUrl(rest: string, privateKeys: readonly string[], nowSeconds = Math.floor(Date.now() / 1000)): SignatureCheck {
  const q = rest.indexOf('?');
  if (q < 0) return 'unsigned';
  const params = rest.slice(q + 1).split('&');
  const signature = params.find((p) => p.startsWith('ik-s='))?.slice(5);
  if (!signature) return 'unsigned';
  const expiry = params.find((p) => p.startsWith('ik-t='))?.slice(5);
  if (expiry !== undefined && !isWellFormedExpiry(expiry)) return 'malformed-expiry';
  const others = params.filter((p) => !p.startsWith('ik-s=') && !p.startsWith('ik-t='));
  const signed = rest.slice(0, q) + (others.length ? `?${others.join('&')}` : '');
  const given = Buffer.from(signature.toLowerCase());
  const ok = privateKeys.some((key) => {
    const expected = Buffer.from(createHmac('sha1', key).update(signed + (expiry ?? NO_EXPIRY)).digest('hex'));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!ok) return 'invalid';
  if (expiry !== undefined && !(Number(expiry) > nowSeconds)) return 'expired';
  return 'valid';
}
