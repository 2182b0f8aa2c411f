import type http from 'node:http';
import { AppError } from '../errors.js';
import { requestErrorBody } from './error-format.js';
import { settleUnreadBody } from './unread-body.js';

/** The refusal a request gets once the server is shutting down. */
export const shuttingDown = () =>
  new AppError('SHUTTING_DOWN', 'The server is shutting down and takes no new requests; send the request again, to another instance or once it is back.');

/**
 * Lets the HTTP server shut down without losing work: every request goes through {@link HttpDrainer.serve}, so
 * a shutdown can stop taking new requests, wait for those in flight (uploads still sending, renders, downloads),
 * and cut only what is still open when the grace period ends.
 * @category HTTP
 */
export class HttpDrainer {
  /** Responses not yet closed (finished, or their connection gone). */
  private readonly open = new Set<http.ServerResponse>();
  /** Handlers still running, including the work left after their client went away (an upload's cleanup). */
  private readonly handlers = new Set<Promise<void>>();
  private draining = false;
  private readonly changed = new EventTarget();

  constructor(private readonly server: http.Server) {}

  /** Requests whose response has not yet closed. */
  get inFlight(): number {
    return this.open.size;
  }

  /**
   * Runs `handle` for a request, or once a shutdown began answers 503 `SHUTTING_DOWN` with `Connection: close`
   * (a client reusing a kept-alive connection). Resolves or rejects as `handle` does.
   */
  serve(req: http.IncomingMessage, res: http.ServerResponse, handle: () => Promise<void>): Promise<void> {
    // Refusals are tracked too: one queued behind a pipelined response is written only once that one ends.
    this.open.add(res);
    res.once('close', () => {
      this.open.delete(res);
      this.changed.dispatchEvent(new Event('change'));
    });
    if (this.draining) {
      refuse(req, res);
      return Promise.resolve();
    }
    const handled = handle();
    const settled = handled.then(
      () => undefined,
      () => undefined,
    );
    this.handlers.add(settled);
    void settled.then(() => {
      this.handlers.delete(settled);
      this.changed.dispatchEvent(new Event('change'));
    });
    return handled;
  }

  /**
   * Stops listening and refuses new requests, then waits for the responses in flight until `grace` aborts; the
   * connections still open then are closed, cutting their requests (an upload cut mid-body stores nothing).
   * Responses finishing meanwhile say `Connection: close`, so clients do not send more on them.
   * Resolves with how many requests were cut.
   */
  async drain(grace: AbortSignal): Promise<{ cut: number }> {
    this.draining = true;
    for (const res of this.open) if (!res.headersSent) res.setHeader('connection', 'close');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.until(() => this.open.size === 0, grace);
    const cut = this.open.size;
    // What is left are idle kept-alive connections, and the cut requests' connections.
    this.server.closeAllConnections();
    await closed;
    return { cut };
  }

  /** Waits until the handlers still running settled, or `limit` aborts. */
  async settled(limit: AbortSignal): Promise<void> {
    await this.until(() => this.handlers.size === 0, limit);
  }

  private until(done: () => boolean, limit: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!done() && !limit.aborted) return;
        this.changed.removeEventListener('change', check);
        limit.removeEventListener('abort', check);
        resolve();
      };
      this.changed.addEventListener('change', check);
      limit.addEventListener('abort', check);
      check();
    });
  }
}

/** Answers a request arriving during a shutdown without reading its body. */
function refuse(req: http.IncomingMessage, res: http.ServerResponse): void {
  const body = requestErrorBody(shuttingDown());
  settleUnreadBody(req, res);
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close', 'retry-after': '1' });
  res.end(body);
}
