import type { Readable } from 'node:stream';
import { AppError, badRequest, fileTooLarge } from '../errors.js';
import { parseBase64 } from './base64.js';
import { fetchUrl, type UrlFetchOptions } from './fetch-url.js';
import type { FileSource } from './request.js';

export interface OpenedSource {
  stream: Readable;
  /** The size the sender announced (Content-Length, decoded base64), if any. */
  declaredSize?: number;
  /** Turns an error the stream raises mid-transfer into what the client should see. */
  describeError(error: unknown): unknown;
}

/** A `file` string that names a URL to download (any scheme: unsupported ones are refused by name later). */
export const isUrl = (value: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(value);

/**
 * Opens the bytes of `file`, whichever of the three forms it has. Checks that can be made before reading
 * (declared sizes, URL status) fail here, so nothing is stored.
 * @throws BAD_REQUEST (file), FILE_TOO_LARGE (file), FILE_DOWNLOAD_FAILED (file)
 */
export async function openSource(source: FileSource, maxBytes: number, urlOptions: Omit<UrlFetchOptions, 'maxBytes'>): Promise<OpenedSource> {
  if (source.kind === 'stream') {
    const file = await source.file;
    return {
      stream: file.createReadStream(),
      describeError: (error) =>
        error instanceof AppError
          ? error
          : badRequest('file', 'Your request contains invalid file parameter. The upload was interrupted before the file was complete.'),
    };
  }
  const value = source.value.trim();
  if (value === '') throw badRequest('file', 'Your request is missing file parameter.');
  if (isUrl(value)) {
    if (!/^https?:\/\//i.test(value)) {
      throw badRequest('file', `Your request contains invalid file parameter. Only http and https URLs can be downloaded; got "${value.split(':')[0]}:".`);
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw badRequest('file', 'Your request contains invalid file parameter. The URL is malformed.');
    }
    const fetched = await fetchUrl(url.href, { ...urlOptions, maxBytes });
    return {
      stream: fetched.stream,
      declaredSize: fetched.declaredSize,
      describeError: (error) =>
        error instanceof AppError
          ? error
          : new AppError('FILE_DOWNLOAD_FAILED', `Your request contains invalid file parameter. The download from ${url.href} broke off: ${(error as Error).message}`, {
              parameter: 'file',
              cause: error,
            }),
    };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !/^data:/i.test(value)) {
    throw badRequest('file', `Your request contains invalid file parameter. Unsupported scheme "${value.split(':')[0]}:"; use http(s), a data URI or base64.`);
  }
  const decoded = parseBase64(value);
  if (decoded.size > maxBytes) throw fileTooLarge(maxBytes);
  return { stream: decoded.stream(), declaredSize: decoded.size, describeError: (error) => error };
}
