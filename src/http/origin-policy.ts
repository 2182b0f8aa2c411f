import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '../errors.js';

/**
 * Which browser origins may call the API. Browsers attach cached Basic credentials to requests from any
 * page, so a request a browser marks as coming from another origin is refused unless that origin was
 * opted in with `STOWAGE_CORS_ORIGINS`. Requests without `Origin` (curl, SDKs, servers) are not a browser's.
 */
export interface OriginPolicy {
  /** Why this request must be refused as cross-origin, or undefined when it may proceed. */
  refusal(headers: IncomingHttpHeaders): AppError | undefined;
  /** The CORS headers for an opted-in origin (none for the server's own origin, nor for a foreign one). */
  corsHeaders(headers: IncomingHttpHeaders): Record<string, string>;
  /** The answer to a CORS preflight (`OPTIONS`) from an opted-in origin. */
  preflightHeaders(headers: IncomingHttpHeaders): Record<string, string>;
}

export interface OriginPolicyOptions {
  /** STOWAGE_URL_ENDPOINT: the public origin when a proxy rewrites the Host header. */
  urlEndpoint: string;
  /** Exact origins (`https://app.example.com`) allowed to call the API with credentials. */
  corsOrigins: readonly string[];
}

/** Sec-Fetch-Site values of requests a page on this very origin (or the user, typing the URL) made. */
const SAME_ORIGIN_FETCH_SITES = new Set(['same-origin', 'none']);
const PREFLIGHT_MAX_AGE_S = 600;

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.trim();

/** `null`, an opaque origin or garbage yields undefined. */
function hostOf(origin: string): { scheme: string; host: string } | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? { scheme: url.protocol, host: url.host } : undefined;
  } catch {
    return undefined;
  }
}

/** The Host header names the same host and port as the Origin (default ports normalised on both sides). */
function isHostOrigin(origin: string, hostHeader: string | undefined): boolean {
  const parsed = hostOf(origin);
  if (!parsed || !hostHeader) return false;
  // The scheme is not compared: behind a TLS-terminating proxy the Host is the same but the origin is https.
  // A page reached through DNS rebinding passes this, but browsers keep credentials per origin: it has none.
  const host = hostOf(`${parsed.scheme}//${hostHeader}`)?.host;
  return host !== undefined && host === parsed.host;
}

export function createOriginPolicy(options: OriginPolicyOptions): OriginPolicy {
  const endpointOrigin = new URL(options.urlEndpoint).origin;
  const allowed = new Set(options.corsOrigins.map((origin) => origin.toLowerCase()));
  const isOwn = (origin: string, headers: IncomingHttpHeaders) => origin.toLowerCase() === endpointOrigin || isHostOrigin(origin, single(headers.host));
  const isOptedIn = (origin: string) => allowed.has(origin.toLowerCase());

  const corsHeaders = (headers: IncomingHttpHeaders): Record<string, string> => {
    const origin = single(headers.origin);
    const base = { vary: 'Origin' };
    if (origin === undefined || !isOptedIn(origin) || isOwn(origin, headers)) return base;
    return {
      ...base,
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-request-id, x-ik-requestid',
    };
  };

  return {
    corsHeaders,
    refusal(headers) {
      const origin = single(headers.origin);
      if (origin !== undefined) {
        if (isOwn(origin, headers) || isOptedIn(origin)) return undefined;
        return new AppError(
          'CROSS_ORIGIN_REQUEST_REFUSED',
          `Cross-origin request refused: the Origin header "${origin}" is neither this server's origin (${endpointOrigin}) nor listed in STOWAGE_CORS_ORIGINS.`,
          { parameter: 'Origin', details: { origin } },
        );
      }
      const site = single(headers['sec-fetch-site'])?.toLowerCase();
      if (site === undefined || SAME_ORIGIN_FETCH_SITES.has(site)) return undefined;
      return new AppError(
        'CROSS_ORIGIN_REQUEST_REFUSED',
        `Cross-site request refused: the Sec-Fetch-Site header is "${site}" and the request has no Origin header; browsers may call the API only from this server's origin (${endpointOrigin}) or one listed in STOWAGE_CORS_ORIGINS.`,
        { parameter: 'Sec-Fetch-Site', details: { secFetchSite: site } },
      );
    },
    preflightHeaders(headers) {
      const cors = corsHeaders(headers);
      if (!cors['access-control-allow-origin']) return cors;
      const requested = single(headers['access-control-request-headers']);
      return {
        ...cors,
        vary: 'Origin, Access-Control-Request-Headers',
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        ...(requested ? { 'access-control-allow-headers': requested } : {}),
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
      };
    },
  };
}

/**
 * A `STOWAGE_CORS_ORIGINS` entry as the origin browsers send (`https://app.example.com`), or undefined when
 * it is not a bare http(s) origin (a path, query, credentials or another scheme).
 */
export function toBareOrigin(entry: string): string | undefined {
  try {
    const url = new URL(entry);
    const bare = (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password && url.pathname === '/' && !url.search && !url.hash;
    return bare && /^https?:\/\/[^/?#]+\/?$/i.test(entry) ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
