import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { GraphQLError } from 'graphql';
import { Upload, WriteStream as SpillFile } from 'graphql-upload-ts';

/** What a resolver gets for a multipart file: graphql-upload-ts's `FileUpload`, minus the temp-file capacitor. */
export interface StreamedFile {
  readonly filename: string;
  readonly fieldName: string;
  readonly mimetype: string;
  readonly encoding: string;
  /** The part's bytes, straight off the request. Can be called once. */
  createReadStream(): Readable;
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
 * A file part of the request. Its bytes are piped once, straight from the socket to whoever calls
 * `createReadStream`. Only when a resolver waits for a later part while this one is unclaimed (several files
 * consumed out of order) is it spilled to a temp file, so the request can move on.
 */
class FilePart {
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
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fieldSize: options.maxFieldBytes, files: options.maxFiles, fields: 2, fileSize: options.maxFileBytes + 1 },
      });
    } catch {
      reject(multipartError('Invalid multipart request: the Content-Type needs a boundary.'));
      return;
    }

    let operations: unknown;
    const uploads = new Map<string, StreamingUpload>();
    let current: FilePart | undefined;
    let started = false;
    let finished = false;
    let discardUnclaimed = false;
    let settleDone!: () => void;
    const done = new Promise<void>((r) => {
      settleDone = r;
    });

    const fail = (error: GraphQLError) => {
      for (const upload of uploads.values()) if (!upload.file) upload.reject(error);
      if (current && !current.isClaimed) current.stream.resume();
      current?.stream.destroy(error);
      if (!started) reject(error);
    };

    const onAwait = (upload: StreamingUpload) => {
      if (!upload.part && current && !current.isClaimed) current.spillToDisk();
    };

    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) {
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
        resolve({
          operations,
          done,
          abandon: () => {
            req.unpipe(parser);
            req.pause();
            fail(multipartError('The request was not read to its end.'));
          },
          drain: (maxBytes) => {
            if (finished) return Promise.resolve(true);
            if (current && !current.isClaimed) current.stream.resume();
            for (const upload of uploads.values()) if (upload.part && !upload.part.isClaimed) upload.part.stream.resume();
            discardUnclaimed = true;
            return new Promise<boolean>((settle) => {
              let seen = 0;
              const onData = (chunk: Buffer) => {
                seen += chunk.length;
                if (seen > maxBytes) {
                  req.off('data', onData);
                  settle(false);
                }
              };
              req.on('data', onData);
              done.then(() => {
                req.off('data', onData);
                settle(finished);
              });
            });
          },
        });
      }
    });

    parser.on('file', (field, stream, info) => {
      const upload = uploads.get(field);
      if (!started || !upload || upload.part) {
        stream.resume();
        if (!started) fail(multipartError('The multipart fields "operations" and "map" must come before any file.'));
        return;
      }
      const part = new FilePart(stream, info);
      if (discardUnclaimed) stream.resume();
      current = part;
      upload.part = part;
      stream.once('end', () => {
        if (current === part) current = undefined;
      });
      upload.resolve({
        filename: info.filename ?? '',
        fieldName: field,
        mimetype: info.mimeType,
        encoding: info.encoding,
        createReadStream: () => part.open(),
      } as StreamedFile as never);
    });

    parser.on('filesLimit', () => fail(multipartError(`At most ${options.maxFiles} files can be sent in one request.`, 413)));
    parser.on('error', (err: Error) => fail(multipartError(`Invalid multipart request: ${err.message}`)));
    parser.on('close', () => {
      finished = true;
      if (!started) fail(multipartError('The multipart request needs the fields "operations" and "map".'));
      for (const [field, upload] of uploads) {
        if (!upload.part) upload.reject(multipartError(`The multipart request has no file part "${field}".`));
      }
      settleDone();
    });

    req.once('close', () => {
      if (!finished && !req.complete) {
        const error = multipartError('The client disconnected before the request was fully sent.');
        fail(error);
        settleDone();
      }
    });
    req.pipe(parser);
  });
}
