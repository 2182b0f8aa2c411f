import { pipeline, Readable, type Transform } from 'node:stream';
import type { ExtensionState } from '../db/schema.js';
import type { Config } from '../config.js';
import type { Transactor } from '../db/transactor.js';
import type { FileRepo, FileView } from '../db/repos/file-repo.js';
import { badRequest, fileTooLarge, isAppError } from '../errors.js';
import type { CustomFieldService } from '../library/custom-fields.js';
import { assertValidCustomMetadata, completeCustomMetadata } from '../library/custom-metadata-values.js';
import type { BlobStore } from '../storage/blob-store.js';
import { ByteLimit } from '../storage/byte-limit.js';
import { originalKey } from '../storage/blob-keys.js';
import { commitVersion, fileAlreadyExists, MAX_VERSIONS, VersionSupersededError, versionLimitReached } from './commit.js';
import { type DetectedType, detectType, SNIFF_BYTES } from './detect-type.js';
import { HeadCapture } from './head-capture.js';
import { createObjectId, createUniqueSuffix } from './ids.js';
import type { AddressAllowlist } from './ip-guard.js';
import { formatCoordinates, joinFilePath, withUniqueSuffix } from './naming.js';
import { type AnalysisDeps, analyzeFile } from './analyze-file.js';
import type { LibraryEvents } from '../events/library-events.js';
import type { EventBus, FileEvent } from '../events/pubsub.js';
import type { ExtensionService } from '../extensions/extension-service.js';
import { ProgressStream } from './progress-stream.js';
import { assertTypeAllowed } from './type-policy.js';
import { HashingStream } from './hashing-stream.js';
import { type FileSource, parseUploadRequest, type UploadParams } from './request.js';
import type { UploadTransformationJobs } from './transformation-jobs.js';
import type { FaceFinder } from '../transform/face-finder.js';
import { isUrl, openSource } from './source.js';
import { assertTransformationFits } from './upload-transformation.js';
import { preTransformImage } from './pre-transform-image.js';
import type { RenderQueue } from '../delivery/render-queue.js';
import { type SpooledBlob, spoolWhilePutting } from './spool.js';

export interface UploadDeps {
  transactor: Transactor;
  files: FileRepo;
  store: BlobStore;
  config: Config;
  allowlist: AddressAllowlist;
  customFields: CustomFieldService;
  analysis: AnalysisDeps;
  events: LibraryEvents;
  extensions: Pick<ExtensionService, 'enqueue' | 'trySync'>;
  bus: EventBus;
  /** Wakes the job runner after a commit queued jobs. */
  notifyJobs: () => void;
  transformations: Pick<UploadTransformationJobs, 'enqueue'>;
  /** For `fo-face` in pre-transformations. */
  findFaces?: FaceFinder;
  /** The image render slots, where an image's pre-transformation is rendered. */
  imageRenders: RenderQueue;
  metrics?: UploadMetrics;
}

/** How the bytes of an upload were sent. */
export type UploadSourceKind = 'multipart' | 'base64' | 'url';

/** Where uploads are reported (see `src/metrics/metrics.ts`). */
export interface UploadMetrics {
  /** An upload ended: `outcome` is `success` or the AppError code it failed with; `bytes` were received. */
  uploaded(source: UploadSourceKind, outcome: string, bytes: number): void;
}

/** Same test as `openSource` makes (there, on the trimmed value). */
const sourceKindOf = (file: FileSource): UploadSourceKind => {
  if (file.kind === 'stream') return 'multipart';
  return isUrl(file.value.trim()) ? 'url' : 'base64';
};

/** The key of a version's original (the layout lives in `src/storage/blob-keys.ts`; this name is kept for its importers). */
export const blobKeyFor = originalKey;

/** The size limit for a file of `type` (STOWAGE_MAX_VIDEO_SIZE for videos, STOWAGE_MAX_FILE_SIZE otherwise). */
const maxBytesOf = (config: Config, type: DetectedType) => (type.isVideo ? config.limits.maxVideoBytes : config.limits.maxFileBytes);

/** The most any file may have, before its type is known. */
const maxBytesOfAny = (config: Config) => Math.max(config.limits.maxFileBytes, config.limits.maxVideoBytes);

/**
 * The whole `uploadFile` operation (see `receiveUpload`), counted in `deps.metrics` by source and outcome.
 * @throws AppError (BAD_REQUEST, FILE_TOO_LARGE, FILE_DOWNLOAD_FAILED, FILE_ALREADY_EXISTS, VERSION_LIMIT_REACHED)
 */
export async function uploadFile(deps: UploadDeps, params: UploadParams): Promise<FileView> {
  // Created here so the bytes received are known however the upload ends.
  const limit = new ByteLimit(maxBytesOfAny(deps.config), fileTooLarge);
  const report = (outcome: string) => deps.metrics?.uploaded(sourceKindOf(params.file), outcome, limit.bytes);
  try {
    const view = await receiveUpload(deps, params, limit);
    report('success');
    return view;
  } catch (error) {
    report(isAppError(error) ? error.code : 'INTERNAL_SERVER_ERROR');
    throw error;
  }
}

/**
 * Validates, streams the bytes (counted by `limit`) into the blob store under a fresh key while detecting the type,
 * enforcing the type policy and size limit and hashing, analyses a local copy of the stored bytes (the store's own
 * file, or a spool written while they streamed: never a read back from the store), then commits the rows. Any
 * failure deletes the blob, so nothing partial remains and the previous version is untouched; the spool is removed
 * however the upload ends.
 */
async function receiveUpload(deps: UploadDeps, params: UploadParams, limit: ByteLimit): Promise<FileView> {
  const { config, store } = deps;
  const request = parseUploadRequest(params);
  const exactName = request.baseName;
  const fields = await deps.customFields.list();
  if (request.customMetadata) assertValidCustomMetadata(request.customMetadata, fields, { parameter: 'customMetadata', allowNull: false });

  if (!request.useUniqueFileName) {
    const existing = await deps.files.findByPath(joinFilePath(request.folder, exactName));
    if (existing && !request.overwriteFile) throw fileAlreadyExists();
    if (existing && (await deps.files.countVersions(existing.file.id)) >= MAX_VERSIONS) throw versionLimitReached(existing.file.filePath);
  }

  const maxAnyBytes = maxBytesOfAny(config);
  const source = await openSource(request.file, maxAnyBytes, {
    timeoutMs: config.urlFetch.timeoutMs,
    maxRedirects: config.urlFetch.maxRedirects,
    allowlist: deps.allowlist,
  });

  const versionId = createObjectId();
  const blobKey = originalKey(versionId);
  let detected: DetectedType | undefined;
  const sniff = new HeadCapture({
    sniffBytes: SNIFF_BYTES,
    onSniff: async (bytes) => {
      detected = await detectType(bytes, exactName);
      assertTypeAllowed(detected.mime, config.types);
      if (request.transformation) assertTransformationFits(request.transformation, { ...detected, isImage: detected.fileType === 'image' });
      const limitBytes = maxBytesOf(config, detected);
      if ((source.declaredSize ?? 0) > limitBytes) throw fileTooLarge(limitBytes);
      limit.setLimit(limitBytes);
    },
    onEmpty: () => badRequest('file', 'Your request contains invalid file parameter. The file is empty.'),
  });
  const hash = new HashingStream('sha256');
  const stages: Transform[] = [limit, sniff, hash];
  if (request.uploadId) stages.push(new ProgressStream(deps.bus, request.uploadId, source.declaredSize ?? null));
  // pipeline destroys every stage when one fails, so the store sees the error and keeps nothing.
  pipeline([source.stream, ...stages], () => {});
  const body = stages[stages.length - 1] as Transform;

  let stored: SpooledBlob;
  try {
    stored = await spoolWhilePutting(store, blobKey, body);
  } catch (error) {
    throw source.describeError(error);
  }

  let view: FileView;
  let sha256 = hash.digest;
  try {
    let type = detected as DetectedType;
    const pre = request.transformation?.pre;
    if (pre && type.fileType === 'image') {
      const transformed = await preTransformImage({ ...deps, renders: deps.imageRenders }, { blobKey, localFile: stored.localFile, type, sha256, fileName: exactName }, pre);
      await stored.release();
      ({ stored, sha256, type } = transformed);
    }
    const { size } = stored;
    const found = await analyzeFile(stored.localFile, type, deps.analysis);
    const { width, height } = found;
    const coords = request.customCoordinates;
    if (coords) {
      if (type.fileType !== 'image') {
        throw badRequest('customCoordinates', 'Your request contains invalid customCoordinates parameter. customCoordinates apply to images only.');
      }
      if (width !== null && height !== null && (coords.x + coords.width > width || coords.y + coords.height > height)) {
        throw badRequest(
          'customCoordinates',
          `Your request contains invalid customCoordinates parameter. The area ${formatCoordinates(coords)} does not fit inside the ${width}x${height} image.`,
        );
      }
    }
    if (request.extensions.length > 0 && type.fileType !== 'image') {
      throw badRequest('extensions', `Your request contains invalid extensions parameter. Extensions apply to images only; this file is ${type.mime}.`);
    }
    const published: FileEvent[] = [];
    view = await commitVersion(deps.transactor, {
      versionId,
      blobKey,
      folder: request.folder,
      chooseName: () => (request.useUniqueFileName ? withUniqueSuffix(exactName, createUniqueSuffix()) : exactName),
      useUniqueFileName: request.useUniqueFileName,
      overwriteFile: request.overwriteFile,
      overwriteTags: request.overwriteTags,
      overwriteAITags: request.overwriteAITags,
      size,
      mime: type.mime,
      fileType: type.fileType,
      ...found,
      format: found.format ?? type.ext ?? null,
      sha256,
      tags: request.tags,
      customCoordinates: coords ? formatCoordinates(coords) : null,
      description: request.description,
      isPrivateFile: request.isPrivateFile,
      isPublished: request.isPublished,
      resolveCustomMetadata: (previous) =>
        completeCustomMetadata(request.customMetadata ?? (request.overwriteCustomMetadata ? {} : (previous ?? {})), fields, 'customMetadata'),
      extensionStatus: request.extensions.length > 0 ? Object.fromEntries(request.extensions.map((e) => [e.name, 'pending' as const])) : null,
      onCommit: async (tx, committed, created) => {
        published.push(await deps.events.record(tx, created ? 'file.created' : 'file-version.created', committed));
        await deps.extensions.enqueue(tx, committed, request.extensions, request.webhookUrl);
        if (request.transformation) await deps.transformations.enqueue(tx, committed, request.transformation, request.requestId, { videoPre: type.isVideo });
      },
    });
    deps.events.publish(published);
  } catch (error) {
    await store.delete(blobKey);
    throw error;
  } finally {
    await stored.release();
  }
  deps.notifyJobs();
  if (request.extensions.length === 0) return view;
  await deps.extensions.trySync(view, request.extensions, request.webhookUrl);
  return (await deps.files.findVersion(view.file.id, view.version.id)) ?? view;
}

/**
 * Adds a version made by Stowage itself from `of` (remove-bg's cut-out, a video's pre-transformation) to its file:
 * same path, `of`'s attributes kept, the new bytes streamed into the store and analysed like an upload.
 * With `sizeLimited` the bytes obey the upload size limit for their type, counted while they stream.
 * @throws VersionSupersededError when `of` is no longer the file's current version (or the file is gone), checked
 * again in the commit's transaction; FILE_TOO_LARGE (file) past the limit; nothing is stored then.
 */
export async function addVersionFromStream(
  deps: UploadDeps,
  of: FileView,
  body: Readable,
  extensionStatus: Record<string, ExtensionState> | null,
  options: { sizeLimited?: boolean } = {},
): Promise<FileView> {
  const current = await deps.files.findById(of.file.id);
  if (current?.version.id !== of.version.id) {
    body.destroy();
    throw new VersionSupersededError(`${of.file.filePath} no longer has version ${of.version.id} as its current version`);
  }
  const versionId = createObjectId();
  const blobKey = originalKey(versionId);
  const hash = new HashingStream('sha256');
  let sniffed: DetectedType | undefined;
  const limit = new ByteLimit(options.sizeLimited ? maxBytesOfAny(deps.config) : Number.POSITIVE_INFINITY, fileTooLarge);
  const sniff = new HeadCapture({
    sniffBytes: SNIFF_BYTES,
    onSniff: async (head) => {
      sniffed = await detectType(head, current.file.name);
      if (options.sizeLimited) limit.setLimit(maxBytesOf(deps.config, sniffed));
    },
    onEmpty: () => new Error(`The new version of ${current.file.filePath} is empty.`),
  });
  pipeline(body, limit, sniff, hash, () => {});
  const stored = await spoolWhilePutting(deps.store, blobKey, hash);
  const { size } = stored;
  try {
    const type = sniffed as DetectedType;
    const found = await analyzeFile(stored.localFile, type, deps.analysis);
    const published: FileEvent[] = [];
    const view = await commitVersion(deps.transactor, {
      versionId,
      blobKey,
      folder: current.file.folderPath,
      chooseName: () => current.file.name,
      useUniqueFileName: false,
      overwriteFile: true,
      overwriteTags: false,
      overwriteAITags: false,
      size,
      mime: type.mime,
      fileType: type.fileType,
      ...found,
      format: found.format ?? type.ext ?? null,
      sha256: hash.digest,
      tags: current.version.tags,
      customCoordinates: current.version.customCoordinates,
      description: current.version.description,
      isPrivateFile: current.version.isPrivateFile,
      isPublished: current.version.isPublished,
      resolveCustomMetadata: () => current.version.customMetadata,
      extensionStatus,
      onlyOnTopOf: { fileId: of.file.id, versionId: of.version.id },
      onCommit: async (tx, committed) => {
        published.push(await deps.events.record(tx, 'file-version.created', committed));
      },
    });
    deps.events.publish(published);
    return view;
  } catch (error) {
    await deps.store.delete(blobKey);
    throw error;
  } finally {
    await stored.release();
  }
}

export const addVersionFromBytes = (deps: UploadDeps, of: FileView, bytes: Buffer, extensionStatus: Record<string, ExtensionState>) =>
  addVersionFromStream(deps, of, Readable.from([bytes]), extensionStatus);
