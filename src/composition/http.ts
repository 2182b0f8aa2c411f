import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UploadTokenRepo } from '../db/repos/upload-token-repo.js';
import { createGraphQLHandler } from '../http/graphql.js';
import { attachGraphQLWs } from '../http/graphql-ws.js';
import { createReadinessCheck } from '../http/health.js';
import { LiveSubscriptions } from '../http/live-subscriptions.js';
import { createOriginPolicy } from '../http/origin-policy.js';
import { SharedSubscriptions } from '../http/shared-subscriptions.js';
import { createRequestHandler } from '../http/server.js';
import { HttpDrainer } from '../http/shutdown.js';
import type { Infrastructure } from './infrastructure.js';
import type { AppServices } from './services.js';

/** The HTTP surface over the services: the node server with GraphQL (HTTP, SSE, graphql-ws), delivery and probes. */
export interface HttpLayer {
  server: http.Server;
  /** Tracks the requests in flight, for a graceful shutdown. */
  drainer: HttpDrainer;
  /** Closes the graphql-ws connections with 1001; resolves with how many there were. */
  closeSockets(): Promise<number>;
  /** Ends the subscriptions over SSE with a `SHUTTING_DOWN` error; returns how many there were. */
  endSubscriptions(): number;
  /** Starts listening; resolves with the base URL actually bound. */
  listen(port: number, host: string): Promise<string>;
}

/** Builds the server (not yet listening) that serves `services`. */
export function createHttp(infra: Infrastructure, services: AppServices): HttpLayer {
  const { config, log, metrics, privateKeys } = infra;
  const maxJsonBodyBytes = Math.ceil(config.limits.maxFileBytes / 3) * 4 + 1024 * 1024;
  const subscriptions = new LiveSubscriptions();
  const { yoga, preparsed } = createGraphQLHandler(services.graphql, log, { maxJsonBodyBytes, maxQueryCost: config.http.maxQueryCost, plugins: [subscriptions.plugin, new SharedSubscriptions().plugin] });
  const origins = createOriginPolicy({ urlEndpoint: config.urlEndpoint, corsOrigins: config.http.corsOrigins });
  const handler = createRequestHandler({
    yoga,
    preparsed,
    privateKeys,
    origins,
    maxFileBytes: Math.max(config.limits.maxFileBytes, config.limits.maxVideoBytes),
    log,
    metrics: { registry: metrics.registry, http: metrics.http, public: config.metrics.public },
    readiness: createReadinessCheck({ transactor: infra.transactor, databaseFile: infra.databaseFile, store: infra.store }),
    delivery: services.delivery,
    rest: { services: services.graphql, privateKeys, publicKeys: infra.publicKeys, uploadTokens: new UploadTokenRepo(infra.transactor, infra.clock, (err) => log.error({ err }, 'Deleting expired upload tokens failed')), origins, maxFileBytes: Math.max(config.limits.maxFileBytes, config.limits.maxVideoBytes), log },
  });
  const server = http.createServer((req, res) => {
    drainer.serve(req, res, () => handler(req, res)).catch((error) => {
      log.error({ err: error, requestId: res.getHeader('x-request-id') }, 'Request failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.requestTimeout = 0;
  const drainer = new HttpDrainer(server);
  const graphqlWs = attachGraphQLWs(server, yoga, privateKeys, origins);

  return {
    server,
    drainer,
    closeSockets: () => graphqlWs.close(),
    endSubscriptions: () => subscriptions.end(),
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { address, port: bound } = server.address() as AddressInfo;
          resolve(`http://${address.includes(':') ? `[${address}]` : address}:${bound}`);
        });
      }),
  };
}
