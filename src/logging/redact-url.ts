/** Query parameters whose values grant access: ImageKit's URL signature and expiry, and generic credentials. */
export const SECRET_QUERY_PARAMS: ReadonlySet<string> = new Set(['ik-s', 'ik-t', 'signature', 'token', 'key']);

/** What replaces a secret in a logged URL. */
export const REDACTED = '[redacted]';

/** A stream file's path carries its access pass (`ik-abs/<versionId>/<pass>/<name>`): the pass is a capability. */
const STREAM_PASS = /(\/ik-abs\/[^/?#]+\/)[^/?#]+/g;

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/**
 * A request target (path and query) safe to log: the values of {@link SECRET_QUERY_PARAMS} (matched by decoded,
 * case-insensitive name) and the access pass of stream-file paths become `[redacted]`; everything else is kept
 * byte for byte. Pure.
 * @category Logging
 */
export function redactUrl(target: string): string {
  const q = target.indexOf('?');
  const path = (q < 0 ? target : target.slice(0, q)).replace(STREAM_PASS, `$1${REDACTED}`);
  if (q < 0) return path;
  const query = target
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_QUERY_PARAMS.has(decodeName(name)) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${path}?${query}`;
}
