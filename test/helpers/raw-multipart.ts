import http from 'node:http';
import { basicAuth } from './test-app.js';

export const BOUNDARY = '----stowage-test-boundary';

/** The bytes before and after a file part of a one-file GraphQL multipart request. */
export function multipartEnvelope(query: string, variables: Record<string, unknown>, filename: string) {
  const head =
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query, variables })}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n${JSON.stringify({ 0: ['variables.file'] })}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return { head: Buffer.from(head), tail: Buffer.from(`\r\n--${BOUNDARY}--\r\n`) };
}

/**
 * Opens a streaming multipart POST (to /graphql unless `path` says otherwise, with `boundary`); the caller writes
 * the body at its own pace.
 */
export function openMultipartRequest(baseUrl: string, extraHeaders: Record<string, string> = {}, { path = '/graphql', boundary = BOUNDARY } = {}) {
  const url = new URL(path, baseUrl);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: basicAuth(), 'transfer-encoding': 'chunked', ...extraHeaders },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { req, response };
}
