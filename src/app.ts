import fs from 'node:fs';
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
import { normalizeFolder } from './upload/naming.js';
import { ThumbnailMaker } from './delivery/thumbnail.js';
import type { Services } from './http/context.js';
import { createGraphQLHandler } from './http/graphql.js';
import { createRequestHandler } from './http/server.js';
import { createLogger, type Logger } from './logger.js';
import { resolvePrivateKeys } from './private-key.js';
import type { BlobStore } from './storage/blob-store.js';
import { LocalBlobStore } from './storage/local-blob-store.js';
import { AddressAllowlist } from './upload/ip-guard.js';
import { uploadFile } from './upload/upload-file.js';

export interface AppOverrides {
  store?: BlobStore;
  logger?: Logger;
}

export interface App {
  server: http.Server;
  privateKeys: readonly string[];
  /** Starts listening; resolves with the base URL actually bound. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Deletes what a crash can leave behind: half-written temp objects, and stored blobs no version row points
 * to (the process died between storing the bytes and committing the row).
 */
async function sweepLeftovers(store: BlobStore, files: FileRepo, startedAt: Date, log: Logger): Promise<void> {
  const temps = await store.sweepIncomplete(startedAt);
  let orphans = 0;
  for await (const blob of store.list('files/')) {
    if (blob.modifiedAt < startedAt && !files.hasBlobKey(blob.key)) {
      await store.delete(blob.key);
      orphans++;
    }
  }
  if (temps + orphans > 0) log.info(`Swept ${temps} incomplete and ${orphans} orphaned blobs`);
}

/** Composition root: opens the database and blob store and wires the HTTP server. Never listens by itself. */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const startedAt = new Date();
  const log = overrides.logger ?? createLogger(config.logLevel);
  fs.mkdirSync(config.dataDir, { recursive: true });
  const privateKeys = resolvePrivateKeys(config.privateKeys, config.dataDir, (key, file) => {
    process.stdout.write(`\nGenerated a private API key (stored in ${file}); it is shown only this once:\n\n    ${key}\n\n`);
  });
  const { db, close: closeDb } = openDatabase(path.join(config.dataDir, 'stowage.db'));
  const store = overrides.store ?? new LocalBlobStore(path.join(config.dataDir, 'blobs'));
  const files = new FileRepo(db);
  await sweepLeftovers(store, files, startedAt, log);

  const allowlist = new AddressAllowlist(config.urlFetch.allowlist);
  const customFields = new CustomFieldService(db);
  const binaries = resolveFfmpegPaths({ STOWAGE_FFMPEG_PATH: config.analysis.ffmpegPath, STOWAGE_FFPROBE_PATH: config.analysis.ffprobePath });
  const analysis: AnalysisDeps = {
    maxImagePixels: config.limits.maxImagePixels,
    ffprobePath: binaries.ffprobe,
    imageLimiter: createLimiter(config.analysis.concurrency),
    probeLimiter: createLimiter(config.analysis.concurrency),
    log: (message, error) => log.error(message, error),
  };
  const services: Services = {
    config,
    files,
    customFields,
    listAssets: (options) => listAssets(db, customFields.list(), options),
    manager: new FileManager(db, store, customFields),
    folders: (folderPath) => files.listFolders(normalizeFolder(folderPath)),
    uploadFile: (params) => uploadFile({ db, files, store, config, allowlist, customFields, analysis }, params),
  };
  const maxJsonBodyBytes = Math.ceil(config.limits.maxFileBytes / 3) * 4 + 1024 * 1024;
  const { yoga, preparsed } = createGraphQLHandler(services, log, { maxJsonBodyBytes });
  const handler = createRequestHandler({
    yoga,
    preparsed,
    privateKeys,
    log,
    delivery: {
      files,
      store,
      thumbnails: new ThumbnailMaker(store, { maxInputPixels: config.limits.maxImagePixels, ffmpegPath: binaries.ffmpeg, limiter: analysis.probeLimiter }),
      basePath: new URL(`${config.urlEndpoint}/`).pathname,
      log: (error) => log.error('Delivery failed', error),
    },
  });
  const server = http.createServer((req, res) => {
    handler(req, res).catch((error) => {
      log.error('Request failed', error);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.requestTimeout = 0;

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
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      closeDb();
    },
  };
}

