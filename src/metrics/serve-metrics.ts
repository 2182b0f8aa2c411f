import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/** Answers a scrape with every metric of `registry` in Prometheus' text format; never cached. */
export async function serveMetrics(res: ServerResponse, registry: Registry): Promise<void> {
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
