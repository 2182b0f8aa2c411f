import type { IncomingMessage, ServerResponse } from 'node:http';
import { GRAPHIQL_ASSETS_PATH } from '../http/graphiql-page.js';
import { GRAPHQL_PATH } from '../http/graphql.js';
import { HEALTH_PATH, READINESS_PATH } from '../http/health.js';
import { startStopwatch } from './stopwatch.js';

/** Metrics are served here. */
export const METRICS_PATH = '/metrics';

/**
 * What a request was for. `asset` is GraphiQL's own scripts and styles; `delivery` every other path (files,
 * transformations, thumbnails, streams); `rest` is kept for the ImageKit-compatible REST API.
 */
export type RouteClass = 'graphql' | 'delivery' | 'health' | 'metrics' | 'asset' | 'rest';

/** Where the HTTP server reports each request (see `src/metrics/metrics.ts`). */
export interface HttpMetrics {
  /** A response finished; `status` is its class (`2xx`, `4xx`…). */
  observe(route: RouteClass, method: string, status: string, seconds: number): void;
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route class of a request path (without its query). Paths are never labels: they are unbounded. */
export function routeClassOf(pathname: string): RouteClass {
  if (pathname.startsWith(GRAPHIQL_ASSETS_PATH)) return 'asset';
  if (pathname === GRAPHQL_PATH) return 'graphql';
  if (pathname === HEALTH_PATH || pathname === READINESS_PATH) return 'health';
  if (pathname === METRICS_PATH) return 'metrics';
  return 'delivery';
}

/** Counts the request and its duration once its response has finished (a response cut off is not counted). */
export function measureRequest(metrics: HttpMetrics | undefined, req: IncomingMessage, res: ServerResponse): void {
  if (!metrics) return;
  const elapsed = startStopwatch();
  res.once('finish', () => {
    const route = routeClassOf((req.url ?? '/').split('?')[0] as string);
    const method = KNOWN_METHODS.has(req.method ?? '') ? (req.method as string) : 'other';
    metrics.observe(route, method, `${Math.floor(res.statusCode / 100)}xx`, elapsed());
  });
}
