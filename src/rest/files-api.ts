import { badRequest } from '../errors.js';
import { parseExtensions } from '../extensions/extension-request.js';
import { assertFileId, assertFileIds, MAX_BULK_DELETE, requireFile } from '../library/file-lookup.js';
import { type FileDetailsPatch, missingFiles } from '../library/file-manager.js';
import { assertPageSize, type ListAssetsOptions, MAX_PAGE_SIZE, parseListPath } from '../library/list-assets.js';
import { type AssetType, parseAssetSort } from '../library/listing-order.js';
import { printSearchQuery, type SearchExpr } from '../library/search/search-ast.js';
import { parseWebhookUrl } from '../upload/request.js';
import { fileDetailsJson } from './file-json.js';
import { folderJson } from './folders-api.js';
import {
  type ApiRoute,
  invalidParameter,
  type JsonBody,
  json,
  noContent,
  optionalBoolean,
  optionalObject,
  optionalString,
  optionalStringArray,
  requiredString,
  requiredStringArray,
} from './params-api.js';
import type { RestDeps } from './rest-api.js';

/** ImageKit's files endpoints: details, update, delete, bulk operations, copy, move, rename, and list & search. */

const ASSET_TYPES: readonly AssetType[] = ['file', 'file-version', 'folder', 'all'];
const FILE_TYPES = ['all', 'image', 'non-image'] as const;

/** What `GET /v1/files` asks for: a listing's options, minus paging, plus ImageKit's `skip` and `limit`. */
export interface ListQuery {
  options: Omit<ListAssetsOptions, 'first' | 'after'>;
  skip: number;
  limit: number;
}

/** A whole number from the query, or `fallback` when absent. */
function integerParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw.trim() === '') return fallback;
  if (!/^\s*-?\d+\s*$/.test(raw)) throw invalidParameter(name, `It must be a whole number; got "${raw}".`);
  return Number(raw);
}

/**
 * Reads `GET /v1/files`'s query: `type` (file by default), `sort` (ASC_CREATED by default; `*_RELEVANCE` sorts by
 * creation, Stowage ranks no matches), `path` (one folder, not its subfolders), `searchQuery`, `fileType`, `limit`
 * (1–1000, default 1000), `skip` (≥ 0). ImageKit's legacy `tags` (comma-separated) and `name` become a searchQuery
 * when none is given, and are ignored when one is.
 * @throws BAD_REQUEST with ImageKit's messages.
 */
export function parseListQuery(query: URLSearchParams): ListQuery {
  const type = query.get('type') || 'file';
  if (!(ASSET_TYPES as readonly string[]).includes(type)) {
    throw badRequest('type', 'Your request contains invalid value for type parameter. Please provide one of the following: file, file-version, folder, all.');
  }
  const fileType = query.get('fileType') || 'all';
  if (!(FILE_TYPES as readonly string[]).includes(fileType)) {
    throw badRequest('fileType', 'Your request contains invalid value for fileType parameter. Please provide one of the following: all, image, non-image.');
  }
  const rawSort = query.get('sort') || 'ASC_CREATED';
  const sort = parseAssetSort(rawSort.replace(/_RELEVANCE$/, '_CREATED'));
  const skip = integerParam(query, 'skip', 0);
  if (skip < 0) throw badRequest('skip', `The value of skip parameter should be greater than or equal to 0. Value sent is ${skip}.`);
  const limit = integerParam(query, 'limit', MAX_PAGE_SIZE);
  assertPageSize('limit', limit);
  const searchQuery = query.get('searchQuery')?.trim() || legacySearchQuery(query);
  return {
    options: { path: parseListPath(query.get('path') || null), recursive: false, fileType: fileType as ListQuery['options']['fileType'], type: type as AssetType, sort, searchQuery },
    skip,
    limit,
  };
}

/** ImageKit's legacy list filters as a searchQuery: `tags=a,b` → `tags IN ["a", "b"]`, `name=x` → `name = "x"`. */
export function legacySearchQuery(query: URLSearchParams): string | null {
  const conditions: SearchExpr[] = [];
  const tags = (query.get('tags') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length > 0) conditions.push({ kind: 'condition', field: 'tags', op: 'IN', value: tags.map((value) => ({ type: 'string', value })), position: 0 });
  const name = query.get('name');
  if (name) conditions.push({ kind: 'condition', field: 'name', op: '=', value: { type: 'string', value: name }, position: 0 });
  if (conditions.length === 0) return null;
  return printSearchQuery(conditions.reduce((left, right) => ({ kind: 'and', left, right })));
}

/**
 * `GET /v1/files`: ImageKit pages by offset (`skip`), the listing by keyset cursors, so the rows skipped are walked
 * through a page of up to 1000 at a time (each page costs the same whatever its depth); then `limit` rows are read.
 */
async function listFiles(deps: RestDeps, query: ListQuery): Promise<unknown[]> {
  const { services } = deps;
  let after: string | null = null;
  for (let remaining = query.skip; remaining > 0; ) {
    const page = await services.listAssets({ ...query.options, first: Math.min(MAX_PAGE_SIZE, remaining), after });
    remaining -= page.edges.length;
    if (!page.hasNextPage || page.edges.length === 0) return [];
    after = page.edges[page.edges.length - 1]?.cursor ?? null;
  }
  const page = await services.listAssets({ ...query.options, first: query.limit, after });
  return page.edges.map(({ node }) => (node.kind === 'file' ? fileDetailsJson(node.view, services) : folderJson(node.folder)));
}

/**
 * `PATCH /v1/files/{fileId}/details`'s body as the patch `updateFileDetails` takes: tags (null removes),
 * customCoordinates (null removes), customMetadata (a key set to null is removed), description, extensions
 * (ImageKit's objects), removeAITags (names, or "all"), webhookUrl; or `publish` alone.
 * @throws BAD_REQUEST for a value of the wrong type (the services check the values themselves).
 */
export function parseDetailsPatch(body: JsonBody): FileDetailsPatch {
  const patch: FileDetailsPatch = {};
  const tags = optionalStringArray(body, 'tags');
  if (tags !== undefined) patch.tags = tags;
  const customCoordinates = optionalString(body, 'customCoordinates');
  if (customCoordinates !== undefined) patch.customCoordinates = customCoordinates;
  const customMetadata = optionalObject(body, 'customMetadata');
  if (customMetadata) patch.customMetadata = customMetadata;
  const description = optionalString(body, 'description');
  if (description !== undefined) patch.description = description;
  if (body.removeAITags === 'all') patch.removeAITags = ['all'];
  else {
    const removeAITags = optionalStringArray(body, 'removeAITags');
    if (removeAITags) patch.removeAITags = removeAITags;
  }
  if (body.extensions != null) {
    if (!Array.isArray(body.extensions)) throw invalidParameter('extensions', 'It must be an array of extension objects.');
    patch.extensions = parseExtensions(body.extensions);
  }
  const webhookUrl = optionalString(body, 'webhookUrl');
  if (webhookUrl != null) patch.webhookUrl = parseWebhookUrl(webhookUrl);
  if (body.publish != null) {
    const publish = optionalObject(body, 'publish') as JsonBody;
    if (typeof publish.isPublished !== 'boolean') throw invalidParameter('publish', 'publish.isPublished must be true or false.');
    if (publish.includeFileVersions != null && typeof publish.includeFileVersions !== 'boolean') throw invalidParameter('publish', 'publish.includeFileVersions must be true or false.');
    patch.publish = { isPublished: publish.isPublished, includeFileVersions: (publish.includeFileVersions as boolean | undefined) ?? false };
  }
  return patch;
}

/** `{fileIds, tags}` of the bulk tag endpoints (`AITags` instead of `tags` for removeAITags). */
export function parseBulkTags(body: JsonBody, tagsName: 'tags' | 'AITags'): { fileIds: string[]; tags: string[] } {
  const fileIds = requiredStringArray(body, 'fileIds');
  for (const id of fileIds) assertFileId(id);
  return { fileIds, tags: requiredStringArray(body, tagsName) };
}

export const fileRoutes: ApiRoute<RestDeps>[] = [
  {
    method: 'GET',
    path: '/v1/files',
    handle: async (deps, call) => json(await listFiles(deps, parseListQuery(call.query))),
  },
  {
    method: 'GET',
    path: '/v1/files/:fileId/details',
    handle: async ({ services }, { params }) => json(fileDetailsJson(await requireFile(services.files, params.fileId as string), services)),
  },
  {
    method: 'PATCH',
    path: '/v1/files/:fileId/details',
    handle: async ({ services }, call) => {
      const fileId = call.params.fileId as string;
      assertFileId(fileId);
      return json(fileDetailsJson(await services.manager.updateDetails(fileId, parseDetailsPatch(await call.body())), services));
    },
  },
  {
    method: 'DELETE',
    path: '/v1/files/:fileId',
    handle: async ({ services }, { params }) => {
      assertFileId(params.fileId as string);
      await services.manager.deleteFile(params.fileId as string);
      return noContent();
    },
  },
  {
    method: 'POST',
    path: '/v1/files/batch/deleteByFileIds',
    handle: async ({ services }, call) => {
      const body = await call.body();
      const fileIds = requiredStringArray(body, 'fileIds');
      assertFileIds(fileIds, MAX_BULK_DELETE);
      const { successfulFileIds, missingFileIds } = await services.manager.deleteFiles(fileIds);
      if (missingFileIds.length === 0) return json({ successfullyDeletedFileIds: successfulFileIds });
      // ImageKit: nothing found is a 404 listing them; some found is a 207 partial success.
      if (successfulFileIds.length === 0) throw missingFiles(missingFileIds);
      return json({ successfullyDeletedFileIds: successfulFileIds, errors: missingFileIds.map((fileId) => ({ fileId, error: 'The requested file does not exist.' })) }, 207);
    },
  },
  ...(['addTags', 'removeTags'] as const).map(
    (name): ApiRoute<RestDeps> => ({
      method: 'POST',
      path: `/v1/files/${name}`,
      handle: async ({ services }, call) => {
        const { fileIds, tags } = parseBulkTags(await call.body(), 'tags');
        return json({ successfullyUpdatedFileIds: await services.manager.changeTags(fileIds, tags, name === 'addTags' ? 'add' : 'remove') });
      },
    }),
  ),
  {
    method: 'POST',
    path: '/v1/files/removeAITags',
    handle: async ({ services }, call) => {
      const { fileIds, tags } = parseBulkTags(await call.body(), 'AITags');
      return json({ successfullyUpdatedFileIds: await services.manager.removeAITags(fileIds, tags) });
    },
  },
  {
    method: 'POST',
    path: '/v1/files/copy',
    handle: async ({ services }, call) => {
      const body = await call.body();
      await services.manager.copyFile(requiredString(body, 'sourceFilePath'), requiredString(body, 'destinationPath'), optionalBoolean(body, 'includeFileVersions', false));
      return noContent();
    },
  },
  {
    method: 'POST',
    path: '/v1/files/move',
    handle: async ({ services }, call) => {
      const body = await call.body();
      await services.manager.move(requiredString(body, 'sourceFilePath'), requiredString(body, 'destinationPath'));
      return noContent();
    },
  },
  {
    method: 'PUT',
    path: '/v1/files/rename',
    handle: async ({ services }, call) => {
      const body = await call.body();
      await services.manager.rename(requiredString(body, 'filePath'), requiredString(body, 'newFileName'));
      // Stowage has no CDN cache to purge: `purgeCache` is accepted and no purge request id is returned.
      return json({});
    },
  },
];
