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

  /**
   * Applies `limit` from now on, and to the bytes already counted: a stream that has already passed it fails.
   * @throws the `onExceeded` error in that case (and the stream is destroyed with it).
   */
  setLimit(limit: number): void {
    this.limit = limit;
    if (this.bytes > limit) {
      const error = this.onExceeded(limit);
      this.destroy(error);
      throw error;
    }
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
