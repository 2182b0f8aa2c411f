import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CliError } from './cli-error.js';

/** The one file part of a GraphQL multipart request, read from its source only while the body is sent. */
export interface MultipartFile {
  /** The form field carrying the bytes, as named in the `map` field (`"0"`). */
  fieldName: string;
  /** Shown to the server as the part's file name; Stowage takes the name from `fileName` instead. */
  filename: string;
  /** Exactly how many bytes `open()` yields: it becomes part of the Content-Length. */
  size: number;
  /** A fresh stream of the bytes; called once per attempt. */
  open(): Readable;
}

export interface MultipartBody {
  contentType: string;
  contentLength: number;
  /**
   * A fresh body, built as it is read: the fields, then the file streamed from its source, never held whole.
   * @param onFileBytes called with the size of each file chunk as the request takes it.
   * The stream fails when the file yields more or fewer bytes than `size` (it changed while being sent).
   */
  stream(onFileBytes?: (bytes: number) => void): Readable;
}

/** Quotes and line breaks would end the header; anything outside printable ASCII is not worth the charset dance. */
const headerSafe = (value: string) => value.replace(/[^\x20-\x7e]|["\\]/g, '_');

/**
 * A `multipart/form-data` body in the GraphQL multipart request order (fields such as `operations` and
 * `map` first, then the file), with its length known up front so the request carries a Content-Length.
 */
export function createMultipartBody(fields: ReadonlyArray<readonly [name: string, value: string]>, file: MultipartFile): MultipartBody {
  const boundary = `----stowage-${randomBytes(12).toString('hex')}`;
  const fieldParts = fields.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${headerSafe(name)}"\r\n\r\n${value}\r\n`);
  const head = Buffer.from(
    `${fieldParts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="${headerSafe(file.fieldName)}"; filename="${headerSafe(file.filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);

  async function* parts(onFileBytes?: (bytes: number) => void): AsyncGenerator<Buffer> {
    yield head;
    let sent = 0;
    for await (const chunk of file.open()) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      sent += bytes.length;
      if (sent > file.size) break;
      onFileBytes?.(bytes.length);
      yield bytes;
    }
    if (sent !== file.size) {
      throw new CliError(`${file.filename} changed while it was being sent (expected ${file.size} bytes, read ${sent}${sent > file.size ? '+' : ''}).`, {
        code: 'FILE_CHANGED',
      });
    }
    yield tail;
  }

  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: head.length + file.size + tail.length,
    stream: (onFileBytes) => Readable.from(parts(onFileBytes), { objectMode: false }),
  };
}
