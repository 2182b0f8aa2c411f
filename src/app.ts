import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Config } from './config.js';
import { openDatabase } from './db/client.js';
import { resolveFfmpegPaths } from './analysis/binaries.js';
import { createLimiter } from './analysis/concurrency.js';
import { FileRepo } from './db/repos/file-repo.js';
import type { AnalysisDeps } from './upload/analyze-file.js';
import { CustomFieldService } from './library/custom-fields.js';
import { FileManager } from './library/file-manager.js';
import { listAssets } from './library/list-assets.js';
import { sqliteDialect } from './db/dialect/sqlite.js';
import { normalizeFolder } from './upload/naming.js';
import { ThumbnailMaker } from './delivery/thumbnail.js';
import { RenderQueue } from './delivery/render-queue.js';
import { TransformedImages } from './delivery/transformed-image.js';
import { TransformedVideos } from './delivery/transformed-video.js';
import { DerivativeCache } from './delivery/derivative-cache.js';
import type { Services } from './http/context.js';
import { createGraphQLHandler } from './http/graphql.js';
import { createRequestHandler } from './http/server.js';
import { createReadinessCheck } from './http/health.js';
import { createMetrics } from './metrics/metrics.js';
import { createLogger, type Logger } from './logger.js';
import { resolvePrivateKeys, resolveWebhookSecret } from './private-key.js';
import { LibraryEvents } from './events/library-events.js';
import { createEventBus, type EventBus } from './events/pubsub.js';
import type { ExtensionModels } from './extensions/extension-models.js';
import { AUTO_TAG_JOB, ExtensionService, REMOVE_BG_JOB } from './extensions/extension-service.js';
import { createLocalModels } from './extensions/local-models.js';
import { createModelHosts } from './extensions/model-hosts.js';
import { attachGraphQLWs } from './http/graphql-ws.js';
import { LiveSubscriptions } from './http/live-subscriptions.js';
import { HttpDrainer } from './http/shutdown.js';
import { createOriginPolicy } from './http/origin-policy.js';
import { JobRunner } from './jobs/job-runner.js';
import { SqliteJobQueue } from './jobs/sqlite-job-queue.js';
import { Janitor, janitorJob } from './jobs/janitor.js';
import { downloadImage } from './upload/fetch-url.js';
import { addVersionFromBytes, addVersionFromStream, type UploadDeps } from './upload/upload-file.js';
import { POST_TRANSFORM_JOB, PRE_TRANSFORM_JOB, UploadTransformationJobs } from './upload/transformation-jobs.js';
import { createWebhookHandler } from './webhooks/deliver-webhook.js';
import { WEBHOOK_JOB, WebhookOutbox, webhookJob } from './webhooks/outbox.js';
import type { BlobStore } from './storage/blob-store.js';
import { LocalBlobStore } from './storage/local-blob-store.js';
import { ensurePrivateDir } from './storage/private-files.js';
import { AddressAllowlist } from './upload/ip-guard.js';
import { uploadFile } from './upload/upload-file.js';

/** Every kind of background job, woken after an upload commits and reported by the job queue metrics. */
const JOB_KINDS = [WEBHOOK_JOB, AUTO_TAG_JOB, REMOVE_BG_JOB, PRE_TRANSFORM_JOB, POST_TRANSFORM_JOB] as const;

export interface AppOverrides {
  store?: BlobStore;
  logger?: Logger;
  /** The extensions' models; the local ones by default. */
  models?: ExtensionModels;
  /** The live event bus; in-memory by default (share one to connect several apps, as Redis would). */
  bus?: EventBus;
}

export interface App {
  server: http.Server;
  privateKeys: readonly string[];
  /** Starts listening; resolves with the base URL actually bound. */
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

/** Composition root: opens the database and blob store and wires the HTTP server. Never listens by itself. */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const log = overrides.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  ensurePrivateDir(config.dataDir);
  const privateKeys = resolvePrivateKeys(config.privateKeys, config.dataDir, (key, file) => {
    process.stdout.write(`\nGenerated a private API key (stored in ${file}); it is shown only this once:\n\n    ${key}\n\n`);
  });
  const metrics = createMetrics();
  const databaseFile = path.join(config.dataDir, 'stowage.db');
  const { db, close: closeDb } = openDatabase(databaseFile);
  const store = overrides.store ?? new LocalBlobStore(path.join(config.dataDir, 'blobs'));
  const files = new FileRepo(db);
  // Derivatives are stored and found through the cache, which bounds them and drops those of deleted versions.
  const derived = new DerivativeCache(db, store, { maxBytes: config.derivativeCache.maxBytes, log, metrics: metrics.derivativeCache });

  const allowlist = new AddressAllowlist(config.urlFetch.allowlist);
  const customFields = new CustomFieldService(db);
  const binaries = resolveFfmpegPaths({ STOWAGE_FFMPEG_PATH: config.analysis.ffmpegPath, STOWAGE_FFPROBE_PATH: config.analysis.ffprobePath });
  const analysis: AnalysisDeps = {
    maxImagePixels: config.limits.maxImagePixels,
    ffprobePath: binaries.ffprobe,
    ffmpegPath: binaries.ffmpeg,
    imageLimiter: createLimiter(config.analysis.concurrency),
    probeLimiter: createLimiter(config.analysis.concurrency),
    processLimits: { memoryBytes: config.transform.video.memoryBytes },
    log: (message, err) => log.error({ err }, message),
    metrics: metrics.analysis,
  };
  const webhookSecret = resolveWebhookSecret(config.webhooks.secret, config.dataDir, (secret, file) => {
    process.stdout.write(`Generated a webhook signing secret (stored in ${file}):\n\n    ${secret}\n\n`);
  });
  const bus = overrides.bus ?? createEventBus();
  const queue = new SqliteJobQueue(db);
  const runner = new JobRunner(queue, log);
  const outbox = new WebhookOutbox(db, queue, config.webhooks.urls);
  const events = new LibraryEvents(outbox, bus, config.urlEndpoint);
  // Models run in child processes, started on first use, so inference never blocks the event loop.
  const modelHosts = createModelHosts();
  const extensions = new ExtensionService({
    db,
    files,
    store,
    queue,
    outbox,
    events,
    bus,
    models: overrides.models ?? createLocalModels(modelHosts, { googleVision: config.extensions.googleVision, awsRekognition: config.extensions.awsRekognition }),
    urlEndpoint: config.urlEndpoint,
    log,
    syncBudgetMs: config.extensions.syncBudgetMs,
    storeNewVersion: (of, png, status) => addVersionFromBytes(uploadDeps, of, png, status),
    fetchImage: (url) => downloadImage(url, { timeoutMs: config.urlFetch.timeoutMs, maxRedirects: config.urlFetch.maxRedirects, allowlist, maxBytes: config.limits.maxFileBytes }),
  });
  const findFaces = modelHosts.findFaces;
  // Images and videos render in separate slots, so a few long video renders never stall image delivery.
  const queueOptions = { maxQueued: config.transform.maxQueued, failureTtlMs: 60_000, metrics: metrics.renders };
  const imageRenders = new RenderQueue(createLimiter(config.analysis.concurrency), config.transform.waitMs, { ...queueOptions, kind: 'image' });
  const videoRenders = new RenderQueue(createLimiter(Math.max(1, Math.floor(config.analysis.concurrency / 2))), config.transform.waitMs, { ...queueOptions, kind: 'video' });
  // Aborted on close: kills the ffmpeg renders and frame grabs still running.
  const closing = new AbortController();
  const ffmpegBounds = { maxMemoryBytes: config.transform.video.memoryBytes, signal: closing.signal };
  const videoOptions = {
    ffmpeg: { ffmpegPath: binaries.ffmpeg, timeoutMs: config.transform.videoTimeoutMs, ...ffmpegBounds },
    frameLimiter: analysis.probeLimiter,
    maxInputPixels: config.limits.maxImagePixels,
    maxOutputPixels: config.transform.video.maxOutputPixels,
    tokenKey: privateKeys[0] as string,
    findFaces,
  };
  const videos = new TransformedVideos(derived, videoRenders, videoOptions);
  const images = new TransformedImages(derived, imageRenders, config.limits.maxImagePixels, findFaces);
  // Jobs share the renders and slots of deliveries, but their video renders may run (and they wait) longer.
  const jobWaitMs = config.transform.videoJobTimeoutMs;
  const jobVideoOptions = { ...videoOptions, ffmpeg: { ...videoOptions.ffmpeg, timeoutMs: jobWaitMs } };
  const transformations = new UploadTransformationJobs({
    db,
    files,
    store,
    queue,
    outbox,
    images: new TransformedImages(derived, imageRenders.withWait(jobWaitMs), config.limits.maxImagePixels, findFaces),
    videos: new TransformedVideos(derived, videoRenders.withWait(jobWaitMs), jobVideoOptions),
    urlEndpoint: config.urlEndpoint,
    log,
    addVersion: (of, body) => addVersionFromStream(uploadDeps, of, body, null, { sizeLimited: true }),
    notifyJobs: () => uploadDeps.notifyJobs(),
    leaseMs: 2 * jobWaitMs + 60_000,
  });
  const uploadDeps: UploadDeps = {
    db,
    files,
    store,
    config,
    allowlist,
    customFields,
    analysis,
    events,
    bus,
    notifyJobs: () => {
      for (const kind of JOB_KINDS) runner.notify(kind);
    },
    extensions,
    transformations,
    findFaces,
    imageRenders,
    metrics: metrics.uploads,
  };
  runner.register(webhookJob, createWebhookHandler(db, { secret: webhookSecret, timeoutMs: config.webhooks.timeoutMs, retryWindowMs: config.webhooks.retryWindowMs, retryBaseMs: config.webhooks.retryBaseMs, allowlist, metrics: metrics.webhooks }));
  for (const { kind, handler: jobHandler } of [...extensions.handlers(), ...transformations.handlers()]) runner.register(kind, jobHandler);
  // What a crash leaves behind is collected by a leased job (one process at a time), never at start.
  const janitor = new Janitor({ store, files, derived, queue, log, metrics: metrics.janitor, ...config.janitor });
  runner.register(janitorJob, janitor.handler());
  await janitor.schedule();
  runner.start();
  metrics.readFrom({ renderQueues: { image: imageRenders, video: videoRenders }, jobs: { kinds: JOB_KINDS, counts: (kinds) => queue.counts(kinds) }, derivativeCache: derived });

  const services: Services = {
    config,
    files,
    customFields,
    bus,
    outbox,
    webhookSecret,
    listAssets: (options) => listAssets(db, sqliteDialect, customFields.list(), options),
    manager: new FileManager(db, store, customFields, events, () => uploadDeps.notifyJobs(), extensions),
    folders: (folderPath) => files.listFolders(normalizeFolder(folderPath)),
    uploadFile: (params) => uploadFile(uploadDeps, params),
  };
  const maxJsonBodyBytes = Math.ceil(config.limits.maxFileBytes / 3) * 4 + 1024 * 1024;
  const subscriptions = new LiveSubscriptions();
  const { yoga, preparsed } = createGraphQLHandler(services, log, { maxJsonBodyBytes, maxQueryCost: config.http.maxQueryCost, plugins: [subscriptions.plugin] });
  const origins = createOriginPolicy({ urlEndpoint: config.urlEndpoint, corsOrigins: config.http.corsOrigins });
  const handler = createRequestHandler({
    yoga,
    preparsed,
    privateKeys,
    origins,
    maxFileBytes: Math.max(config.limits.maxFileBytes, config.limits.maxVideoBytes),
    log,
    metrics: { registry: metrics.registry, http: metrics.http, public: config.metrics.public },
    readiness: createReadinessCheck({ db, databaseFile, store }),
    delivery: {
      files,
      store: derived,
      thumbnails: new ThumbnailMaker(derived, imageRenders, { maxInputPixels: config.limits.maxImagePixels, ffmpegPath: binaries.ffmpeg, limiter: analysis.probeLimiter, ...ffmpegBounds }),
      basePath: new URL(`${config.urlEndpoint}/`).pathname,
      transformed: images,
      videos,
      privateKeys,
      namedTransformations: config.namedTransformations,
      log: (err) => log.error({ err }, 'Delivery failed'),
    },
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
  let shutdown: Promise<void> | undefined;
  const graphqlWs = attachGraphQLWs(server, yoga, privateKeys, origins);

  return {
    server,
    privateKeys,
    listen: (port = config.port, host = config.host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { address, port: bound } = server.address() as AddressInfo;
          resolve(`http://${address.includes(':') ? `[${address}]` : address}:${bound}`);
        });
      }),
    // A second call (a restart after a shutdown) waits for the first.
    close: (options) => (shutdown ??= shutDown(options)),
  };

  async function shutDown({ timeoutMs = config.shutdown.timeoutMs, reason }: CloseOptions = {}): Promise<void> {
    const startedAt = Date.now();
    const inFlight = { requests: drainer.inFlight, jobs: runner.runningCount };
    log.info({ reason, timeoutMs, inFlight }, `Shutting down${reason ? ` on ${reason}` : ''}: finishing ${inFlight.requests} requests and ${inFlight.jobs} jobs within ${timeoutMs} ms`);
    const grace = AbortSignal.timeout(timeoutMs);
    // At the deadline the renders still running are killed: their requests are cut, their jobs released.
    grace.addEventListener('abort', () => closing.abort(new Error('The server is shutting down')), { once: true });
    const drained = drainer.drain(grace);
    const closedSockets = await graphqlWs.close();
    const endedSubscriptions = subscriptions.end();
    const [{ cut }, released] = await Promise.all([drained, runner.stop(grace)]);
    closing.abort(new Error('The server is shutting down'));
    await drainer.settled(AbortSignal.timeout(CLEANUP_MS));
    await modelHosts.close();
    derived.close();
    closeDb();
    const summary: ShutdownSummary = { durationMs: Date.now() - startedAt, cutRequests: cut, releasedJobs: released.length, closedSockets, endedSubscriptions };
    log.info(
      summary,
      `Shut down in ${summary.durationMs} ms: ${cut} requests cut, ${released.length} jobs released to the queue, ${closedSockets} WebSocket connections closed (1001), ${endedSubscriptions} SSE subscriptions ended`,
    );
  }
}

