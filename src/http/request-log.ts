import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { redactUrl } from '../logging/redact-url.js';
import { routeClassOf } from '../metrics/http-metrics.js';

/** Counts the body bytes the handler writes, by wrapping the response's `write` and `end`. */
function countBodyBytes(res: ServerResponse): () => number {
  let bytes = 0;
  const tally = (chunk: unknown, encoding: unknown) => {
    if (typeof chunk === 'string') bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
  };
  const { write, end } = res;
  res.write = function (this: ServerResponse, ...args: unknown[]) {
    tally(args[0], args[1]);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (typeof args[0] !== 'function') tally(args[0], args[1]);
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];
  return () => bytes;
}

/**
 * Logs one line for the request when its response finishes, or when the client goes away first (`aborted`):
 * method, path (signed and secret query values redacted), status, body bytes written, duration, request id and
 * route class. Headers are never logged. Server errors are logged at `error`, everything else at `info`.
 * @category HTTP
 */
export function logRequestWhenDone(log: Logger, req: IncomingMessage, res: ServerResponse, requestId: string): void {
  const started = process.hrtime.bigint();
  const bytes = countBodyBytes(res);
  const target = req.url ?? '/';
  const done = () => {
    const aborted = !res.writableFinished;
    const status = res.headersSent ? res.statusCode : null;
    const line = {
      requestId,
      method: req.method,
      path: redactUrl(target),
      status,
      bytes: bytes(),
      durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
      route: routeClassOf(target.split('?')[0] as string),
      ...(aborted ? { aborted } : {}),
    };
    const message = `${line.method} ${line.path} ${status ?? '-'}${aborted ? ' (aborted by the client)' : ''}`;
    if (status !== null && status >= 500) log.error(line, message);
    else log.info(line, message);
  };
  res.once('close', done);
}
