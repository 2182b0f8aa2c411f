import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { AppError, badRequest, fileTooLarge } from '../errors.js';
import type { ExtensionSpec } from '../extensions/extension-request.js';
import { type FilePart, MultipartReader } from '../http/multipart.js';
import type { UnreadBody } from '../http/unread-body.js';
import type { StreamedFile, UploadParams } from '../upload/request.js';
import type { UploadTransformationInput } from '../upload/upload-transformation.js';
import { parseResponseFields, type ResponseField } from './file-json.js';

/**
 * ImageKit's upload form (`POST /api/v1/files/upload`): every field a string (booleans "true"/"false", lists
 * comma-joined, objects as JSON text), `file` a binary part or a string (base64, data URI or URL). This module turns
 * the fields into the pipeline's `UploadParams` and reads the form as a stream.
 */

/** The fields that become upload parameters (others, such as the client-side auth fields, are read elsewhere or ignored). */
const BOOLEAN_FIELDS = ['useUniqueFileName', 'isPrivateFile', 'isPublished', 'overwriteFile', 'overwriteAITags', 'overwriteTags', 'overwriteCustomMetadata'] as const;

/**
 * Every field the form may carry: the upload parameters, the client-side authentication fields and `file`. Others
 * are ignored, as fields a newer SDK may send that Stowage does not know.
 */
export const UPLOAD_FORM_FIELDS: ReadonlySet<string> = new Set([
  'file',
  'fileName',
  ...BOOLEAN_FIELDS,
  'tags',
  'folder',
  'customCoordinates',
  'responseFields',
  'extensions',
  'webhookUrl',
  'customMetadata',
  'transformation',
  'checks',
  'description',
  'publicKey',
  'signature',
  'expire',
  'token',
]);

/** Upload parameters decoded from the form: everything but the file and the request id. */
export type UploadFieldParams = Omit<UploadParams, 'file' | 'requestId'>;

export interface DecodedUploadFields {
  params: UploadFieldParams;
  responseFields: Set<ResponseField>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `"true"` / `"false"` (any case, blanks around ignored); absent → undefined (the pipeline's default). */
export function decodeBoolean(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw badRequest(name, `Your request contains invalid ${name} parameter. It must be "true" or "false"; got ${JSON.stringify(raw)}.`);
}

/** `t1,t2` → `["t1", "t2"]`; an empty string is "no tags" (on an overwrite, the old ones are removed). The pipeline checks each tag. */
export function decodeTags(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '') return [];
  return raw.split(',');
}

/** JSON text of the type `expected` names; an empty string counts as absent. */
function decodeJson(name: string, raw: string | undefined, expected: 'object' | 'array'): unknown {
  if (raw === undefined || raw.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badRequest(name, `Your request contains invalid ${name} parameter. It must be JSON text (an ${expected}).`);
  }
  if (expected === 'array' ? !Array.isArray(value) : !isObject(value)) {
    throw badRequest(name, `Your request contains invalid ${name} parameter. It must be a JSON ${expected}.`);
  }
  return value;
}

/**
 * The upload parameters the form's fields encode, as ImageKit's SDKs send them. Values the pipeline validates
 * (names, folders, tags, coordinates, custom metadata, extensions, transformations) are passed on as they are; only
 * the encodings are checked here. `checks` is refused: Stowage does not evaluate upload checks.
 * @throws BAD_REQUEST naming the field: missing fileName, a boolean that is not "true"/"false", JSON that does not
 *   parse or has the wrong type, an unknown responseFields value, a `checks` value.
 */
export function decodeUploadFields(fields: ReadonlyMap<string, string>): DecodedUploadFields {
  const fileName = fields.get('fileName');
  if (fileName === undefined || fileName.trim() === '') throw badRequest('fileName', 'Your request is missing fileName parameter.');
  const checks = fields.get('checks');
  if (checks !== undefined && checks.trim() !== '') {
    throw badRequest('checks', 'Your request contains the checks parameter, which Stowage does not support: send the upload without it.');
  }
  const params: UploadFieldParams = { fileName };
  for (const name of BOOLEAN_FIELDS) {
    const value = decodeBoolean(name, fields.get(name));
    if (value !== undefined) params[name] = value;
  }
  const tags = decodeTags(fields.get('tags'));
  if (tags !== undefined) params.tags = tags;
  for (const name of ['folder', 'customCoordinates', 'webhookUrl', 'description'] as const) {
    const value = fields.get(name);
    if (value !== undefined) params[name] = value;
  }
  const customMetadata = decodeJson('customMetadata', fields.get('customMetadata'), 'object');
  if (customMetadata !== undefined) params.customMetadata = customMetadata as Record<string, unknown>;
  // Checked item by item by the pipeline's parseExtensions, which takes JSON values.
  const extensions = decodeJson('extensions', fields.get('extensions'), 'array');
  if (extensions !== undefined) params.extensions = extensions as ExtensionSpec[];
  // Checked, JSON types included, by the pipeline's parseUploadTransformation.
  const transformation = decodeJson('transformation', fields.get('transformation'), 'object');
  if (transformation !== undefined) params.transformation = transformation as UploadTransformationInput;
  return { params, responseFields: parseResponseFields(fields.get('responseFields')) };
}

export interface UploadFormLimits {
  /** The largest file any upload may be: a file part is cut one byte past it (the pipeline then refuses it). */
  maxFileBytes: number;
  /** The largest file sent as a base64 string in the `file` field (the field may hold its base64, and a data URI's prefix). */
  maxBase64FileBytes: number;
  /** The longest of any other field. */
  maxFieldBytes: number;
  /** How many fields a form may have. */
  maxFields: number;
}

/** The form as far as the upload needs it to start. */
export interface ReadyForm {
  /** Every field received before the upload starts: all of them unless the file part is streamed. */
  fields: Map<string, string>;
  /** The `file` part, when the file was sent as one. */
  file: StreamedFile | undefined;
}

export interface UploadForm extends UnreadBody {
  /**
   * Settles once the upload can start: when the `file` part arrives and `canStream` accepts the fields received
   * before it (the part is then streamed on as it arrives), else once the body has ended (a part that came too
   * early was spilled to a temp file meanwhile, up to the size bound).
   * @throws AppError for a malformed form, an oversized field or file, a repeated field, a client gone away.
   */
  ready: Promise<ReadyForm>;
  /** Deletes what the form holds on disk (a spilled part the upload did not open). Call once the upload settled. */
  dispose(): void;
}

/**
 * The end of a streamed file part, held until the form has ended: the upload commits only once the whole body was
 * read and no field came after the file (one would be ignored otherwise); such a field, or the client going away,
 * fails the stream instead, so the upload stores nothing.
 */
class HeldEnd extends Transform {
  constructor(private readonly formEnded: Promise<void>) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.formEnded.then(() => cb(), (error: Error) => cb(error));
  }
}

const asAppError = (message: string, status: number) =>
  new AppError(status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message, { parameter: 'file' });

/**
 * Reads ImageKit's upload form from `req` as a stream (with the same multipart reader as GraphQL uploads). Fields are
 * collected until the `file` part; if `canStream` accepts them, the part is handed on unread (see {@link HeldEnd}),
 * else it is spilled to a temp file until the body ends. A `file` field (string), or no file, is known at the end.
 * @throws Error when the request is not multipart with a boundary
 */
export function readUploadForm(req: IncomingMessage, limits: UploadFormLimits, canStream: (fields: ReadonlyMap<string, string>) => boolean): UploadForm {
  const maxFileFieldBytes = Math.ceil(limits.maxBase64FileBytes / 3) * 4 + 1024;
  const fields = new Map<string, string>();
  let part: FilePart | undefined;
  let mode: 'fields' | 'streaming' | 'spilling' = 'fields';
  let settled = false;
  let resolveReady!: (form: ReadyForm) => void;
  let rejectReady!: (error: AppError) => void;
  const ready = new Promise<ReadyForm>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  let endForm!: () => void;
  let failForm!: (error: AppError) => void;
  const formEnded = new Promise<void>((resolve, reject) => {
    endForm = resolve;
    failForm = reject;
  });
  // Nobody waits for the end when the upload did not read the file (it failed first).
  formEnded.catch(() => {});

  const settle = (form: ReadyForm) => {
    if (settled) return;
    settled = true;
    resolveReady(form);
  };
  const fail = (error: AppError) => {
    if (mode === 'streaming') {
      failForm(error);
      reader.failCurrent(error);
    }
    if (settled) return;
    settled = true;
    part?.discard();
    rejectReady(error);
  };

  const streamed = (filePart: FilePart, open: () => Readable): StreamedFile => ({
    filename: filePart.info.filename ?? '',
    mimetype: filePart.info.mimeType,
    createReadStream: open,
  });

  const onField = (name: string, value: string, truncated: boolean) => {
    if (settled && mode !== 'streaming') return;
    if (name === 'file' && (truncated || Buffer.byteLength(value) > maxFileFieldBytes)) {
      fail(fileTooLarge(limits.maxBase64FileBytes));
      return;
    }
    if (name !== 'file' && (truncated || Buffer.byteLength(value) > limits.maxFieldBytes)) {
      fail(new AppError('PAYLOAD_TOO_LARGE', `The form field "${name}" exceeds ${limits.maxFieldBytes} bytes.`, { parameter: name }));
      return;
    }
    if (!UPLOAD_FORM_FIELDS.has(name)) return;
    if (mode === 'streaming') {
      fail(
        badRequest(
          name,
          `Your request contains the ${name} parameter after the file part, which was already being stored: send every parameter before "file" (a form whose fileName comes after the file part is read to its end before the upload starts).`,
        ),
      );
      return;
    }
    if (fields.has(name) || (name === 'file' && part)) {
      fail(badRequest(name, `Your request contains the ${name} parameter more than once.`));
      return;
    }
    fields.set(name, value);
  };

  const onFile = (name: string, filePart: FilePart) => {
    if (name !== 'file' || (settled && mode !== 'streaming')) {
      filePart.discard();
      return;
    }
    if (part || fields.has('file')) {
      filePart.discard();
      fail(badRequest('file', 'Your request contains the file parameter more than once: upload one file per request.'));
      return;
    }
    part = filePart;
    if (canStream(fields)) {
      mode = 'streaming';
      settle({
        fields: new Map(fields),
        file: streamed(filePart, () => {
          const held = new HeldEnd(formEnded);
          pipeline(filePart.open(), held, () => {});
          return held;
        }),
      });
      return;
    }
    mode = 'spilling';
    // Past the largest limit there is nothing to wait for: the file is too large whatever its type.
    filePart.stream.once('limit', () => fail(fileTooLarge(limits.maxFileBytes)));
    filePart.spillToDisk();
  };

  const reader = new MultipartReader(
    req,
    { maxFiles: 2, maxFields: limits.maxFields, maxFieldBytes: Math.max(limits.maxFieldBytes, maxFileFieldBytes) + 1, maxFileBytes: limits.maxFileBytes },
    {
      onField,
      onFile,
      onError: (message, status) => fail(asAppError(message, status)),
      onFieldsLimit: () => fail(new AppError('PAYLOAD_TOO_LARGE', `The form has more than ${limits.maxFields} fields.`, { parameter: 'file' })),
      onClose: () => {
        if (mode === 'streaming') {
          endForm();
          return;
        }
        settle({ fields, file: mode === 'spilling' && part ? streamed(part, () => (part as FilePart).open()) : undefined });
      },
      onDisconnect: () => fail(badRequest('file', 'Your request contains invalid file parameter. The client disconnected before the request was fully sent.')),
    },
  );

  return {
    ready,
    drain: (maxBytes) => reader.drain(maxBytes),
    abandon: () => {
      reader.stopReading();
      fail(badRequest('file', 'The request was not read to its end.'));
    },
    dispose: () => {
      if (mode === 'spilling') part?.discard();
    },
  };
}
