import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through unchanged while keeping a copy of the first `sniffBytes`. Once they have passed (or the
 * stream ends sooner) it awaits `onSniff(head)` before letting more through, so a decision taken from the first
 * bytes (the type policy, the size limit for the detected type) applies to the rest.
 * An empty stream fails with `onEmpty()`.
 */
export class HeadCapture extends Transform {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;
  private sniffed = false;

  constructor(
    private readonly options: {
      sniffBytes: number;
      onSniff: (head: Buffer) => Promise<void>;
      onEmpty: () => Error;
    },
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.total += chunk.length;
    if (this.kept < this.options.sniffBytes) {
      const piece = chunk.subarray(0, this.options.sniffBytes - this.kept);
      this.chunks.push(piece);
      this.kept += piece.length;
      if (this.kept >= this.options.sniffBytes) {
        this.sniff().then(() => cb(null, chunk), cb);
        return;
      }
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.total === 0) {
      cb(this.options.onEmpty());
      return;
    }
    if (!this.sniffed) {
      this.sniff().then(() => cb(), cb);
      return;
    }
    cb();
  }

  private async sniff(): Promise<void> {
    this.sniffed = true;
    await this.options.onSniff(Buffer.concat(this.chunks));
  }
}
