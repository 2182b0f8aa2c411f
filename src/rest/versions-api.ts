import { assertFileId, assertVersionId, requireVersion, requireVersions } from '../library/file-lookup.js';
import { fileDetailsJson } from './file-json.js';
import { type ApiRoute, json, noContent } from './params-api.js';
import type { RestDeps } from './rest-api.js';

/** ImageKit's file versions endpoints: list, get, restore, delete. */

/** The ids of `/v1/files/:fileId/versions/:versionId`, checked. @throws BAD_REQUEST for a malformed one. */
function ids(params: Readonly<Record<string, string>>): { fileId: string; versionId: string } {
  const fileId = params.fileId as string;
  const versionId = params.versionId as string;
  assertFileId(fileId);
  assertVersionId(versionId);
  return { fileId, versionId };
}

export const versionRoutes: ApiRoute<RestDeps>[] = [
  {
    method: 'GET',
    path: '/v1/files/:fileId/versions',
    handle: async ({ services }, { params }) => json((await requireVersions(services.files, params.fileId as string)).map((view) => fileDetailsJson(view, services))),
  },
  {
    method: 'GET',
    path: '/v1/files/:fileId/versions/:versionId',
    handle: async ({ services }, { params }) => json(fileDetailsJson(await requireVersion(services.files, params.fileId as string, params.versionId as string), services)),
  },
  {
    method: 'PUT',
    path: '/v1/files/:fileId/versions/:versionId/restore',
    handle: async ({ services }, { params }) => {
      const { fileId, versionId } = ids(params);
      return json(fileDetailsJson(await services.manager.restoreVersion(fileId, versionId), services));
    },
  },
  {
    method: 'DELETE',
    path: '/v1/files/:fileId/versions/:versionId',
    handle: async ({ services }, { params }) => {
      const { fileId, versionId } = ids(params);
      await services.manager.deleteVersion(fileId, versionId);
      return noContent();
    },
  },
];
