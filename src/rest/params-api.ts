import type { IncomingMessage } from 'node:http';
import { AppError, badRequest } from '../errors.js';

/**
 * Reading the Media API's requests: JSON bodies and query parameters, checked by type with ImageKit's messages
 * ("Your request is missing X parameter.", "Your request contains invalid X parameter."). Parsing only: what the
 * values mean is the services' business.
 */

/** A decoded JSON body: always an object (an empty one when the request had no body). */
export type JsonBody = Record<string, unknown>;

/** The largest JSON body the Media API reads (bodies are small: ids, tags, paths, schemas). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

export const missingParameter = (name: string) => badRequest(name, `Your request is missing ${name} parameter.`);
export const invalidParameter = (name: string, why?: string) => badRequest(name, `Your request contains invalid ${name} parameter.${why ? ` ${why}` : ''}`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The body's text as a JSON object; an empty body is `{}`.
 * @throws BAD_REQUEST for text that is not JSON or not an object.
 */
export function parseJsonBody(text: string): JsonBody {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('body', 'Your request contains an invalid JSON body.');
  }
  if (!isObject(value)) throw badRequest('body', 'Your request body must be a JSON object.');
  return value;
}

/** Reads the whole body (at most `maxBytes`) and parses it. @throws PAYLOAD_TOO_LARGE, BAD_REQUEST */
export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_JSON_BODY_BYTES): Promise<JsonBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw bodyTooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw bodyTooLarge(maxBytes);
    chunks.push(chunk);
  }
  return parseJsonBody(Buffer.concat(chunks).toString('utf8'));
}

const bodyTooLarge = (maxBytes: number) => new AppError('PAYLOAD_TOO_LARGE', `The request body exceeds ${maxBytes} bytes.`, { parameter: 'body' });

/** A required string (non-empty). */
export function requiredString(body: JsonBody, name: string): string {
  const value = body[name];
  if (value === undefined || value === null || value === '') throw missingParameter(name);
  if (typeof value !== 'string') throw invalidParameter(name, 'It must be a string.');
  return value;
}

/** An optional string: `undefined` when absent, `null` when sent as null. */
export function optionalString(body: JsonBody, name: string): string | null | undefined {
  const value = body[name];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw invalidParameter(name, 'It must be a string.');
  return value;
}

/** An optional boolean (JSON `true`/`false`); `fallback` when absent or null. */
export function optionalBoolean(body: JsonBody, name: string, fallback: boolean): boolean {
  const value = body[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalidParameter(name, 'It must be true or false.');
  return value;
}

/** An array of strings: `undefined` when absent, `null` when sent as null. */
export function optionalStringArray(body: JsonBody, name: string): string[] | null | undefined {
  const value = body[name];
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalidParameter(name, 'It must be an array of strings.');
  return value;
}

/** A required, non-empty array of strings. */
export function requiredStringArray(body: JsonBody, name: string): string[] {
  const value = optionalStringArray(body, name);
  if (value == null || value.length === 0) throw missingParameter(name);
  return value;
}

/** An optional JSON object: `undefined` when absent, `null` when sent as null. */
export function optionalObject(body: JsonBody, name: string): Record<string, unknown> | null | undefined {
  const value = body[name];
  if (value === undefined || value === null) return value;
  if (!isObject(value)) throw invalidParameter(name, 'It must be a JSON object.');
  return value;
}

/** A query parameter that is `true` or `false`; `fallback` when absent or empty. */
export function booleanParam(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  if (value === null || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidParameter(name, 'It must be true or false.');
}

/** One Media API call as a handler sees it. */
export interface ApiCall {
  /** The path's `:name` segments, decoded. */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The JSON body (read on first use). */
  body(): Promise<JsonBody>;
}

/** A handler's answer: a status and a JSON body, or no body (204). */
export interface ApiAnswer {
  status: number;
  body?: unknown;
}

/** One endpoint: `path` is like `/v1/files/:fileId/details`. */
export interface ApiRoute<Deps> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  handle(deps: Deps, call: ApiCall): Promise<ApiAnswer>;
}

export const json = (body: unknown, status = 200): ApiAnswer => ({ status, body });
export const noContent = (): ApiAnswer => ({ status: 204 });
