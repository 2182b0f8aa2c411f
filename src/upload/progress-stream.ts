import { Transform, type TransformCallback } from 'node:stream';
import type { EventBus } from '../events/pubsub.js';

const EVERY_BYTES = 256 * 1024;
const EVERY_MS = 100;

/** Passes bytes through and publishes `uploadProgress` for `uploadId`: at most every 256 KiB or 100 ms, and at the end. */
export class ProgressStream extends Transform {
  private bytes = 0;
  private reportedBytes = 0;
  private reportedAt = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly uploadId: string,
    private readonly total: number | null,
  ) {
    super();
  }

  private report(done: boolean): void {
    this.reportedBytes = this.bytes;
    this.reportedAt = Date.now();
    this.bus.publish('uploadProgress', this.uploadId, { uploadId: this.uploadId, bytesReceived: this.bytes, bytesTotal: this.total, done });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes - this.reportedBytes >= EVERY_BYTES || Date.now() - this.reportedAt >= EVERY_MS) this.report(false);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.report(true);
    cb();
  }
}
