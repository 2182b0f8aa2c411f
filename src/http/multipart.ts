import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { GraphQLError } from 'graphql';
import { Upload, WriteStream as SpillFile } from 'graphql-upload-ts';
import type { StreamedFile as UploadStreamedFile } from '../upload/request.js';

/**
 * What a resolver gets for a multipart file: graphql-upload-ts's `FileUpload`, minus the temp-file capacitor; the
 * upload pipeline's neutral `StreamedFile` plus the part's field name and encoding.
 */
export interface StreamedFile extends UploadStreamedFile {
  readonly fieldName: string;
  readonly encoding: string;
}

export interface MultipartOptions {
  maxFiles: number;
  maxFieldBytes: number;
  /**
   * The largest file any upload may be. A part is cut one byte past it, so that the upload's own limit refuses it,
   * and a part spilled to a temp file (consumed out of order) never grows past it on disk.
   */
  maxFileBytes: number;
}

export interface ParsedMultipart {
  /** The `operations` field with every mapped path replaced by an `Upload`. */
  operations: unknown;
  /** Settles once the whole body was read (or failed); after it, unconsumed parts have been drained. */
  done: Promise<void>;
  /** Stops reading the request: the parts nobody consumed are dropped. */
  abandon(): void;
  /** Reads and discards what is left of the body, as long as that stays under `maxBytes`. */
  drain(maxBytes: number): Promise<boolean>;
}

const multipartError = (message: string, status = 400) =>
  new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', status, parameter: 'operations', http: { status } } });

/**
 * A file part of the request. Its bytes are piped once, straight from the socket to whoever calls `open`. Only when
 * its reader is not ready for it while the request must move on (a GraphQL resolver waits for a later part, an
 * ImageKit form sends fields after the file) is it spilled to a temp file, never past the reader's size bound.
 */
export class FilePart {
  private claimed = false;
  private spill: SpillFile | undefined;

  constructor(
    readonly stream: Readable,
    readonly info: busboy.FileInfo,
  ) {
    // Whoever reads the part handles its errors; one nobody reads must not crash the process.
    stream.on('error', () => {});
  }

  get isClaimed(): boolean {
    return this.claimed || this.spill !== undefined;
  }

  spillToDisk(): void {
    if (this.isClaimed) return;
    this.spill = new SpillFile();
    this.spill.on('error', () => {});
    this.stream.pipe(this.spill);
    this.stream.once('error', (err) => this.spill?.destroy(err));
  }

  open(): Readable {
    if (this.claimed) throw new Error('createReadStream() was already called for this file');
    this.claimed = true;
    if (!this.spill) return this.stream;
    const spill = this.spill;
    const reader = spill.createReadStream();
    spill.release();
    return reader;
  }

  /** Nobody will read the part: its bytes are discarded as they arrive, and a spill nobody opened is deleted. */
  discard(): void {
    if (this.claimed) return;
    this.claimed = true;
    const spill = this.spill;
    if (spill) this.stream.unpipe(spill);
    this.stream.resume();
    spill?.release();
  }
}

export interface MultipartLimits {
  maxFiles: number;
  maxFields: number;
  maxFieldBytes: number;
  /**
   * The largest file any upload may be. A part is cut one byte past it, so that the upload's own limit refuses it,
   * and a spilled part never grows past it on disk.
   */
  maxFileBytes: number;
}

/** What a {@link MultipartReader} reports, in the order the body holds it. */
export interface MultipartHandlers {
  /** A field; `truncated` when it was longer than `maxFieldBytes` (its value is cut). */
  onField(name: string, value: string, truncated: boolean): void;
  /** A file part as it starts: `open` it, spill it, or `discard` it. */
  onFile(name: string, part: FilePart): void;
  /** The body is malformed or has too many files; `status` is 400 or 413. */
  onError(message: string, status: number): void;
  /** The body was read to its end. */
  onClose(): void;
  /** The client went away before the body ended. */
  onDisconnect(): void;
  /** More than `maxFields` fields were sent (the rest are not reported); ignored when absent. */
  onFieldsLimit?(): void;
}

/**
 * A multipart/form-data body read as a stream with busboy: fields and file parts are reported as they arrive, each
 * file part piped once from the socket to its reader (see {@link FilePart}). Shared by the GraphQL multipart parser
 * and ImageKit's upload form, which differ only in what the fields mean.
 */
export class MultipartReader {
  /** The file part being received, until its end. */
  current: FilePart | undefined;
  /** Whether the body was read to its end. */
  finished = false;
  /** Settles once the whole body was read, or the client went away. */
  readonly done: Promise<void>;
  private readonly parts: FilePart[] = [];
  private readonly parser: busboy.Busboy;
  private discardUnclaimed = false;

  /** @throws Error when the Content-Type is not multipart with a boundary */
  constructor(
    private readonly req: IncomingMessage,
    limits: MultipartLimits,
    handlers: MultipartHandlers,
  ) {
    this.parser = busboy({
      headers: req.headers,
      limits: { fieldSize: limits.maxFieldBytes, files: limits.maxFiles, fields: limits.maxFields, fileSize: limits.maxFileBytes + 1 },
    });
    let settleDone!: () => void;
    this.done = new Promise<void>((r) => {
      settleDone = r;
    });
    this.parser.on('field', (name, value, info) => handlers.onField(name, value, info.valueTruncated));
    this.parser.on('file', (name, stream, info) => {
      const part = new FilePart(stream, info);
      this.parts.push(part);
      this.current = part;
      stream.once('end', () => {
        if (this.current === part) this.current = undefined;
      });
      handlers.onFile(name, part);
      if (this.discardUnclaimed) part.discard();
    });
    this.parser.on('fieldsLimit', () => handlers.onFieldsLimit?.());
    this.parser.on('filesLimit', () => handlers.onError(`At most ${limits.maxFiles} files can be sent in one request.`, 413));
    this.parser.on('error', (err: Error) => handlers.onError(`Invalid multipart request: ${err.message}`, 400));
    this.parser.on('close', () => {
      this.finished = true;
      handlers.onClose();
      settleDone();
    });
    req.once('close', () => {
      if (!this.finished && !req.complete) {
        handlers.onDisconnect();
        settleDone();
      }
    });
    req.pipe(this.parser);
  }

  /** Fails the part being received (its reader sees `error`); its unread bytes are discarded. */
  failCurrent(error: Error): void {
    const current = this.current;
    if (current && !current.isClaimed) current.stream.resume();
    current?.stream.destroy(error);
  }

  /** Stops reading the request: what was not read yet is dropped. */
  stopReading(): void {
    this.req.unpipe(this.parser);
    this.req.pause();
  }

  /** Reads and discards what is left of the body (parts nobody claimed included), as long as that stays under `maxBytes`. */
  drain(maxBytes: number): Promise<boolean> {
    if (this.finished) return Promise.resolve(true);
    this.discardUnclaimed = true;
    for (const part of this.parts) if (!part.isClaimed) part.discard();
    return new Promise<boolean>((settle) => {
      let seen = 0;
      const onData = (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > maxBytes) {
          this.req.off('data', onData);
          settle(false);
        }
      };
      this.req.on('data', onData);
      this.done.then(() => {
        this.req.off('data', onData);
        settle(this.finished);
      });
    });
  }
}

/** An `Upload` whose promise tells the parser when a resolver starts waiting for it. */
class StreamingUpload extends Upload {
  part: FilePart | undefined;

  constructor(onAwait: (u: StreamingUpload) => void) {
    super();
    const inner = this.promise;
    const notify = () => onAwait(this);
    const watched = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose, to see when a resolver awaits it
      then: (ok?: (v: unknown) => unknown, ko?: (e: unknown) => unknown) => (notify(), inner.then(ok, ko)),
      catch: (ko?: (e: unknown) => unknown) => (notify(), inner.catch(ko)),
      finally: (f?: () => void) => inner.finally(f),
      [Symbol.toStringTag]: 'Promise',
    };
    (this as { promise: unknown }).promise = watched;
  }
}

export const isStreamingUpload = (value: unknown): value is Upload => value instanceof Upload;

function setPath(target: unknown, path: string, value: unknown): boolean {
  const keys = path.split('.');
  let node = target as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    const next = node?.[key];
    if (next === null || typeof next !== 'object') return false;
    node = next as Record<string, unknown>;
  }
  const last = keys[keys.length - 1] as string;
  if (!(last in node) || (node[last] !== null && node[last] !== undefined)) return false;
  node[last] = value;
  return true;
}

/**
 * Parses a GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec) as a
 * stream. Resolves as soon as `operations` and `map` are read, so execution starts while file parts are still
 * arriving; no file part is buffered in memory or written to disk on its way to the resolver.
 * @throws GraphQLError (BAD_REQUEST) for a malformed request, before any file is read.
 */
export function parseMultipart(req: IncomingMessage, options: MultipartOptions): Promise<ParsedMultipart> {
  return new Promise((resolve, reject) => {
    let operations: unknown;
    const uploads = new Map<string, StreamingUpload>();
    let started = false;
    let reader: MultipartReader | undefined;

    const fail = (error: GraphQLError) => {
      for (const upload of uploads.values()) if (!upload.file) upload.reject(error);
      reader?.failCurrent(error);
      if (!started) reject(error);
    };

    const onAwait = (upload: StreamingUpload) => {
      const current = reader?.current;
      if (!upload.part && current && !current.isClaimed) current.spillToDisk();
    };

    const onField = (name: string, value: string, truncated: boolean) => {
      if (truncated) {
        fail(multipartError(`The multipart field "${name}" exceeds ${options.maxFieldBytes} bytes.`, 413));
        return;
      }
      if (name === 'operations') {
        try {
          operations = JSON.parse(value);
        } catch {
          fail(multipartError('The multipart field "operations" is not valid JSON.'));
        }
        return;
      }
      if (name === 'map') {
        if (operations === undefined) {
          fail(multipartError('The multipart field "operations" must come before "map".'));
          return;
        }
        let map: unknown;
        try {
          map = JSON.parse(value);
        } catch {
          fail(multipartError('The multipart field "map" is not valid JSON.'));
          return;
        }
        if (!map || typeof map !== 'object' || Array.isArray(map)) {
          fail(multipartError('The multipart field "map" must be an object of file field names to paths.'));
          return;
        }
        const entries = Object.entries(map as Record<string, unknown>);
        if (entries.length > options.maxFiles) {
          fail(multipartError(`At most ${options.maxFiles} files can be sent in one request.`, 413));
          return;
        }
        for (const [field, paths] of entries) {
          if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string')) {
            fail(multipartError(`The "map" entry "${field}" must be an array of object paths.`));
            return;
          }
          const upload = new StreamingUpload(onAwait);
          uploads.set(field, upload);
          for (const path of paths as string[]) {
            if (!setPath(operations, path, upload)) {
              fail(multipartError(`The "map" path "${path}" does not point at a null variable in "operations".`));
              return;
            }
          }
        }
        started = true;
        const body = reader as MultipartReader;
        resolve({
          operations,
          done: body.done,
          abandon: () => {
            body.stopReading();
            fail(multipartError('The request was not read to its end.'));
          },
          drain: (maxBytes) => body.drain(maxBytes),
        });
      }
    };

    const onFile = (field: string, part: FilePart) => {
      const upload = uploads.get(field);
      if (!started || !upload || upload.part) {
        part.discard();
        if (!started) fail(multipartError('The multipart fields "operations" and "map" must come before any file.'));
        return;
      }
      upload.part = part;
      upload.resolve({
        filename: part.info.filename ?? '',
        fieldName: field,
        mimetype: part.info.mimeType,
        encoding: part.info.encoding,
        createReadStream: () => part.open(),
      } as StreamedFile as never);
    };

    try {
      reader = new MultipartReader(
        req,
        { maxFiles: options.maxFiles, maxFields: 2, maxFieldBytes: options.maxFieldBytes, maxFileBytes: options.maxFileBytes },
        {
          onField,
          onFile,
          onError: (message, status) => fail(multipartError(message, status)),
          onClose: () => {
            if (!started) fail(multipartError('The multipart request needs the fields "operations" and "map".'));
            for (const [field, upload] of uploads) {
              if (!upload.part) upload.reject(multipartError(`The multipart request has no file part "${field}".`));
            }
          },
          onDisconnect: () => fail(multipartError('The client disconnected before the request was fully sent.')),
        },
      );
    } catch {
      reject(multipartError('Invalid multipart request: the Content-Type needs a boundary.'));
    }
  });
}
