import { createLimiter } from '../analysis/concurrency.js';
import { FileRepo } from '../db/repos/file-repo.js';
import { sqliteDialect } from '../db/dialect/sqlite.js';
import { RenderQueue } from '../delivery/render-queue.js';
import type { DeliveryDeps } from '../delivery/serve-file.js';
import { ThumbnailMaker } from '../delivery/thumbnail.js';
import { TransformedImages } from '../delivery/transformed-image.js';
import { TransformedVideos } from '../delivery/transformed-video.js';
import { LibraryEvents } from '../events/library-events.js';
import type { ExtensionModels } from '../extensions/extension-models.js';
import { AUTO_TAG_JOB, ExtensionService, REMOVE_BG_JOB } from '../extensions/extension-service.js';
import { createLocalModels } from '../extensions/local-models.js';
import type { Services } from '../http/context.js';
import { Janitor, janitorJob } from '../jobs/janitor.js';
import { JobRunner } from '../jobs/job-runner.js';
import { CustomFieldService } from '../library/custom-fields.js';
import { FileManager } from '../library/file-manager.js';
import { listAssets } from '../library/list-assets.js';
import type { AnalysisDeps } from '../upload/analyze-file.js';
import { downloadImage } from '../upload/fetch-url.js';
import { AddressAllowlist } from '../upload/ip-guard.js';
import { normalizeFolder } from '../upload/naming.js';
import { POST_TRANSFORM_JOB, PRE_TRANSFORM_JOB, UploadTransformationJobs } from '../upload/transformation-jobs.js';
import { addVersionFromBytes, addVersionFromStream, type UploadDeps, uploadFile } from '../upload/upload-file.js';
import { createWebhookHandler } from '../webhooks/deliver-webhook.js';
import { WEBHOOK_JOB, WebhookOutbox, webhookJob } from '../webhooks/outbox.js';
import type { Infrastructure } from './infrastructure.js';

/** Every kind of background job, woken after an upload commits and reported by the job queue metrics. */
const JOB_KINDS = [WEBHOOK_JOB, AUTO_TAG_JOB, REMOVE_BG_JOB, PRE_TRANSFORM_JOB, POST_TRANSFORM_JOB] as const;

/** The services a caller may bring instead of the defaults. */
export interface ServiceOverrides {
  /** The extensions' models; the local ones by default. */
  models?: ExtensionModels;
}

/** What the HTTP layer serves, and the background work behind it. */
export interface AppServices {
  /** What GraphQL resolvers use. */
  graphql: Services;
  /** What file delivery uses. */
  delivery: DeliveryDeps;
  /** Runs the queued jobs once started; `runningCount` and `stop` serve the shutdown. */
  runner: JobRunner;
  /**
   * Starts the background work: schedules the janitor's first run (unless one is pending), starts claiming jobs,
   * and starts writing derivative cache hits periodically. Nothing runs in the background before.
   */
  start(): Promise<void>;
}

/** Builds the services on `infra` and registers every job handler; starts nothing (see {@link AppServices.start}). */
export function createServices(infra: Infrastructure, overrides: ServiceOverrides = {}): AppServices {
  const { config, log, clock, metrics, transactor, store, derived, bus, queue, modelHosts, ffmpeg, closing } = infra;
  const files = new FileRepo(transactor);
  const allowlist = new AddressAllowlist(config.urlFetch.allowlist);
  const customFields = new CustomFieldService(transactor);
  const analysis: AnalysisDeps = {
    maxImagePixels: config.limits.maxImagePixels,
    ffprobePath: ffmpeg.ffprobe,
    ffmpegPath: ffmpeg.ffmpeg,
    imageLimiter: createLimiter(config.analysis.concurrency),
    imageWorkers: infra.imageAnalysis,
    probeLimiter: createLimiter(config.analysis.concurrency),
    processLimits: { memoryBytes: config.transform.video.memoryBytes },
    log: (message, err) => log.error({ err }, message),
    metrics: metrics.analysis,
  };
  const runner = new JobRunner(queue, log, clock);
  const outbox = new WebhookOutbox(transactor, queue, config.webhooks.urls);
  const events = new LibraryEvents(outbox, bus, config.urlEndpoint);
  const extensions = new ExtensionService({
    clock,
    transactor,
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
  const queueOptions = { maxQueued: config.transform.maxQueued, failureTtlMs: 60_000, metrics: metrics.renders, clock };
  const imageRenders = new RenderQueue(createLimiter(config.analysis.concurrency), config.transform.waitMs, { ...queueOptions, kind: 'image' });
  const videoRenders = new RenderQueue(createLimiter(Math.max(1, Math.floor(config.analysis.concurrency / 2))), config.transform.waitMs, { ...queueOptions, kind: 'video' });
  const ffmpegBounds = { maxMemoryBytes: config.transform.video.memoryBytes, signal: closing.signal };
  const videoOptions = {
    ffmpeg: { ffmpegPath: ffmpeg.ffmpeg, timeoutMs: config.transform.videoTimeoutMs, ...ffmpegBounds },
    frameLimiter: analysis.probeLimiter,
    maxInputPixels: config.limits.maxImagePixels,
    maxOutputPixels: config.transform.video.maxOutputPixels,
    tokenKey: infra.privateKeys[0] as string,
    findFaces,
  };
  // Jobs share the renders and slots of deliveries, but their video renders may run (and they wait) longer.
  const jobWaitMs = config.transform.videoJobTimeoutMs;
  const jobVideoOptions = { ...videoOptions, ffmpeg: { ...videoOptions.ffmpeg, timeoutMs: jobWaitMs } };
  const transformations = new UploadTransformationJobs({
    transactor,
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
    transactor,
    files,
    store,
    config,
    allowlist,
    customFields,
    analysis,
    events,
    bus,
    notifyJobs: () => runner.notifyDue(),
    extensions,
    transformations,
    findFaces,
    imageRenders,
    metrics: metrics.uploads,
  };
  runner.register(webhookJob, createWebhookHandler(transactor, { secret: infra.webhookSecret, timeoutMs: config.webhooks.timeoutMs, retryWindowMs: config.webhooks.retryWindowMs, retryBaseMs: config.webhooks.retryBaseMs, allowlist, metrics: metrics.webhooks, clock }));
  for (const { kind, handler: jobHandler } of [...extensions.handlers(), ...transformations.handlers()]) runner.register(kind, jobHandler);
  // What a crash leaves behind is collected by a leased job (one process at a time), never at start.
  const janitor = new Janitor({ store, files, derived, queue, log, metrics: metrics.janitor, clock, ...config.janitor });
  runner.register(janitorJob, janitor.handler());
  metrics.readFrom({ renderQueues: { image: imageRenders, video: videoRenders }, jobs: { kinds: JOB_KINDS, counts: (kinds) => queue.counts(kinds) }, derivativeCache: derived });

  return {
    graphql: {
      config,
      files,
      customFields,
      bus,
      outbox,
      webhookSecret: infra.webhookSecret,
      listAssets: async (options) => listAssets(transactor, await customFields.list(), options),
      manager: new FileManager(transactor, store, customFields, events, () => uploadDeps.notifyJobs(), extensions),
      folders: (folderPath) => files.listFolders(normalizeFolder(folderPath)),
      uploadFile: (params) => uploadFile(uploadDeps, params),
    },
    delivery: {
      files,
      store: derived,
      thumbnails: new ThumbnailMaker(derived, imageRenders, { maxInputPixels: config.limits.maxImagePixels, ffmpegPath: ffmpeg.ffmpeg, limiter: analysis.probeLimiter, ...ffmpegBounds }),
      basePath: new URL(`${config.urlEndpoint}/`).pathname,
      transformed: new TransformedImages(derived, imageRenders, config.limits.maxImagePixels, findFaces),
      videos: new TransformedVideos(derived, videoRenders, videoOptions),
      privateKeys: infra.privateKeys,
      namedTransformations: config.namedTransformations,
      log: (err) => log.error({ err }, 'Delivery failed'),
    },
    runner,
    start: async () => {
      await janitor.schedule();
      runner.start();
      derived.start();
    },
  };
}
