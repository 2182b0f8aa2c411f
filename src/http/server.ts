import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { type DeliveryDeps, serveFile } from '../delivery/serve-file.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { authenticate } from './auth.js';
import type { Context } from './context.js';
import { requestErrorBody } from './error-format.js';
import { GRAPHQL_PATH, type ServerContext } from './graphql.js';
import { type ParsedMultipart, parseMultipart } from './multipart.js';

export interface RequestHandlerDeps {
  yoga: YogaServerInstance<ServerContext, Context>;
  preparsed: WeakMap<IncomingMessage, unknown>;
  delivery: DeliveryDeps;
  privateKeys: readonly string[];
  log: Logger;
}

const MAX_FILES_PER_REQUEST = 20;
const MAX_FIELD_BYTES = 1_000_000;

const isGraphiQLPage = (req: IncomingMessage) => req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
const isMultipart = (req: IncomingMessage) => (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');

/** Answers before reading the body and closes the connection, so a rejected upload is not read on. */
function rejectRequest(req: IncomingMessage, res: ServerResponse, error: AppError, extraHeaders: Record<string, string> = {}): void {
  const body = requestErrorBody(error);
  const readAll = req.complete;
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(readAll ? {} : { connection: 'close' }),
    ...extraHeaders,
  });
  res.end(body);
}

/** What may still be read after the response to keep the connection (e.g. the closing boundary, a small unused part). */
const MAX_DRAIN_BYTES = 64 * 1024;
const DRAIN_TIMEOUT_MS = 2000;

/**
 * After the response, a small rest of the body is read and discarded so the connection can be reused; a large
 * rest (an upload refused for its size) is not read on: the connection is closed instead.
 */
function closeWhenUnread(req: IncomingMessage, res: ServerResponse, parsed: ParsedMultipart): void {
  // Answering before the body is in means this connection may be closed after the response: say so,
  // so that keep-alive clients do not send their next request into it.
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (!req.complete) this.setHeader('connection', 'close');
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
  res.once('finish', () => {
    if (req.complete) return;
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), DRAIN_TIMEOUT_MS).unref());
    Promise.race([parsed.drain(MAX_DRAIN_BYTES), timeout]).then((drained) => {
      if (drained) return;
      parsed.abandon();
      // Half-close first, so the response reaches the client before unread bytes make the kernel reset the socket.
      req.socket.end();
      setTimeout(() => req.socket.destroy(), 1000).unref();
    });
  });
}

/** The whole HTTP surface: `/graphql` (authenticated), `/healthz`, and file delivery for every other path. */
export function createRequestHandler(deps: RequestHandlerDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // ImageKit's docs name one request-id header and its SDK reads the other; send both.
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    res.setHeader('x-ik-requestid', requestId);
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname === GRAPHQL_PATH) {
      if (isGraphiQLPage(req) || req.method === 'OPTIONS') {
        await deps.yoga(req, res, { req, res, apiKey: '' });
        return;
      }
      const auth = authenticate(req.headers.authorization, deps.privateKeys);
      if (!auth.ok) {
        rejectRequest(req, res, auth.error, auth.error.status === 401 ? { 'www-authenticate': 'Basic realm="Stowage", charset="UTF-8"' } : {});
        return;
      }
      if (req.method === 'POST' && isMultipart(req)) {
        let parsed: ParsedMultipart;
        try {
          parsed = await parseMultipart(req, { maxFiles: MAX_FILES_PER_REQUEST, maxFieldBytes: MAX_FIELD_BYTES });
        } catch (error) {
          const status = error instanceof GraphQLError ? Number(error.extensions.status ?? 400) : 400;
          const message = error instanceof Error ? error.message : 'Invalid multipart request.';
          rejectRequest(req, res, new AppError(status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message, { parameter: 'operations' }));
          return;
        }
        deps.preparsed.set(req, parsed.operations);
        closeWhenUnread(req, res, parsed);
      }
      await deps.yoga(req, res, { req, res, apiKey: auth.key });
      return;
    }
    if (pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!(await serveFile(deps.delivery, req, res))) {
      rejectRequest(req, res, new AppError('NOT_FOUND', 'The requested asset does not exist.'));
    }
  };
}
