import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteLimit } from '../../src/storage/byte-limit.js';
import { HeadCapture } from '../../src/upload/head-capture.js';

class TooLarge extends Error {
  constructor(readonly limit: number) {
    super(`over ${limit}`);
  }
}

/** Pipes `chunks` through `stages`; resolves with the bytes that came out, or the error that stopped them. */
async function run(chunks: Buffer[], stages: Transform[]): Promise<{ out: Buffer } | { error: unknown }> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk);
      cb();
    },
  });
  try {
    await pipeline([Readable.from(chunks), ...stages, sink]);
    return { out: Buffer.concat(out) };
  } catch (error) {
    return { error };
  }
}

const chunkings = fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 12 }).map((sizes) => sizes.map((n, i) => Buffer.alloc(n, i)));
const total = (chunks: Buffer[]) => chunks.reduce((sum, c) => sum + c.length, 0);

describe('ByteLimit', () => {
  it('passes a stream through whole iff its total is within the limit, however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(chunkings, fc.integer({ min: 0, max: 30_000 }), async (chunks, limit) => {
        const result = await run(chunks, [new ByteLimit(limit, (n) => new TooLarge(n))]);
        if (total(chunks) <= limit) expect(result).toEqual({ out: Buffer.concat(chunks) });
        else expect(result).toEqual({ error: new TooLarge(limit) });
      }),
    );
  });

  it('a limit tightened once the head is sniffed (as uploads do) counts the bytes that already passed', async () => {
    await fc.assert(
      fc.asyncProperty(chunkings, fc.integer({ min: 1, max: 8000 }), fc.integer({ min: 0, max: 30_000 }), async (chunks, sniffBytes, limit) => {
        const limiter = new ByteLimit(Number.MAX_SAFE_INTEGER, (n) => new TooLarge(n));
        const sniff = new HeadCapture({ sniffBytes, onSniff: async () => limiter.setLimit(limit), onEmpty: () => new Error('empty') });
        const result = await run(chunks, [limiter, sniff]);
        if (total(chunks) === 0) expect(result).toEqual({ error: new Error('empty') });
        else if (total(chunks) <= limit) expect(result).toEqual({ out: Buffer.concat(chunks) });
        else expect(result).toEqual({ error: new TooLarge(limit) });
      }),
    );
  });
});
