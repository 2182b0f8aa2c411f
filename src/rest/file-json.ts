import type { FileView } from '../db/repos/file-repo.js';
import { thumbnailUrl } from '../delivery/urls.js';
import { badRequest } from '../errors.js';
import type { Services } from '../http/context.js';
import { toFileDetails } from '../library/file-details.js';

/**
 * How the REST adapter writes Stowage's files as ImageKit's JSON: the file object of the Media API
 * (`GET /v1/files/{id}/details`, versions, list rows) and the upload response. Serialisation only: every value comes
 * from the `FileView` the services return, read as the GraphQL `File` type reads it.
 */

/** What the serialisers need of the services: the public URL base. */
export type JsonServices = Pick<Services, 'config'>;

const EMPTY_EXIF = { image: {}, thumbnail: {}, exif: {}, gps: {}, interoperability: {}, makernote: {} };

const isVideoLike = (view: FileView) => view.version.duration !== null;

const videoFields = (view: FileView): Record<string, unknown> =>
  isVideoLike(view) ? { bitRate: view.version.bitRate, duration: view.version.duration, audioCodec: view.version.audioCodec, videoCodec: view.version.videoCodec } : {};

/**
 * ImageKit's file object (reference 8b): `type` ("file", or "file-version" for a non-current version), fileId, name,
 * filePath, tags, AITags (null when none), versionInfo, isPrivateFile, isPublished, customCoordinates, url,
 * thumbnail, fileType, mime, width, height, size, hasAlpha, customMetadata ({} when none), embeddedMetadata,
 * description, createdAt, updatedAt, and the video fields. The same object webhooks carry.
 */
export function fileDetailsJson(view: FileView, services: JsonServices): Record<string, unknown> {
  return toFileDetails(view, services.config.urlEndpoint);
}

/** ImageKit's legacy `metadata` object (reference 8f), as GraphQL's `FileMetadata` type and `GET /v1/files/{id}/metadata` give it. */
export function metadataJson(view: FileView): Record<string, unknown> {
  const { version } = view;
  const analysis = version.analysis;
  return {
    height: version.height,
    width: version.width,
    size: version.size,
    format: version.format,
    hasColorProfile: analysis?.hasColorProfile ?? false,
    quality: analysis?.quality ?? 0,
    density: analysis?.density ?? null,
    hasTransparency: version.hasTransparency ?? false,
    pHash: version.pHash,
    exif: analysis?.exif ?? EMPTY_EXIF,
    ...videoFields(view),
  };
}

/** The values of the upload's `responseFields` (comma-separated on the form). */
export const RESPONSE_FIELDS = ['tags', 'customCoordinates', 'isPrivateFile', 'embeddedMetadata', 'isPublished', 'customMetadata', 'metadata', 'selectedFieldsSchema'] as const;
export type ResponseField = (typeof RESPONSE_FIELDS)[number];

/**
 * `tags,customCoordinates` → the fields asked for; blanks around commas and empty items are ignored.
 * `selectedFieldsSchema` is accepted and answers nothing (ImageKit sends it only on plans with path policies).
 * @throws BAD_REQUEST (responseFields) naming an unknown value.
 */
export function parseResponseFields(raw: string | undefined): Set<ResponseField> {
  const out = new Set<ResponseField>();
  for (const item of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(RESPONSE_FIELDS as readonly string[]).includes(item)) {
      throw badRequest('responseFields', `Your request contains invalid responseFields parameter. "${item}" is not one of ${RESPONSE_FIELDS.join(', ')}.`);
    }
    out.add(item as ResponseField);
  }
  return out;
}

/**
 * ImageKit's upload response (reference 2): by default fileId, name, size, versionInfo, filePath, url, fileType,
 * height and width (images and videos), thumbnailUrl (files with a thumbnail), AITags (null when none), the video
 * fields, description (when set) and extensionStatus (when extensions were asked for); each of `responseFields`
 * adds its field.
 */
export function uploadResponseJson(view: FileView, services: JsonServices, responseFields: ReadonlySet<ResponseField> = new Set()): Record<string, unknown> {
  const { file, version } = view;
  const details = fileDetailsJson(view, services);
  const thumbnail = thumbnailUrl(services.config.urlEndpoint, view);
  const body: Record<string, unknown> = {
    fileId: file.id,
    name: file.name,
    size: version.size,
    versionInfo: details.versionInfo,
    filePath: file.filePath,
    url: details.url,
    fileType: version.fileType,
    ...(version.height !== null ? { height: version.height } : {}),
    ...(version.width !== null ? { width: version.width } : {}),
    ...(thumbnail !== null ? { thumbnailUrl: thumbnail } : {}),
    AITags: details.AITags,
    ...videoFields(view),
    ...(version.description !== null ? { description: version.description } : {}),
    ...(version.extensionStatus ? { extensionStatus: version.extensionStatus } : {}),
  };
  if (responseFields.has('tags')) body.tags = details.tags;
  if (responseFields.has('customCoordinates')) body.customCoordinates = details.customCoordinates;
  if (responseFields.has('isPrivateFile')) body.isPrivateFile = details.isPrivateFile;
  if (responseFields.has('isPublished')) body.isPublished = details.isPublished;
  if (responseFields.has('customMetadata')) body.customMetadata = details.customMetadata;
  if (responseFields.has('embeddedMetadata')) body.embeddedMetadata = details.embeddedMetadata;
  if (responseFields.has('metadata')) body.metadata = metadataJson(view);
  return body;
}
