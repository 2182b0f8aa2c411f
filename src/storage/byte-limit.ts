import { Transform, type TransformCallback } from 'node:stream';

/**
 * Counts bytes as they pass and fails the stream as soon as the count passes the limit, so an oversized
 * body is never read to its end. The limit may be tightened while streaming (e.g. once the type is known).
 */
export class ByteLimit extends Transform {
  bytes = 0;

  constructor(
    private limit: number,
    private readonly onExceeded: (limit: number) => Error,
  ) {
    super();
  }

  setLimit(limit: number): void {
    this.limit = limit;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      cb(this.onExceeded(this.limit));
      return;
    }
    cb(null, chunk);
  }
}
