import type { ServerResponse } from 'node:http';
import { AppError, helpFor, isAppError } from '../errors.js';

/** A JSON answer, never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/**
 * An error as ImageKit's REST API answers it: `{ message, help }` with ImageKit's status, plus Stowage's stable
 * `code` (and the offending `parameter`) for clients that read them; ImageKit's SDKs read `message` and the status.
 * Errors that are not AppErrors are masked as a 500.
 */
export function sendError(res: ServerResponse, error: unknown): void {
  const known = isAppError(error) ? error : new AppError('INTERNAL_SERVER_ERROR', 'We have experienced an internal error while processing your request.');
  const body: Record<string, unknown> = { message: known.message, help: helpFor(known.code), code: known.code };
  if (known.parameter) body.parameter = known.parameter;
  if (known.details) body.details = known.details;
  // ImageKit's own extras sit beside `message`: `reason`, per-property `errors`, bulk operations' `missingFileIds`.
  for (const key of ['reason', 'errors', 'missingFileIds'] as const) if (known.details?.[key] !== undefined) body[key] = known.details[key];
  sendJson(res, known.status, body, known.status === 401 ? { 'www-authenticate': 'Basic realm="Stowage", charset="UTF-8"' } : {});
}
