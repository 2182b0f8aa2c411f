import type http from 'node:http';
import type { Config } from './config.js';
import { createHttp } from './composition/http.js';
import { createInfrastructure, type InfrastructureOverrides } from './composition/infrastructure.js';
import { createServices, type ServiceOverrides } from './composition/services.js';

/** What a caller (a test, a benchmark) may bring instead of what the configuration opens. */
export interface AppOverrides extends InfrastructureOverrides, ServiceOverrides {}

export interface App {
  server: http.Server;
  privateKeys: readonly string[];
  /**
   * Starts the background work: job claiming, the janitor's schedule, the derivative cache's periodic writes.
   * Until then the app does nothing on its own. A second call returns the first's promise.
   */
  start(): Promise<void>;
  /** Starts (unless started) and listens; resolves with the base URL actually bound. */
  listen(port?: number, host?: string): Promise<string>;
  /**
   * Shuts down gracefully: stops taking connections, closes subscriptions, lets requests and jobs in flight finish
   * within `timeoutMs` (`STOWAGE_SHUTDOWN_TIMEOUT_MS` by default), then cuts requests, releases jobs and kills
   * renders still running, and closes the database. With nothing in flight it returns at once. Logs a line when it
   * starts and one, with a {@link ShutdownSummary}, when it is done.
   */
  close(options?: CloseOptions): Promise<void>;
}

export interface CloseOptions {
  timeoutMs?: number;
  /** What asked for the shutdown (e.g. `SIGTERM`), for the log. */
  reason?: string;
}

/** What a shutdown had to cut short. */
export interface ShutdownSummary {
  durationMs: number;
  /** Requests still open at the deadline, whose connections were closed. */
  cutRequests: number;
  /** Jobs still running at the deadline, given back to the queue. */
  releasedJobs: number;
  /** graphql-ws connections closed with 1001. */
  closedSockets: number;
  /** Subscriptions over SSE (or any other transport still open) ended with a `SHUTTING_DOWN` error. */
  endedSubscriptions: number;
}

/** After the deadline, how long cut requests get to clean up (an upload deleting its partial blob). */
const CLEANUP_MS = 2000;

/**
 * Composition root: opens the infrastructure (database, blob store, bus, queue, clock), builds the services on it
 * and the HTTP server over them. Starts no background work and never listens by itself (see `start`, `listen`).
 */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const infra = await createInfrastructure(config, overrides);
  const services = createServices(infra, overrides);
  const web = createHttp(infra, services);
  const { log, closing } = infra;
  const { runner } = services;
  const { drainer } = web;
  let started: Promise<void> | undefined;
  let shutdown: Promise<void> | undefined;

  const start = () => {
    if (shutdown) return Promise.reject(new Error('The app was closed; create a new one to start again'));
    return (started ??= services.start());
  };

  return {
    server: web.server,
    privateKeys: infra.privateKeys,
    start,
    listen: async (port = config.port, host = config.host) => {
      await start();
      return web.listen(port, host);
    },
    // A second call (a restart after a shutdown) waits for the first.
    close: (options) => (shutdown ??= shutDown(options)),
  };

  /** Stops claiming jobs, once a start in progress has finished (so nothing starts claiming after the stop). */
  async function stopJobs(grace: AbortSignal): Promise<string[]> {
    await started?.catch(() => {});
    return runner.stop(grace);
  }

  async function shutDown({ timeoutMs = config.shutdown.timeoutMs, reason }: CloseOptions = {}): Promise<void> {
    const startedAt = Date.now();
    const inFlight = { requests: drainer.inFlight, jobs: runner.runningCount };
    log.info({ reason, timeoutMs, inFlight }, `Shutting down${reason ? ` on ${reason}` : ''}: finishing ${inFlight.requests} requests and ${inFlight.jobs} jobs within ${timeoutMs} ms`);
    const grace = AbortSignal.timeout(timeoutMs);
    // At the deadline the renders still running are killed: their requests are cut, their jobs released.
    grace.addEventListener('abort', () => closing.abort(new Error('The server is shutting down')), { once: true });
    const drained = drainer.drain(grace);
    const closedSockets = await web.closeSockets();
    const endedSubscriptions = web.endSubscriptions();
    const [{ cut }, released] = await Promise.all([drained, stopJobs(grace)]);
    closing.abort(new Error('The server is shutting down'));
    await drainer.settled(AbortSignal.timeout(CLEANUP_MS));
    await infra.close();
    const summary: ShutdownSummary = { durationMs: Date.now() - startedAt, cutRequests: cut, releasedJobs: released.length, closedSockets, endedSubscriptions };
    log.info(
      summary,
      `Shut down in ${summary.durationMs} ms: ${cut} requests cut, ${released.length} jobs released to the queue, ${closedSockets} WebSocket connections closed (1001), ${endedSubscriptions} SSE subscriptions ended`,
    );
  }
}
