import type { FileRepo, FileView } from '../db/repos/file-repo.js';
import { badRequest, fileNotFound, versionNotFound } from '../errors.js';
import { isObjectId } from '../upload/ids.js';

/**
 * Finding files and versions by id, with ImageKit's answers for malformed and unknown ids: what every API
 * (GraphQL and REST) does before acting on a file.
 */

/** @throws BAD_REQUEST (fileId) for an id that is not 24 hex characters. */
export function assertFileId(fileId: string): void {
  if (!isObjectId(fileId)) throw badRequest('fileId', 'Your request contains invalid fileId parameter.');
}

/** @throws BAD_REQUEST (versionId) for an id that is not 24 hex characters. */
export function assertVersionId(versionId: string): void {
  if (!isObjectId(versionId)) throw badRequest('versionId', 'Your request contains invalid versionId parameter.');
}

/** The largest number of files one bulk delete takes. */
export const MAX_BULK_DELETE = 100;

/** @throws BAD_REQUEST (fileIds) for no ids or more than `max`; BAD_REQUEST (fileId) for a malformed one. */
export function assertFileIds(fileIds: readonly string[], max: number): void {
  if (fileIds.length === 0 || fileIds.length > max) throw badRequest('fileIds', `Send between 1 and ${max} fileIds.`);
  for (const id of fileIds) assertFileId(id);
}

/** The file (current version) with this id. @throws BAD_REQUEST for a malformed id, NOT_FOUND when there is none. */
export async function requireFile(files: Pick<FileRepo, 'findById'>, fileId: string): Promise<FileView> {
  assertFileId(fileId);
  const view = await files.findById(fileId);
  if (!view) throw fileNotFound();
  return view;
}

/** Every version of a file, oldest first. @throws BAD_REQUEST for a malformed id, NOT_FOUND when there is no file. */
export async function requireVersions(files: Pick<FileRepo, 'listVersions'>, fileId: string): Promise<FileView[]> {
  assertFileId(fileId);
  const versions = await files.listVersions(fileId);
  if (!versions) throw fileNotFound();
  return versions;
}

/**
 * One version of a file.
 * @throws BAD_REQUEST for malformed ids; NOT_FOUND for an unknown file ("file does not exist") or version.
 */
export async function requireVersion(files: Pick<FileRepo, 'findById' | 'findVersion'>, fileId: string, versionId: string): Promise<FileView> {
  assertFileId(fileId);
  assertVersionId(versionId);
  const view = await files.findVersion(fileId, versionId);
  if (!view) {
    if (!(await files.findById(fileId))) throw fileNotFound();
    throw versionNotFound();
  }
  return view;
}
