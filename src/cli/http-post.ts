import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { CliError } from './cli-error.js';

export interface PostRequest {
  headers: Record<string, string>;
  /** Sent as it is read; the request stops reading it when the server answers before the end. */
  body: Buffer | Readable;
  contentLength: number;
  /** No byte either way for this long fails the request. */
  idleTimeoutMs: number;
}

export interface PostResponse {
  status: number;
  text: string;
}

/** Network failure codes that a later attempt may not meet again. */
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);

function unreachable(url: URL, error: NodeJS.ErrnoException): CliError {
  const reason = error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
  return new CliError(`could not reach ${url.href} (${reason})`, {
    code: 'UNREACHABLE',
    transience: !error.code || TRANSIENT_NETWORK_CODES.has(error.code) ? 'transient' : 'permanent',
    cause: error,
  });
}

/**
 * One POST over node:http(s), streaming the body from its source. The answer is taken as soon as it comes,
 * even while the body is still being sent (a server refusing a file too large answers early), and then
 * the rest of the body is not read at all.
 * @throws CliError UNREACHABLE when no complete answer arrived (connection refused, reset, timed out).
 */
export function post(url: URL, request: PostRequest): Promise<PostResponse> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    let answered = false;
    const fail = (error: CliError) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const req = transport.request(url, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': String(request.contentLength) },
    });
    req.setTimeout(request.idleTimeoutMs, () => {
      req.destroy(Object.assign(new Error(`no answer for ${request.idleTimeoutMs / 1000}s`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // Writing into a connection the server closed after answering early fails; the answer is what counts.
      if (!answered) fail(unreachable(url, error));
    });
    req.on('response', (res) => {
      answered = true;
      const body = request.body;
      if (!Buffer.isBuffer(body) && !body.readableEnded) {
        body.unpipe(req);
        body.destroy();
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error: NodeJS.ErrnoException) => fail(unreachable(url, error)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    if (Buffer.isBuffer(request.body)) {
      req.end(request.body);
    } else {
      request.body.once('error', (error: NodeJS.ErrnoException) => {
        if (answered) return;
        fail(error instanceof CliError ? error : new CliError(`could not read the file to send: ${error.message}`, { code: error.code ?? 'READ_FAILED', cause: error }));
        req.destroy();
      });
      request.body.pipe(req);
    }
  });
}
