import { Readable } from 'node:stream';
import { badRequest } from '../errors.js';

export interface DecodedBase64 {
  /** Exact number of bytes the string decodes to. */
  size: number;
  /** MIME type named by a `data:` URI, if any. */
  mimeType: string | undefined;
  /** Decodes lazily, 48 KiB at a time, so no second copy of the whole file is made. */
  stream: () => Readable;
}

const CHUNK_CHARS = 64 * 1024;

/**
 * Parses plain base64 (standard or URL-safe alphabet, padding optional, whitespace ignored) or a
 * `data:<mime>;base64,<data>` URI.
 * @throws BAD_REQUEST (file) when the string is not valid base64 or the data URI is not base64-encoded.
 */
export function parseBase64(input: string): DecodedBase64 {
  let data = input;
  let mimeType: string | undefined;
  if (/^data:/i.test(input)) {
    const comma = input.indexOf(',');
    const header = comma < 0 ? '' : input.slice(5, comma);
    if (comma < 0 || !/;base64$/i.test(header)) {
      throw badRequest('file', 'Your request contains invalid file parameter. A data URI must be of the form "data:<mime type>;base64,<data>".');
    }
    mimeType = header.replace(/;base64$/i, '').split(';')[0] || undefined;
    data = input.slice(comma + 1);
  }
  if (/\s/.test(data)) data = data.replace(/\s+/g, '');
  if (/[-_]/.test(data)) data = data.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 === 1) {
    throw badRequest(
      'file',
      'Your request contains invalid file parameter. It is neither a multipart file, an http(s) URL nor valid base64.',
    );
  }
  const unpadded = data.replace(/=+$/, '');
  const size = Math.floor((unpadded.length * 3) / 4);
  return {
    size,
    mimeType,
    stream: () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < unpadded.length; i += CHUNK_CHARS) {
            yield Buffer.from(unpadded.slice(i, i + CHUNK_CHARS), 'base64');
          }
        })(),
      ),
  };
}
