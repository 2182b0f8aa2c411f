import { pipeline } from 'node:stream';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { FileRepo, FileView } from '../db/repos/file-repo.js';
import { badRequest, fileTooLarge } from '../errors.js';
import type { CustomFieldService } from '../library/custom-fields.js';
import { assertValidCustomMetadata, completeCustomMetadata } from '../library/custom-metadata-values.js';
import type { BlobStore } from '../storage/blob-store.js';
import { ByteLimit } from '../storage/byte-limit.js';
import { withLocalFile } from '../storage/local-file.js';
import { commitVersion, fileAlreadyExists, MAX_VERSIONS, versionLimitReached } from './commit.js';
import { type DetectedType, detectType, SNIFF_BYTES } from './detect-type.js';
import { HeadCapture } from './head-capture.js';
import { createObjectId, createUniqueSuffix } from './ids.js';
import type { AddressAllowlist } from './ip-guard.js';
import { formatCoordinates, joinFilePath, withUniqueSuffix } from './naming.js';
import { type AnalysisDeps, analyzeFile } from './analyze-file.js';
import { assertTypeAllowed } from './type-policy.js';
import { HashingStream } from './hashing-stream.js';
import { parseUploadRequest, type UploadParams } from './request.js';
import { openSource } from './source.js';

export interface UploadDeps {
  db: Db;
  files: FileRepo;
  store: BlobStore;
  config: Config;
  allowlist: AddressAllowlist;
  customFields: CustomFieldService;
  analysis: AnalysisDeps;
}

export const blobKeyFor = (versionId: string) => `files/${versionId}`;

/**
 * The whole `uploadFile` operation: validate, stream the bytes into the blob store under a fresh key while
 * detecting the type, enforcing the type policy and size limit and hashing, analyse the stored bytes, then commit
 * the rows. Any failure
 * deletes the blob, so nothing partial remains and the previous version is untouched.
 * @throws AppError (BAD_REQUEST, FILE_TOO_LARGE, FILE_DOWNLOAD_FAILED, FILE_ALREADY_EXISTS, VERSION_LIMIT_REACHED)
 */
export async function uploadFile(deps: UploadDeps, params: UploadParams): Promise<FileView> {
  const { config, store } = deps;
  const request = parseUploadRequest(params);
  const exactName = request.baseName;
  const fields = deps.customFields.list();
  if (request.customMetadata) assertValidCustomMetadata(request.customMetadata, fields, { parameter: 'customMetadata', allowNull: false });

  if (!request.useUniqueFileName) {
    const existing = deps.files.findByPath(joinFilePath(request.folder, exactName));
    if (existing && !request.overwriteFile) throw fileAlreadyExists();
    if (existing && deps.files.countVersions(existing.file.id) >= MAX_VERSIONS) throw versionLimitReached(existing.file.filePath);
  }

  const maxAnyBytes = Math.max(config.limits.maxFileBytes, config.limits.maxVideoBytes);
  const source = await openSource(request.file, maxAnyBytes, {
    timeoutMs: config.urlFetch.timeoutMs,
    maxRedirects: config.urlFetch.maxRedirects,
    allowlist: deps.allowlist,
  });

  const versionId = createObjectId();
  const blobKey = blobKeyFor(versionId);
  let detected: DetectedType | undefined;
  const limit = new ByteLimit(maxAnyBytes, fileTooLarge);
  const sniff = new HeadCapture({
    sniffBytes: SNIFF_BYTES,
    keepBytes: SNIFF_BYTES,
    onSniff: async (bytes) => {
      detected = await detectType(bytes, exactName);
      assertTypeAllowed(detected.mime, config.types);
      const limitBytes = detected.isVideo ? config.limits.maxVideoBytes : config.limits.maxFileBytes;
      if ((source.declaredSize ?? 0) > limitBytes) throw fileTooLarge(limitBytes);
      limit.setLimit(limitBytes);
    },
    onEmpty: () => badRequest('file', 'Your request contains invalid file parameter. The file is empty.'),
  });
  const hash = new HashingStream('sha256');
  const body = pipeline(source.stream, limit, sniff, hash, () => {});

  let size: number;
  try {
    ({ size } = await store.put(blobKey, body));
  } catch (error) {
    throw source.describeError(error);
  }

  try {
    const type = detected as DetectedType;
    const found = await withLocalFile(store, blobKey, (file) => analyzeFile(file, type, deps.analysis));
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
    return commitVersion(deps.db, {
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
      sha256: hash.digest,
      tags: request.tags,
      customCoordinates: coords ? formatCoordinates(coords) : null,
      description: request.description,
      isPrivateFile: request.isPrivateFile,
      isPublished: request.isPublished,
      resolveCustomMetadata: (previous) =>
        completeCustomMetadata(request.customMetadata ?? (request.overwriteCustomMetadata ? {} : (previous ?? {})), fields, 'customMetadata'),
    });
  } catch (error) {
    await store.delete(blobKey);
    throw error;
  }
}
