import { Readable, type Writable } from 'node:stream';
import type { ExecutionResult } from 'graphql';
import { type FetchAPI, processRegularResult } from 'graphql-yoga';
import { type DirectSink, isPlainResult, jsonOf } from './shared-results.js';

/** How often an idle stream sends a comment line, so proxies keep it open: yoga's own interval. */
export const SSE_PING_MS = 12_000;

const PING = Buffer.from(':\n\n');
const COMPLETE = Buffer.from('event: complete\ndata:\n\n');

/** A plain result's `next` event, encoded once however many responses it is written to. */
const frames = new WeakMap<ExecutionResult, Buffer>();
function plainFrameOf(result: ExecutionResult): Buffer {
  let frame = frames.get(result);
  if (frame === undefined) frames.set(result, (frame = Buffer.from(`event: next\ndata: ${jsonOf(result)}\n\n`)));
  return frame;
}

/**
 * Any result's `next` event. One with errors or extensions is serialised by yoga's own JSON result processor,
 * which leaves out what only the server may see (`extensions.http`, for one), as yoga's SSE processor does.
 */
async function frameOf(result: ExecutionResult, fetchAPI: FetchAPI): Promise<Buffer> {
  if (isPlainResult(result)) return plainFrameOf(result);
  const json = await processRegularResult(result, fetchAPI, 'application/json').text();
  return Buffer.from(`event: next\ndata: ${json}\n\n`);
}

/**
 * One subscription's GraphQL-over-SSE response body, speaking the protocol as yoga's SSE result processor does
 * ("distinct connections" mode: a ping comment first and every {@link SSE_PING_MS} while nothing waits to be sent,
 * `event: next` per result, `event: complete` at the end), but as a Node stream piped straight to the response.
 * Its {@link SseBody.write} lets a shared stream push a result's once-encoded frame while the body waits for
 * the next result, so an event costs each subscriber one write rather than a chain of promises.
 */
class SseBody extends Readable {
  private readonly pings: NodeJS.Timeout;
  /** Resolves the pump's wait once the response takes more (see `_read`). */
  private wanted: (() => void) | undefined;
  private ended = false;
  /** The Node response this body is piped to (yoga pipes it so), once it is. */
  private response: Pick<Writable, 'write' | 'cork' | 'uncork' | 'writableNeedDrain'> | undefined;

  constructor(
    private readonly results: AsyncIterator<ExecutionResult>,
    private readonly fetchAPI: FetchAPI,
    pingMs: number,
  ) {
    super();
    // First bytes at once: some browsers stall a fetch until the body starts.
    this.push(PING);
    this.pings = setInterval(() => {
      if (this.readableLength === 0) this.push(PING);
    }, pingMs);
    void this.pump();
  }

  /** The direct sink: writes a plain result unless the response is backed up or not yet being sent. */
  readonly write: DirectSink = (result) => {
    if (!this.readableFlowing || this.readableLength > 0 || this.ended || this.destroyed) return false;
    const response = this.response;
    if (!response || response.writableNeedDrain) return false;
    // Everything pushed before has been written (the body flows, with nothing buffered): write after it, at once.
    // Corked, it goes out as one write now rather than on the next tick (as a response's write defers it).
    response.cork();
    response.write(plainFrameOf(result));
    response.uncork();
    return true;
  };

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    const response = destination as unknown as Partial<Writable>;
    if (typeof response.cork === 'function' && typeof response.uncork === 'function') this.response = response as Writable;
    return super.pipe(destination, options);
  }

  override _read(): void {
    const wanted = this.wanted;
    this.wanted = undefined;
    wanted?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearInterval(this.pings);
    this._read();
    // Not awaited: a generator waiting for its next event returns only once that event comes.
    Promise.resolve(this.results.return?.()).catch(() => {});
    callback(error);
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const next = await this.results.next();
        if (this.destroyed) return;
        if (next.value != null) {
          const frame = await frameOf(next.value, this.fetchAPI);
          if (this.destroyed) return;
          this.push(frame);
        }
        if (next.done) break;
        if (this.readableLength >= this.readableHighWaterMark) await new Promise<void>((resolve) => (this.wanted = resolve));
        if (this.destroyed) return;
      }
      this.push(COMPLETE);
    } catch {
      // Yoga turns a failing stream into an error result first; what still throws (an aborted request) just ends it.
    }
    clearInterval(this.pings);
    this.ended = true;
    if (!this.destroyed) this.push(null);
  }
}

/**
 * The SSE response for a shared subscription's `results`; `attach` receives, at once, the body's direct sink
 * (see {@link DirectSink}). The stream ends when `signal` aborts (the request's: its connection closed), even if
 * the response was never sent.
 * @category HTTP
 */
export function sharedSseResponse(
  results: AsyncIterable<ExecutionResult>,
  fetchAPI: FetchAPI,
  { attach, signal, pingMs = SSE_PING_MS }: { attach: (sink: DirectSink) => void; signal?: AbortSignal; pingMs?: number },
): Response {
  const body = new SseBody(results[Symbol.asyncIterator](), fetchAPI, pingMs);
  attach(body.write);
  if (signal?.aborted) body.destroy();
  else signal?.addEventListener('abort', () => body.destroy(), { once: true });
  // The headers yoga's SSE processor sends.
  const headers = { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' };
  return new fetchAPI.Response(body as unknown as ReadableStream, { status: 200, headers });
}
