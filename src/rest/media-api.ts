import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, isAppError } from '../errors.js';
import { authenticate } from '../http/auth.js';
import { customFieldRoutes } from './custom-fields-api.js';
import { fileRoutes } from './files-api.js';
import { folderRoutes } from './folders-api.js';
import { metadataRoutes } from './metadata-api.js';
import { type ApiAnswer, type ApiCall, type ApiRoute, type JsonBody, readJsonBody } from './params-api.js';
import { sendError, sendJson } from './responses.js';
import type { RestDeps } from './rest-api.js';
import { versionRoutes } from './versions-api.js';

/**
 * ImageKit's Media API under `/v1/`: authenticates (HTTP Basic with a private key, as ImageKit's SDKs send it),
 * finds the endpoint, and answers what its handler returns, or the error as ImageKit writes it. Each handler
 * (files-api, versions-api, metadata-api, folders-api, custom-fields-api) parses the request and calls the same
 * services the GraphQL resolvers call.
 */

type Segment = { literal: string } | { param: string };
interface CompiledRoute {
  route: ApiRoute<RestDeps>;
  segments: Segment[];
}

const compile = (route: ApiRoute<RestDeps>): CompiledRoute => ({
  route,
  segments: route.path
    .split('/')
    .filter(Boolean)
    .map((s) => (s.startsWith(':') ? { param: s.slice(1) } : { literal: s })),
});

/** Every endpoint; a path of literals wins over one with parameters (`/v1/files/copy` is not a fileId). */
export const MEDIA_API_ROUTES: readonly ApiRoute<RestDeps>[] = [...fileRoutes, ...versionRoutes, ...metadataRoutes, ...folderRoutes, ...customFieldRoutes];
const COMPILED = MEDIA_API_ROUTES.map(compile).sort((a, b) => paramCount(a) - paramCount(b));

function paramCount(r: CompiledRoute): number {
  return r.segments.filter((s) => 'param' in s).length;
}

/** The route of `method` and `pathname`, with its parameters; `pathMatched` when only the method differed. */
export function matchRoute(method: string, pathname: string): { route: ApiRoute<RestDeps>; params: Record<string, string> } | { pathMatched: boolean } {
  const parts = pathname.split('/').filter(Boolean);
  let pathMatched = false;
  for (const { route, segments } of COMPILED) {
    if (segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const fits = segments.every((segment, i) => {
      const part = parts[i] as string;
      if ('literal' in segment) return segment.literal === part;
      try {
        params[segment.param] = decodeURIComponent(part);
        return true;
      } catch {
        return false;
      }
    });
    if (!fits) continue;
    if (route.method === method) return { route, params };
    pathMatched = true;
  }
  return { pathMatched };
}

function send(res: ServerResponse, answer: ApiAnswer): void {
  if (answer.status === 204) {
    res.writeHead(204, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  sendJson(res, answer.status, answer.body);
}

/** Answers one Media API request. */
export async function handleMediaApi(deps: RestDeps, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  try {
    const auth = authenticate(req.headers.authorization, deps.privateKeys);
    if (!auth.ok) throw auth.error;
    const method = (req.method ?? 'GET').toUpperCase();
    const found = matchRoute(method, pathname);
    if (!('route' in found)) {
      throw new AppError('NOT_FOUND', found.pathMatched ? `${pathname} does not answer ${method}.` : `No API endpoint at ${method} ${pathname}.`, { parameter: 'path' });
    }
    let body: Promise<JsonBody> | undefined;
    const call: ApiCall = {
      params: found.params,
      query: new URL(req.url ?? pathname, 'http://stowage.invalid').searchParams,
      body: () => (body ??= readJsonBody(req)),
    };
    send(res, await found.route.handle(deps, call));
  } catch (error) {
    if (!isAppError(error)) deps.log.error({ err: error }, 'Media API request failed');
    if (res.headersSent) res.destroy();
    else sendError(res, error);
  }
}
