import { badRequest } from '../errors.js';
import type { Readable } from 'node:stream';
import { type ExtensionRequest, type ExtensionSpec, parseExtensions } from '../extensions/extension-request.js';
import { parseUploadTransformation, type UploadTransformation, type UploadTransformationInput } from './upload-transformation.js';
import { type Coordinates, normalizeFolder, normalizeTags, parseCustomCoordinates, sanitizeFileName } from './naming.js';

/**
 * A file whose bytes arrive as a stream: a file part of a GraphQL multipart request or of ImageKit's upload form
 * (each adapter builds one from its parser's part). The name and type are the client's and are not trusted.
 */
export interface StreamedFile {
  readonly filename: string;
  readonly mimetype: string;
  /** The bytes, straight off the request. Can be called once. */
  createReadStream(): Readable;
}

/** The `file` parameter: a streamed part, or a string that is base64, a data URI or an http(s) URL. */
export type FileSource = { kind: 'stream'; file: Promise<StreamedFile> } | { kind: 'string'; value: string };

/** `uploadFile`'s arguments, named as ImageKit names them. */
export interface UploadParams {
  file: FileSource;
  fileName: string;
  useUniqueFileName?: boolean | null;
  tags?: readonly string[] | null;
  folder?: string | null;
  isPrivateFile?: boolean | null;
  isPublished?: boolean | null;
  customCoordinates?: string | null;
  overwriteFile?: boolean | null;
  overwriteTags?: boolean | null;
  overwriteAITags?: boolean | null;
  overwriteCustomMetadata?: boolean | null;
  customMetadata?: Record<string, unknown> | null;
  description?: string | null;
  /** ImageKit's extension objects, validated by `parseExtensions`. */
  extensions?: readonly ExtensionSpec[] | null;
  webhookUrl?: string | null;
  /** A client-chosen id under which `uploadProgress` reports this upload. */
  uploadId?: string | null;
  /** ImageKit's `{pre, post}` transformations. */
  transformation?: UploadTransformationInput | null;
  /** The id of the HTTP request carrying the upload (`x_request_id` in transformation webhooks). */
  requestId?: string;
}

/** Validated, normalised upload parameters with ImageKit's defaults applied. */
export interface UploadRequest {
  file: FileSource;
  /** Sanitised name, before any unique suffix. */
  baseName: string;
  folder: string;
  useUniqueFileName: boolean;
  tags: string[] | null;
  isPrivateFile: boolean;
  isPublished: boolean;
  customCoordinates: Coordinates | null;
  overwriteFile: boolean;
  overwriteTags: boolean;
  overwriteAITags: boolean;
  overwriteCustomMetadata: boolean;
  customMetadata: Record<string, unknown> | null;
  description: string | null;
  extensions: ExtensionRequest[];
  webhookUrl: string | null;
  uploadId: string | null;
  transformation: UploadTransformation | null;
  requestId: string;
}

export const MAX_DESCRIPTION_LENGTH = 1000;

export function parseWebhookUrl(raw: string | null | undefined): string | null {
  if (raw == null || raw === '') return null;
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {}
  throw badRequest('webhookUrl', 'Your request contains invalid webhookUrl parameter. It must be an absolute http(s) URL.');
}

function parseUploadId(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(raw)) throw badRequest('uploadId', 'uploadId must be 1 to 100 letters, digits, "_" or "-".');
  return raw;
}

/**
 * Applies every ImageKit rule that can be checked before a byte of the file is read.
 * @throws BAD_REQUEST naming the offending parameter.
 */
export function parseUploadRequest(params: UploadParams): UploadRequest {
  if (params.description != null && params.description.length > MAX_DESCRIPTION_LENGTH) {
    throw badRequest(
      'description',
      `Your request contains invalid description parameter. It must be at most ${MAX_DESCRIPTION_LENGTH} characters.`,
    );
  }
  return {
    file: params.file,
    baseName: sanitizeFileName(params.fileName ?? ''),
    folder: normalizeFolder(params.folder),
    useUniqueFileName: params.useUniqueFileName ?? true,
    tags: params.tags == null ? null : normalizeTags(params.tags),
    isPrivateFile: params.isPrivateFile ?? false,
    isPublished: params.isPublished ?? true,
    customCoordinates: params.customCoordinates == null || params.customCoordinates === '' ? null : parseCustomCoordinates(params.customCoordinates),
    overwriteFile: params.overwriteFile ?? true,
    overwriteTags: params.overwriteTags ?? true,
    overwriteAITags: params.overwriteAITags ?? true,
    overwriteCustomMetadata: params.overwriteCustomMetadata ?? true,
    customMetadata: params.customMetadata ?? null,
    description: params.description ?? null,
    extensions: params.extensions ? parseExtensions(params.extensions) : [],
    webhookUrl: parseWebhookUrl(params.webhookUrl),
    uploadId: parseUploadId(params.uploadId),
    transformation: parseUploadTransformation(params.transformation),
    requestId: params.requestId ?? crypto.randomUUID(),
  };
}
