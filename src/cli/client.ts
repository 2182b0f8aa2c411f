import fs from 'node:fs';
import { CliError } from './cli-error.js';
import { post } from './http-post.js';
import { createMultipartBody } from './multipart-stream.js';
import { type RemoteFile, UPLOAD_FILE, type UploadFileData } from './operations.js';

/** Where Stowage runs and the private key to call it with. */
export interface Connection {
  /** The server's base URL (`http://localhost:3000`) or its GraphQL endpoint (`…/graphql`). */
  url: string;
  key: string;
}

/** A local file (streamed from disk) or an http(s) URL (fetched by the server). */
export type UploadSource = { kind: 'file'; path: string; size: number } | { kind: 'url'; url: string };

export interface UploadParams {
  source: UploadSource;
  fileName: string;
  folder: string;
  tags: readonly string[] | undefined;
  isPrivateFile: boolean;
  useUniqueFileName: boolean;
}

/** Errors with these codes come from load (a render queue full, a transformation out of time), not the request. */
const TRANSIENT_CODES = new Set(['TRANSFORMATION_TIMEOUT', 'TOO_MANY_TRANSFORMATIONS', 'INTERNAL_SERVER_ERROR']);
const isTransientStatus = (status: number) => status === 429 || status === 408 || status >= 500;
/** Uploads may sit in analysis or a pre-transformation for a while after their last byte. */
const IDLE_TIMEOUT_MS = 5 * 60_000;

interface GraphqlError {
  message?: string;
  extensions?: { code?: string; status?: number };
}

/** `http://host:3000` and `http://host:3000/graphql` both name the endpoint `http://host:3000/graphql`. */
export function toGraphqlEndpoint(url: string): URL {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new CliError(`--url "${url}" is not a URL; expected e.g. http://localhost:3000.`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new CliError(`--url "${url}" is not an http(s) URL.`);
  if (base.pathname.replace(/\/+$/, '').endsWith('/graphql')) return base;
  return new URL('graphql', base.href.endsWith('/') ? base : `${base.href}/`);
}

/**
 * The data of a GraphQL answer.
 * @throws CliError with the server's `extensions.code` and message when the answer carries errors, or
 * `HTTP_<status>` when the answer is not GraphQL (a proxy's error page).
 */
function toData<T>(endpoint: URL, status: number, text: string): T {
  let body: { data?: T | null; errors?: GraphqlError[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new CliError(`${endpoint.href} answered ${status} with something that is not a GraphQL response${text ? `: ${text.trim().slice(0, 120)}` : ''}`, {
      code: `HTTP_${status}`,
      status,
      transience: isTransientStatus(status) ? 'transient' : 'permanent',
    });
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? `HTTP_${status}`;
    const errorStatus = first.extensions?.status ?? status;
    const transient = TRANSIENT_CODES.has(code) || isTransientStatus(errorStatus);
    throw new CliError(first.message ?? 'The server reported an error without a message.', { code, status: errorStatus, transience: transient ? 'transient' : 'permanent' });
  }
  if (body.data == null) throw new CliError(`${endpoint.href} answered ${status} without data.`, { code: `HTTP_${status}`, status });
  return body.data;
}

/** Stowage's GraphQL API, as the CLI uses it: JSON requests, and uploads streamed as multipart requests. */
export class StowageClient {
  readonly endpoint: URL;
  private readonly headers: Record<string, string>;

  constructor(connection: Connection) {
    this.endpoint = toGraphqlEndpoint(connection.url);
    this.headers = {
      authorization: `Basic ${Buffer.from(`${connection.key}:`).toString('base64')}`,
      accept: 'application/graphql-response+json, application/json',
      'user-agent': 'stowage-cli',
    };
  }

  /** Runs one operation. @throws CliError (the server's code, `HTTP_<status>` or `UNREACHABLE`). */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const body = Buffer.from(JSON.stringify({ query, variables }));
    const response = await post(this.endpoint, {
      headers: { ...this.headers, 'content-type': 'application/json' },
      body,
      contentLength: body.length,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
    });
    return toData<T>(this.endpoint, response.status, response.text);
  }

  /**
   * Uploads one file. A local file is streamed from disk in a multipart request; a URL goes as the `file`
   * string and the server downloads it.
   * @param onBytes called with each chunk's size as the request takes it (local files only).
   * @throws CliError as `request`, and `FILE_CHANGED` when the file's size changed while it was sent.
   */
  async upload(params: UploadParams, onBytes?: (bytes: number) => void): Promise<RemoteFile> {
    const variables = {
      file: params.source.kind === 'url' ? params.source.url : null,
      fileName: params.fileName,
      folder: params.folder,
      tags: params.tags,
      isPrivateFile: params.isPrivateFile,
      useUniqueFileName: params.useUniqueFileName,
    };
    if (params.source.kind === 'url') return (await this.request<UploadFileData>(UPLOAD_FILE, variables)).uploadFile;
    const path = params.source.path;
    const multipart = createMultipartBody(
      [
        ['operations', JSON.stringify({ query: UPLOAD_FILE, variables })],
        ['map', JSON.stringify({ 0: ['variables.file'] })],
      ],
      { fieldName: '0', filename: params.fileName, size: params.source.size, open: () => fs.createReadStream(path) },
    );
    const response = await post(this.endpoint, {
      headers: { ...this.headers, 'content-type': multipart.contentType },
      body: multipart.stream(onBytes),
      contentLength: multipart.contentLength,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
    });
    return toData<UploadFileData>(this.endpoint, response.status, response.text).uploadFile;
  }
}
