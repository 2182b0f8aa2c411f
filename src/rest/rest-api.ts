import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../http/context.js';
import type { OriginPolicy } from '../http/origin-policy.js';
import type { UploadTokenRepo } from '../db/repos/upload-token-repo.js';
import type { Logger } from '../logger.js';
import { handleMediaApi } from './media-api.js';
import { handleUploadEndpoint } from './upload-endpoint.js';

/** ImageKit's upload endpoint (its SDKs post here, on `upload.imagekit.io` or the `baseURL` they are given). */
export const REST_UPLOAD_PATH = '/api/v1/files/upload';

/** ImageKit's Media API lives under `/v1/`. */
export const MEDIA_API_PREFIX = '/v1/';

/** What the REST adapter calls: the same services the GraphQL resolvers use, and the HTTP layer's policies. */
export interface RestDeps {
  services: Services;
  privateKeys: readonly string[];
  /** The public keys client-side (browser) uploads name instead of Basic auth. */
  publicKeys: readonly string[];
  /** The single-use tokens of client-side uploads. */
  uploadTokens: Pick<UploadTokenRepo, 'use'>;
  origins: OriginPolicy;
  /** The largest file any upload may be (the video limit, when larger): no file part is read past it. */
  maxFileBytes: number;
  log: Logger;
}

/**
 * Whether `req` is for ImageKit's REST API rather than file delivery. Media API requests always carry credentials
 * (ImageKit's SDKs send Basic auth), so a path under `/v1/` without an Authorization header stays a file path: a
 * folder named `v1` is still served.
 */
export function isRestRequest(req: IncomingMessage, pathname: string): boolean {
  if (pathname === REST_UPLOAD_PATH) return true;
  return pathname.startsWith(MEDIA_API_PREFIX) && req.headers.authorization !== undefined;
}

/** Answers a REST request: the upload endpoint, or the Media API. */
export async function handleRestRequest(deps: RestDeps, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  if (pathname === REST_UPLOAD_PATH) return handleUploadEndpoint(deps, req, res);
  return handleMediaApi(deps, req, res, pathname);
}
