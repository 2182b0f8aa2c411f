import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An incoming id is trusted only in this shape, so a client cannot inject log lines or huge values. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's id: the caller's `x-request-id` when it is sane (a proxy's or client's id, to follow a request
 * across services), a new UUID otherwise. Set on the response as `x-request-id` and `x-ik-requestid`: ImageKit's
 * docs name one and its SDK reads the other.
 * @category HTTP
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', requestId);
  res.setHeader('x-ik-requestid', requestId);
  return requestId;
}
