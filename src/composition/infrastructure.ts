import path from 'node:path';
import { type FfmpegPaths, resolveFfmpegPaths } from '../analysis/binaries.js';
import { createImageAnalysisPool, type ImageAnalysisPool } from '../analysis/image-analysis-pool.js';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { databaseFileOf, openDatabase, type SqliteDb } from '../db/client.js';
import { openPostgres } from '../db/pg/client.js';
import { createPostgresTransactor } from '../db/pg/transactor.js';
import { createSqliteTransactor, type Transactor } from '../db/transactor.js';
import { DerivativeCache } from '../delivery/derivative-cache.js';
import { openEventBus } from '../events/open-event-bus.js';
import type { EventBus } from '../events/pubsub.js';
import { createModelHosts, type ModelHosts } from '../extensions/model-hosts.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { DatabaseJobQueue } from '../jobs/database-job-queue.js';
import { createLogger, type Logger } from '../logger.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { resolvePrivateKeys, resolvePublicKeys, resolveWebhookSecret } from '../private-key.js';
import type { BlobStore } from '../storage/blob-store.js';
import { openBlobStore } from '../storage/open-blob-store.js';
import { ensurePrivateDir } from '../storage/private-files.js';

/** The parts of the infrastructure a caller (a test, a benchmark) may bring instead of having them opened. */
export interface InfrastructureOverrides {
  store?: BlobStore;
  logger?: Logger;
  /** The live event bus; by default Redis when `STOWAGE_REDIS_URL` is set, else in-memory (share one to connect several apps). */
  bus?: EventBus;
  /**
   * An already-open, migrated database on a file (as `openDatabase` returns it), used instead of `stowage.db` in
   * the data directory; its opener closes it, the app never does. Apps given the same handle share one library, and
   * one queue of transactions on it.
   */
  db?: SqliteDb;
  /** The job queue (outbox and transport); on the database by default. */
  queue?: JobQueue;
  /** The time jobs, the janitor and the derivative cache schedule by; the system clock by default. */
  clock?: Clock;
}

/** What the services run on: storage, messaging, time, and the process-wide handles (logs, metrics, secrets). */
export interface Infrastructure {
  config: Config;
  log: Logger;
  clock: Clock;
  metrics: Metrics;
  /** The API keys requests authenticate with (generated into the data directory when none are configured). */
  privateKeys: readonly string[];
  /** The public keys client-side uploads name (generated into the data directory when none are configured). */
  publicKeys: readonly string[];
  webhookSecret: string;
  /**
   * The database: transactions and writes one at a time on its writer connection (whose mutex keeps other requests
   * out of an open transaction), reads outside transactions on a reader connection.
   */
  transactor: Transactor;
  /** The SQLite file the database has open, which `/readyz` checks is still in place; none on PostgreSQL. */
  databaseFile?: string;
  /** The blob store as it is. */
  store: BlobStore;
  /** The blob store with derivatives kept in the bounded ledger: what producers of derivatives and delivery use. */
  derived: DerivativeCache;
  bus: EventBus;
  queue: JobQueue;
  /** The child processes local models run in, started on first use, so inference never blocks the event loop. */
  modelHosts: ModelHosts;
  /** The worker threads image analysis runs in (`STOWAGE_ANALYSIS_CONCURRENCY` of them at most), started on first use. */
  imageAnalysis: ImageAnalysisPool;
  ffmpeg: FfmpegPaths;
  /** Aborted on close: kills the ffmpeg renders and frame grabs still running. */
  closing: AbortController;
  /** Stops the model processes and analysis workers, writes the derivative cache's pending hits, and closes the database it opened. */
  close(): Promise<void>;
}

/** Opens what the app runs on, from the configuration, except what `overrides` brings. Starts no background work. */
export async function createInfrastructure(config: Config, overrides: InfrastructureOverrides = {}): Promise<Infrastructure> {
  const log = overrides.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const clock = overrides.clock ?? systemClock;
  ensurePrivateDir(config.dataDir);
  const privateKeys = resolvePrivateKeys(config.privateKeys, config.dataDir, (key, file) => {
    process.stdout.write(`\nGenerated a private API key (stored in ${file}); it is shown only this once:\n\n    ${key}\n\n`);
  });
  const publicKeys = resolvePublicKeys(config.publicKeys, config.dataDir, (key, file) => {
    process.stdout.write(`Generated a public API key for client-side uploads (stored in ${file}):\n\n    ${key}\n\n`);
  });
  const webhookSecret = resolveWebhookSecret(config.webhooks.secret, config.dataDir, (secret, file) => {
    process.stdout.write(`Generated a webhook signing secret (stored in ${file}):\n\n    ${secret}\n\n`);
  });
  // Resolved before anything is opened: a missing ffmpeg build fails the start with nothing to close.
  const ffmpeg = resolveFfmpegPaths({ STOWAGE_FFMPEG_PATH: config.analysis.ffmpegPath, STOWAGE_FFPROBE_PATH: config.analysis.ffprobePath });
  const metrics = createMetrics();
  // Before the database: an unreachable Redis fails the start with nothing else to close.
  const events = overrides.bus ? { bus: overrides.bus, close: async () => {} } : await openEventBus(config, log);
  const { transactor, databaseFile, closeDb } = await openMetadataDatabase(config, overrides.db).catch(async (error: unknown) => {
    await events.close();
    throw error;
  });
  const store = overrides.store ?? openBlobStore(config);
  // Derivatives are stored and found through the cache, which bounds them and drops those of deleted versions.
  const derived = new DerivativeCache(transactor, store, { maxBytes: config.derivativeCache.maxBytes, log, metrics: metrics.derivativeCache, clock });
  const modelHosts = createModelHosts();
  const imageAnalysis = createImageAnalysisPool(config.analysis.concurrency);
  return {
    config,
    log,
    clock,
    metrics,
    privateKeys,
    publicKeys,
    webhookSecret,
    transactor,
    databaseFile,
    store,
    derived,
    bus: events.bus,
    queue: overrides.queue ?? new DatabaseJobQueue(transactor, () => clock.now()),
    modelHosts,
    imageAnalysis,
    ffmpeg,
    closing: new AbortController(),
    close: async () => {
      await Promise.all([modelHosts.close(), imageAnalysis.close()]);
      await derived.close();
      await transactor.close();
      await closeDb();
      await events.close();
    },
  };
}

interface MetadataDatabase {
  transactor: Transactor;
  databaseFile?: string;
  closeDb: () => void | Promise<void>;
}

/** The database `config` selects (PostgreSQL, or SQLite in the data directory), or the SQLite handle a caller brings. */
async function openMetadataDatabase(config: Config, given: SqliteDb | undefined): Promise<MetadataDatabase> {
  if (given) return { transactor: createSqliteTransactor(given), databaseFile: databaseFileOf(given), closeDb: () => {} };
  if (config.database.kind === 'postgres') {
    const { db, close } = await openPostgres(config.database.url, { schema: config.database.schema });
    return { transactor: createPostgresTransactor(db, config.database.schema), closeDb: close };
  }
  const databaseFile = path.join(config.dataDir, 'stowage.db');
  const { db, close } = openDatabase(databaseFile);
  return { transactor: createSqliteTransactor(db), databaseFile, closeDb: close };
}
