import { parseDeliveryUrl } from '../delivery/serve-file.js';
import type { FileRepo, FileView } from '../db/repos/file-repo.js';
import { AppError, badRequest, versionNotFound } from '../errors.js';
import { requireFile } from '../library/file-lookup.js';
import { metadataJson } from './file-json.js';
import { type ApiRoute, json, missingParameter } from './params-api.js';
import type { RestDeps } from './rest-api.js';

/** ImageKit's metadata endpoints: by fileId, and by URL. */

const notAccessible = (url: string, urlEndpoint: string) =>
  badRequest('url', `${url} should be accessible using your Stowage URL endpoint (${urlEndpoint}/…).`);

/** What a URL of this server's URL endpoint names: a file path, and a version when it names one. */
export interface OwnFileUrl {
  filePath: string;
  versionId: string | undefined;
}

/**
 * Reads `url` as one of Stowage's file URLs: `<urlEndpoint>/<filePath>`, optionally with `?ik-obj-version=`. The
 * metadata API describes stored files: a URL with a transformation (`tr:` or `?tr=`) is refused, and so is any URL
 * outside the URL endpoint (Stowage has no external origins to fetch from).
 * @throws BAD_REQUEST (url)
 */
export function parseOwnFileUrl(url: string, urlEndpoint: string): OwnFileUrl {
  let parsed: URL;
  let endpoint: URL;
  try {
    parsed = new URL(url);
    endpoint = new URL(`${urlEndpoint}/`);
  } catch {
    throw notAccessible(url, urlEndpoint);
  }
  if (parsed.origin !== endpoint.origin) throw notAccessible(url, urlEndpoint);
  const request = parseDeliveryUrl(`${parsed.pathname}${parsed.search}`, endpoint.pathname);
  if (!request) throw notAccessible(url, urlEndpoint);
  if (request.transformation !== undefined) {
    throw badRequest('url', 'The metadata API describes stored files: send the file\'s URL without a transformation.');
  }
  return { filePath: request.filePath, versionId: request.versionId };
}

async function findByUrl(files: Pick<FileRepo, 'findByPath' | 'findVersion'>, target: OwnFileUrl): Promise<FileView> {
  const current = await files.findByPath(target.filePath);
  if (!current) throw new AppError('NOT_FOUND', 'The requested asset does not exist.', { parameter: 'url' });
  if (!target.versionId) return current;
  const version = await files.findVersion(current.file.id, target.versionId);
  if (!version) throw versionNotFound();
  return version;
}

export const metadataRoutes: ApiRoute<RestDeps>[] = [
  {
    method: 'GET',
    path: '/v1/files/:fileId/metadata',
    handle: async ({ services }, { params }) => json(metadataJson(await requireFile(services.files, params.fileId as string))),
  },
  {
    method: 'GET',
    path: '/v1/metadata',
    handle: async ({ services }, { query }) => {
      const url = query.get('url');
      if (!url) throw missingParameter('url');
      return json(metadataJson(await findByUrl(services.files, parseOwnFileUrl(url, services.config.urlEndpoint))));
    },
  },
];
