import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through while hashing them; `digest` (hex) is available once the stream has ended. */
export class HashingStream extends Transform {
  private readonly hash: Hash;
  private hex: string | undefined;

  constructor(algorithm: 'sha256') {
    super();
    this.hash = createHash(algorithm);
  }

  get digest(): string {
    if (this.hex === undefined) throw new Error('The stream has not ended yet');
    return this.hex;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.hex = this.hash.digest('hex');
    cb();
  }
}
