import type { Readable } from 'node:stream';
import got, { RequestError } from 'got';
import { AppError, fileTooLarge } from '../errors.js';
import { type AddressAllowlist, BlockedAddressError, createGuardedAgents } from './ip-guard.js';

export interface UrlFetchOptions {
  /** How long to wait for the response headers (ImageKit: 8 s). */
  timeoutMs: number;
  maxRedirects: number;
  allowlist: AddressAllowlist;
  /** A Content-Length above this fails at once, before any byte of the body is read. */
  maxBytes: number;
}

export interface FetchedBody {
  stream: Readable;
  /** The Content-Length header, when the server sent one. */
  declaredSize: number | undefined;
}

const BODY_IDLE_TIMEOUT_MS = 30_000;

const downloadFailed = (url: string, why: string, cause?: unknown) =>
  new AppError('FILE_DOWNLOAD_FAILED', `Your request contains invalid file parameter. The file could not be downloaded from ${url}: ${why}`, {
    parameter: 'file',
    details: { url },
    cause,
  });

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof BlockedAddressError) return error.message;
  if (error instanceof RequestError) {
    if (error.cause instanceof BlockedAddressError) return error.cause.message;
    if (error.code === 'ETIMEDOUT') return `no response within ${timeoutMs} ms.`;
    if (error.code === 'ERR_TOO_MANY_REDIRECTS') return 'it redirected too many times.';
    if (error.code === 'ENOTFOUND') return 'the host name does not resolve.';
    if (error.code === 'ECONNREFUSED') return 'the connection was refused.';
    return `${error.code ?? 'request error'}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts downloading `url` and resolves once 2xx response headers arrived, with the body still unread.
 * Connections are only made to addresses the allow-list permits (checked at connect time, on every redirect).
 * @throws FILE_DOWNLOAD_FAILED (file) for timeouts, refused addresses, non-2xx statuses, network errors.
 * @throws FILE_TOO_LARGE (file) when the declared Content-Length exceeds `maxBytes`.
 */
export function fetchUrl(url: string, options: UrlFetchOptions): Promise<FetchedBody> {
  const stream = got.stream(url, {
    agent: createGuardedAgents(options.allowlist),
    timeout: { response: options.timeoutMs, socket: BODY_IDLE_TIMEOUT_MS },
    retry: { limit: 0 },
    maxRedirects: options.maxRedirects,
    followRedirect: true,
    throwHttpErrors: false,
    decompress: true,
    headers: { 'user-agent': 'Stowage (+url-upload)' },
  });
  return new Promise((resolve, reject) => {
    stream.on('error', (error) => reject(downloadFailed(url, describe(error, options.timeoutMs), error)));
    stream.once('response', (response: { statusCode: number; headers: Record<string, string | undefined> }) => {
      if (response.statusCode < 200 || response.statusCode >= 300) {
        stream.destroy();
        reject(downloadFailed(url, `the server answered HTTP ${response.statusCode}.`));
        return;
      }
      const length = Number(response.headers['content-length']);
      if (Number.isFinite(length) && length > options.maxBytes) {
        stream.destroy();
        reject(fileTooLarge(options.maxBytes));
        return;
      }
      resolve({ stream, declaredSize: Number.isFinite(length) ? length : undefined });
    });
  });
}

/**
 * Downloads a small file whole (e.g. remove-bg's `bg_image_url`), under the same guard and limits as uploads.
 * @throws FILE_DOWNLOAD_FAILED, FILE_TOO_LARGE
 */
export async function downloadImage(url: string, options: UrlFetchOptions): Promise<Buffer> {
  const { stream } = await fetchUrl(url, options);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > options.maxBytes) {
      stream.destroy();
      throw fileTooLarge(options.maxBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
