import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FolderRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import { sanitizeFolderName } from '../library/file-manager.js';
import { createObjectId } from '../upload/ids.js';
import { type ApiRoute, json, noContent, optionalBoolean, optionalString, requiredString } from './params-api.js';
import type { RestDeps } from './rest-api.js';

/**
 * ImageKit's folder endpoints: create, delete, and the bulk jobs copy, move and rename with their status.
 * Stowage runs a folder copy, move or rename at once, within the request: the job id it answers names a job that
 * has already completed. Job ids hold their type and are signed with the private key, so nothing is stored for
 * them and every instance can answer for any of them; an id Stowage did not issue is not found.
 */

export type BulkJobType = 'COPY_FOLDER' | 'MOVE_FOLDER' | 'RENAME_FOLDER';
const JOB_CODES: Record<BulkJobType, string> = { COPY_FOLDER: '1', MOVE_FOLDER: '2', RENAME_FOLDER: '3' };
const JOB_ID = /^([0-9a-f]{24})([123])([0-9a-f]{16})$/;

/** ImageKit's folder object, as list rows carry it. */
export function folderJson(folder: FolderRow): Record<string, unknown> {
  return {
    type: 'folder',
    folderId: folder.id,
    name: folder.name,
    folderPath: folder.folderPath,
    createdAt: folder.createdAt.toISOString(),
    updatedAt: folder.updatedAt.toISOString(),
    customMetadata: {},
  };
}

const mac = (key: string, text: string) => createHmac('sha256', key).update(`bulk-job:${text}`).digest('hex').slice(0, 16);

/** A job id for a completed job of `type`: an object id, the type, and a signature over both. */
export function issueJobId(type: BulkJobType, key: string, now = Date.now()): string {
  const head = `${createObjectId(now)}${JOB_CODES[type]}`;
  return `${head}${mac(key, head)}`;
}

/** The type of a job id issued with one of `keys`; `undefined` for any other string. */
export function readJobId(jobId: string, keys: readonly string[]): BulkJobType | undefined {
  const match = JOB_ID.exec(jobId);
  if (!match) return undefined;
  const head = `${match[1]}${match[2]}`;
  const given = Buffer.from(match[3] as string);
  if (!keys.some((key) => timingSafeEqual(Buffer.from(mac(key, head)), given))) return undefined;
  return (Object.keys(JOB_CODES) as BulkJobType[]).find((type) => JOB_CODES[type] === match[2]);
}

const jobAnswer = (deps: RestDeps, type: BulkJobType) => json({ jobId: issueJobId(type, deps.privateKeys[0] as string) });

export const folderRoutes: ApiRoute<RestDeps>[] = [
  {
    method: 'POST',
    path: '/v1/folder',
    handle: async ({ services }, call) => {
      const body = await call.body();
      // ImageKit's rule: characters other than letters, numerals, `_` and `-` in the name become `_`.
      await services.manager.createFolder(sanitizeFolderName(requiredString(body, 'folderName')), optionalString(body, 'parentFolderPath') ?? '/');
      return json({}, 201);
    },
  },
  {
    method: 'DELETE',
    path: '/v1/folder',
    handle: async ({ services }, call) => {
      // ImageKit deletes the folder with everything in it.
      await services.manager.deleteFolder(requiredString(await call.body(), 'folderPath'), true);
      return noContent();
    },
  },
  {
    method: 'POST',
    path: '/v1/bulkJobs/copyFolder',
    handle: async (deps, call) => {
      const body = await call.body();
      await deps.services.manager.copyFolder(requiredString(body, 'sourceFolderPath'), requiredString(body, 'destinationPath'), optionalBoolean(body, 'includeVersions', false));
      return jobAnswer(deps, 'COPY_FOLDER');
    },
  },
  {
    method: 'POST',
    path: '/v1/bulkJobs/moveFolder',
    handle: async (deps, call) => {
      const body = await call.body();
      await deps.services.manager.moveFolder(requiredString(body, 'sourceFolderPath'), requiredString(body, 'destinationPath'));
      return jobAnswer(deps, 'MOVE_FOLDER');
    },
  },
  {
    method: 'POST',
    path: '/v1/bulkJobs/renameFolder',
    handle: async (deps, call) => {
      const body = await call.body();
      // `purgeCache` is accepted: Stowage has no CDN cache to purge.
      await deps.services.manager.renameFolder(requiredString(body, 'folderPath'), requiredString(body, 'newFolderName'));
      return jobAnswer(deps, 'RENAME_FOLDER');
    },
  },
  {
    method: 'GET',
    path: '/v1/bulkJobs/:jobId',
    handle: async ({ privateKeys }, { params }) => {
      const jobId = params.jobId as string;
      const type = readJobId(jobId, privateKeys);
      if (!type) throw new AppError('NOT_FOUND', `No bulk job found with jobId ${jobId}.`, { parameter: 'jobId' });
      return json({ jobId, type, status: 'Completed' });
    },
  },
];
