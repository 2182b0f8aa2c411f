import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request body the server stopped wanting: it can be read on and discarded, or left unread. */
export interface UnreadBody {
  /** Reads and discards at most `maxBytes` more; true when the body ended within them. */
  drain(maxBytes: number): Promise<boolean>;
  /** Stops reading for good. */
  abandon(): void;
}

/** What is read and discarded after an early answer, so that a client still sending can finish and read it. */
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 2000;
/** After the half-close, how long a client gets to read the answer before the socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * The raw request body, discarded from now on (once an answer is written, Node would otherwise discard it
 * without limit); `drain` settles false once `maxBytes` were exceeded or the client went away.
 */
function discardRawBody(req: IncomingMessage, maxBytes: number): UnreadBody {
  const ended = new Promise<boolean>((settle) => {
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) {
        req.pause();
        settle(false);
      }
    });
    req.once('end', () => settle(true));
    req.once('close', () => settle(req.complete));
    // A parser that gave up may have left the request paused.
    req.resume();
  });
  return { drain: () => ended, abandon: () => req.pause() };
}

/**
 * Lets a client that is still sending the body read an early answer (a refused key, a file over the limit).
 * The answer says `Connection: close`, so the client does not send its next request into this connection;
 * but Node then destroys the socket as soon as the answer is written, and closing a socket with unread bytes
 * makes the kernel reset it: a client still sending loses the answer (EPIPE, "fetch failed"). So the socket
 * is only half-closed (the client reads the answer, then the end of the stream), the rest of the body is read
 * and discarded up to a bound, and the socket is destroyed once the body ended or after a grace period.
 * Call it before answering; it does nothing when the body was read to its end by the time the answer starts.
 * @param parsed the parser still holding the body; the raw request body when omitted.
 */
export function settleUnreadBody(req: IncomingMessage, res: ServerResponse, parsed?: UnreadBody): void {
  if (req.complete) return;
  const body = parsed ?? discardRawBody(req, MAX_DRAIN_BYTES);
  const socket = req.socket;
  let closing = false;
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (!req.complete) {
      closing = true;
      this.setHeader('connection', 'close');
      // What Node calls once a `Connection: close` answer is written: half-close instead of destroying.
      socket.destroySoon = () => socket.end();
    }
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
  res.once('finish', () => {
    if (!closing) return;
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS).unref());
    void Promise.race([body.drain(MAX_DRAIN_BYTES), timeout]).then((drained) => {
      if (!drained) body.abandon();
      setTimeout(() => socket.destroy(), drained ? 0 : CLOSE_GRACE_MS).unref();
    });
  });
}
