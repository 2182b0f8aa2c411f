import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { type DeliveryDeps, serveFile } from '../delivery/serve-file.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { runWithRequestId } from '../logging/request-context.js';
import { authenticate } from './auth.js';
import type { Context } from './context.js';
import { requestErrorBody } from './error-format.js';
import { GRAPHIQL_PAGE_HEADERS, serveGraphiQLAsset } from './graphiql-page.js';
import { GRAPHQL_PATH, type ServerContext } from './graphql.js';
import { HEALTH_PATH, READINESS_PATH, type Readiness, serveReadiness } from './health.js';
import { measureRequest, METRICS_PATH } from '../metrics/http-metrics.js';
import type { Metrics } from '../metrics/metrics.js';
import { serveMetrics } from '../metrics/serve-metrics.js';
import { type ParsedMultipart, parseMultipart } from './multipart.js';
import type { OriginPolicy } from './origin-policy.js';
import { assignRequestId } from './request-id.js';
import { logRequestWhenDone } from './request-log.js';
import { settleUnreadBody } from './unread-body.js';
import { handleRestRequest, isRestRequest, type RestDeps } from '../rest/rest-api.js';

export interface RequestHandlerDeps {
  yoga: YogaServerInstance<ServerContext, Context>;
  preparsed: WeakMap<IncomingMessage, unknown>;
  delivery: DeliveryDeps;
  privateKeys: readonly string[];
  origins: OriginPolicy;
  /** The largest file any upload may be (the video limit, when larger): no file part is read past it. */
  maxFileBytes: number;
  log: Logger;
  /** Request metrics and `/metrics`, served without the private key when `public`. */
  metrics?: Pick<Metrics, 'registry' | 'http'> & { public: boolean };
  /** `/readyz`'s checks. */
  readiness?: () => Promise<Readiness>;
  /** ImageKit's REST API (`/api/v1/files/upload`, `/v1/...`); off when absent. */
  rest?: RestDeps;
}

const MAX_FILES_PER_REQUEST = 20;
const MAX_FIELD_BYTES = 1_000_000;

const isGraphiQLPage = (req: IncomingMessage) => req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
const isMultipart = (req: IncomingMessage) => (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');

const isFormUrlEncoded = (req: IncomingMessage) => (req.headers['content-type'] ?? '').trim().toLowerCase().startsWith('application/x-www-form-urlencoded');

/** HTML forms post this type cross-site without a preflight, and GraphQL over HTTP does not use it for POST. */
const formPostRefused = () =>
  new AppError('UNSUPPORTED_MEDIA_TYPE', 'POST /graphql does not accept Content-Type application/x-www-form-urlencoded: send application/json, or multipart/form-data for file uploads.', {
    parameter: 'Content-Type',
  });

/** Answers before reading the body; a body still arriving is then drained or the connection closed (see settleUnreadBody). */
function rejectRequest(req: IncomingMessage, res: ServerResponse, error: AppError, extraHeaders: Record<string, string> = {}): void {
  const body = requestErrorBody(error);
  settleUnreadBody(req, res);
  res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...extraHeaders });
  res.end(body);
}

/** A missing (401, with the Basic challenge) or unknown (403) private key. */
function refuseCredentials(req: IncomingMessage, res: ServerResponse, error: AppError): void {
  rejectRequest(req, res, error, error.status === 401 ? { 'www-authenticate': 'Basic realm="Stowage", charset="UTF-8"' } : {});
}

/** A CORS preflight: the policy's headers for an opted-in origin, none otherwise (the browser then refuses). */
function answerPreflight(req: IncomingMessage, res: ServerResponse, origins: OriginPolicy): void {
  res.writeHead(204, { allow: 'GET, POST, OPTIONS', 'content-length': '0', ...origins.preflightHeaders(req.headers) }).end();
}

/** The whole HTTP surface: `/graphql` (authenticated), `/healthz`, `/readyz`, `/metrics`, and file delivery for every other path. */
export function createRequestHandler(deps: RequestHandlerDeps) {
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (pathname === GRAPHQL_PATH) {
      for (const [name, value] of Object.entries(deps.origins.corsHeaders(req.headers))) res.setHeader(name, value);
      if (isGraphiQLPage(req)) {
        for (const [name, value] of Object.entries(GRAPHIQL_PAGE_HEADERS)) res.setHeader(name, value);
        await deps.yoga(req, res, { req, res, apiKey: '' });
        return;
      }
      const refusal = deps.origins.refusal(req.headers) ?? (req.method === 'POST' && isFormUrlEncoded(req) ? formPostRefused() : undefined);
      if (refusal) {
        rejectRequest(req, res, refusal);
        return;
      }
      if (req.method === 'OPTIONS') {
        answerPreflight(req, res, deps.origins);
        return;
      }
      const auth = authenticate(req.headers.authorization, deps.privateKeys);
      if (!auth.ok) {
        refuseCredentials(req, res, auth.error);
        return;
      }
      if (req.method === 'POST' && isMultipart(req)) {
        let parsed: ParsedMultipart;
        try {
          parsed = await parseMultipart(req, { maxFiles: MAX_FILES_PER_REQUEST, maxFieldBytes: MAX_FIELD_BYTES, maxFileBytes: deps.maxFileBytes });
        } catch (error) {
          const status = error instanceof GraphQLError ? Number(error.extensions.status ?? 400) : 400;
          const message = error instanceof Error ? error.message : 'Invalid multipart request.';
          rejectRequest(req, res, new AppError(status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message, { parameter: 'operations' }));
          return;
        }
        deps.preparsed.set(req, parsed.operations);
        settleUnreadBody(req, res, parsed);
      }
      await deps.yoga(req, res, { req, res, apiKey: auth.key });
      return;
    }
    if (await serveGraphiQLAsset(req, res)) return;
    if (pathname === HEALTH_PATH) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (pathname === READINESS_PATH && deps.readiness) {
      await serveReadiness(res, deps.readiness);
      return;
    }
    if (pathname === METRICS_PATH && deps.metrics) {
      const auth = deps.metrics.public ? undefined : authenticate(req.headers.authorization, deps.privateKeys);
      if (auth && !auth.ok) return refuseCredentials(req, res, auth.error);
      await serveMetrics(res, deps.metrics.registry);
      return;
    }
    if (deps.rest && isRestRequest(req, pathname)) {
      await handleRestRequest(deps.rest, req, res, pathname);
      return;
    }
    if (!(await serveFile(deps.delivery, req, res))) {
      rejectRequest(req, res, new AppError('NOT_FOUND', 'The requested asset does not exist.'));
    }
  };
  return (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = assignRequestId(req, res);
    logRequestWhenDone(deps.log, req, res, requestId);
    measureRequest(deps.metrics?.http, req, res);
    // Everything done for the request, including the jobs it enqueues, is logged under its id.
    return runWithRequestId(requestId, () => route(req, res));
  };
}
