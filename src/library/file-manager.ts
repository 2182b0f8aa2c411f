import type { Tx } from '../db/client.js';
import type { Transactor } from '../db/transactor.js';
import { FileRepo, type FileTxQueries, type FileView, type VersionBlob } from '../db/repos/file-repo.js';
import type { FileVersionRow, FolderRow } from '../db/schema.js';
import { AppError, badRequest, fileNotFound, versionNotFound } from '../errors.js';
import { derivativesOf, thumbnailKey } from '../storage/blob-keys.js';
import type { BlobStore } from '../storage/blob-store.js';
import { formatCoordinates, joinFilePath, normalizeFolder, normalizeTags, parseCustomCoordinates, sanitizeFileName } from '../upload/naming.js';
import type { FileEventType, LibraryEvents } from '../events/library-events.js';
import type { FileEvent } from '../events/pubsub.js';
import type { ExtensionRequest } from '../extensions/extension-request.js';
import type { CustomFieldService } from './custom-fields.js';
import { assertValidCustomMetadata, completeCustomMetadata } from './custom-metadata-values.js';

/** `updateFileDetails` input: each key present means "change it"; `null` removes (tags, coordinates, a metadata key). */
export interface FileDetailsPatch {
  tags?: readonly string[] | null;
  customCoordinates?: string | null;
  customMetadata?: Record<string, unknown> | null;
  description?: string | null;
  publish?: { isPublished: boolean; includeFileVersions?: boolean | null } | null;
  /** AI tag names to drop before any extension runs; `["all"]` drops every AI tag. */
  removeAITags?: readonly string[] | null;
  extensions?: readonly ExtensionRequest[] | null;
  webhookUrl?: string | null;
}

/** What file management needs of the extension service. */
export interface ExtensionStarter {
  enqueue(tx: Tx, view: FileView, requests: readonly ExtensionRequest[], webhookUrl: string | null): Promise<void>;
  trySync(view: FileView, requests: readonly ExtensionRequest[], webhookUrl: string | null): Promise<void>;
}

export interface BulkResult {
  successfulFileIds: string[];
  missingFileIds: string[];
}

/** Records a library event in the transaction (see `FileManager.tx`). */
type Recorder = (type: FileEventType, view: FileView) => Promise<void>;

const fileExists = (name: string) =>
  new AppError('FILE_ALREADY_EXISTS', `File with name ${name} already exists at the same location.`, { parameter: 'newFileName', details: { reason: 'FILE_ALREADY_EXISTS' } });

const missingFiles = (ids: string[]) =>
  new AppError('NOT_FOUND', 'The requested file(s) does not exist.', { parameter: 'fileIds', details: { missingFileIds: ids } });

/**
 * The media library's write operations. Each runs in one IMMEDIATE transaction, so a failure changes nothing;
 * blobs of deleted versions are removed after the commit (a crash in between leaves orphans for the janitor).
 */
export class FileManager {
  private readonly files: FileRepo;

  constructor(
    private readonly transactor: Transactor,
    private readonly store: BlobStore,
    private readonly customFields: CustomFieldService,
    private readonly events: LibraryEvents,
    private readonly notifyJobs: () => void,
    private readonly extensions: ExtensionStarter,
  ) {
    this.files = new FileRepo(transactor);
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction; events it records are queued for webhooks in that transaction and
   * published live after the commit.
   */
  private async tx<T>(fn: (q: FileTxQueries, record: Recorder, tx: Tx) => Promise<T>): Promise<T> {
    const recorded: FileEvent[] = [];
    const result = await this.transactor.transaction(
      (tx) =>
        fn(
          this.files.inTx(tx),
          async (type, view) => {
            recorded.push(await this.events.record(tx, type, view));
          },
          tx,
        ),
      { behavior: 'immediate' },
    );
    if (recorded.length > 0) {
      this.events.publish(recorded);
      this.notifyJobs();
    }
    return result;
  }

  private async current(q: FileTxQueries, fileId: string): Promise<FileView> {
    const view = await q.findById(fileId);
    if (!view) throw fileNotFound();
    return view;
  }

  private async deleteBlobs(versions: VersionBlob[]): Promise<void> {
    for (const v of versions) {
      await this.store.delete(v.blobKey);
      await this.store.delete(thumbnailKey(v.id));
      for await (const derived of this.store.list(derivativesOf(v.id))) await this.store.delete(derived.key);
    }
  }

  /**
   * ImageKit's update-file-details: tags, customCoordinates, customMetadata, description; or, alone, publish.
   * @throws NOT_FOUND; BAD_REQUEST for invalid values or publish mixed with other changes.
   */
  async updateDetails(fileId: string, patch: FileDetailsPatch): Promise<FileView> {
    const changes = (['tags', 'customCoordinates', 'customMetadata', 'description', 'removeAITags', 'extensions'] as const).filter((k) => patch[k] != null && (k !== 'extensions' || patch.extensions?.length));
    if (patch.publish != null) {
      if (changes.length > 0) throw badRequest('publish', 'Your request cannot contain any other parameters when publish is present');
      return this.tx(async (q, record) => {
        const view = await this.current(q, fileId);
        const set = { isPublished: patch.publish?.isPublished ?? true, updatedAt: new Date() };
        if (patch.publish?.includeFileVersions) await q.updateVersionsOf(fileId, set);
        else await q.updateVersion(view.version.id, set);
        return await this.updated(q, record, fileId);
      });
    }
    if (changes.length === 0 && patch.tags === undefined && patch.customCoordinates === undefined && patch.description === undefined) {
      throw badRequest('tags', 'Nothing to update: send tags, customCoordinates, customMetadata, description, removeAITags, extensions or publish.');
    }
    const requests = patch.extensions ?? [];
    const fields = await this.customFields.list();
    if (patch.customMetadata) assertValidCustomMetadata(patch.customMetadata, fields, { parameter: 'customMetadata', allowNull: true });
    const tags = patch.tags === undefined ? undefined : patch.tags === null ? null : normalizeTags(patch.tags);
    const view = await this.tx(async (q, record, tx) => {
      const view = await this.current(q, fileId);
      const set: Partial<FileVersionRow> = { updatedAt: new Date() };
      if (tags !== undefined) set.tags = tags?.length ? tags : null;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.customCoordinates !== undefined) {
        if (patch.customCoordinates === null || patch.customCoordinates === '') set.customCoordinates = null;
        else {
          const c = parseCustomCoordinates(patch.customCoordinates);
          const { width, height, fileType } = view.version;
          if (fileType !== 'image') throw badRequest('customCoordinates', 'customCoordinates apply to images only.');
          if (width && height && (c.x + c.width > width || c.y + c.height > height)) {
            throw badRequest('customCoordinates', `The area ${formatCoordinates(c)} does not fit inside the ${width}x${height} image.`);
          }
          set.customCoordinates = formatCoordinates(c);
        }
      }
      if (patch.customMetadata) {
        set.customMetadata = completeCustomMetadata({ ...(view.version.customMetadata ?? {}), ...patch.customMetadata }, fields, 'customMetadata');
      }
      if (patch.removeAITags?.length) {
        const drop = patch.removeAITags;
        set.aiTags = drop.includes('all') ? null : (view.version.aiTags ?? []).filter((t) => !drop.includes(t.name));
      }
      if (requests.length > 0) {
        if (view.version.fileType !== 'image') throw badRequest('extensions', `Extensions apply to images only; this file is ${view.version.mime}.`);
        set.extensionStatus = { ...(view.version.extensionStatus ?? {}), ...Object.fromEntries(requests.map((r) => [r.name, 'pending' as const])) };
      }
      await q.updateVersion(view.version.id, set);
      const updated = await this.updated(q, record, fileId);
      await this.extensions.enqueue(tx, updated, requests, patch.webhookUrl ?? null);
      return updated;
    });
    if (requests.length === 0) return view;
    this.notifyJobs();
    await this.extensions.trySync(view, requests, patch.webhookUrl ?? null);
    const settled = await this.files.findById(fileId);
    if (!settled) throw fileNotFound();
    return settled;
  }

  private async updated(q: FileTxQueries, record: Recorder, fileId: string): Promise<FileView> {
    const view = await this.current(q, fileId);
    await record('file.updated', view);
    return view;
  }

  /** Deletes a file with all its versions and their blobs. @throws NOT_FOUND */
  async deleteFile(fileId: string): Promise<void> {
    const versions = await this.tx(async (q, record) => {
      await record('file.deleted', await this.current(q, fileId));
      const blobs = await q.versionBlobs([fileId]);
      await q.deleteFiles([fileId]);
      return blobs;
    });
    await this.deleteBlobs(versions);
  }

  /** Deletes the files that exist; reports the ids that did not (ImageKit's 207 partial success). */
  async deleteFiles(fileIds: readonly string[]): Promise<BulkResult> {
    const unique = [...new Set(fileIds)];
    const { found, versions } = await this.tx(async (q, record) => {
      const found = await q.existingFileIds(unique);
      for (const id of found) await record('file.deleted', await this.current(q, id));
      const versions = await q.versionBlobs(found);
      await q.deleteFiles(found);
      return { found, versions };
    });
    await this.deleteBlobs(versions);
    return { successfulFileIds: found, missingFileIds: unique.filter((id) => !found.includes(id)) };
  }

  /** Makes an older version current again (no bytes are copied). @throws NOT_FOUND */
  async restoreVersion(fileId: string, versionId: string): Promise<FileView> {
    return this.tx(async (q, record) => {
      const view = await this.current(q, fileId);
      const target = (await q.findVersion(fileId, versionId))?.version;
      if (!target) throw versionNotFound();
      if (target.id === view.version.id) return view;
      const now = new Date();
      await q.updateVersionsOf(fileId, { isCurrent: false });
      await q.updateVersion(versionId, { isCurrent: true, updatedAt: now });
      await q.updateFile(fileId, { currentVersionId: versionId, updatedAt: now });
      return await this.updated(q, record, fileId);
    });
  }

  /** Deletes a non-current version and its blob. @throws NOT_FOUND; BAD_REQUEST for the current version. */
  async deleteVersion(fileId: string, versionId: string): Promise<void> {
    const removed = await this.tx(async (q, record) => {
      const view = await this.current(q, fileId);
      if (view.version.id === versionId) throw badRequest('versionId', 'You cannot delete current version of a file.');
      const target = (await q.findVersion(fileId, versionId))?.version;
      if (!target) throw versionNotFound();
      await record('file-version.deleted', { file: view.file, version: target });
      await q.deleteVersion(versionId);
      return target;
    });
    await this.deleteBlobs([removed]);
  }

  /** Gives a file a new name in its folder (sanitised like uploads). @throws NOT_FOUND, FILE_ALREADY_EXISTS */
  async rename(filePath: string, newFileName: string): Promise<FileView> {
    const name = sanitizeFileName(newFileName);
    return this.tx(async (q, record) => {
      const file = await q.findFileByPath(filePath);
      if (!file) throw fileNotFound();
      await this.relocate(q, file.id, file.folderPath, name);
      return await this.updated(q, record, file.id);
    });
  }

  /** Moves a file into a folder (created if missing), keeping its name. @throws NOT_FOUND, FILE_ALREADY_EXISTS */
  async move(sourceFilePath: string, destinationPath: string): Promise<FileView> {
    const folder = normalizeFolder(destinationPath);
    return this.tx(async (q, record) => {
      const file = await q.findFileByPath(sourceFilePath);
      if (!file) throw fileNotFound();
      await q.ensureFolders(folder, new Date());
      await this.relocate(q, file.id, folder, file.name);
      return await this.updated(q, record, file.id);
    });
  }

  private async relocate(q: FileTxQueries, fileId: string, folder: string, name: string): Promise<void> {
    const filePath = joinFilePath(folder, name);
    if (await q.isPathTakenByOther(filePath, fileId)) throw fileExists(name);
    const now = new Date();
    await q.updateFile(fileId, { filePath, folderPath: folder, name, updatedAt: now });
    await q.updateVersionsOf(fileId, { folderPath: folder, name });
    await q.updateCurrentVersionOf(fileId, { updatedAt: now });
  }

  /**
   * Adds or removes tags on several files at once; all or nothing.
   * @throws NOT_FOUND with `details.missingFileIds` (nothing changes); BAD_REQUEST when a file would exceed the tag limit.
   */
  async changeTags(fileIds: readonly string[], tags: readonly string[], mode: 'add' | 'remove'): Promise<string[]> {
    const wanted = normalizeTags(tags);
    const unique = [...new Set(fileIds)];
    return this.tx(async (q, record) => {
      const rows = await q.findByIds(unique);
      const missing = unique.filter((id) => !rows.some((r) => r.file.id === id));
      if (missing.length) throw missingFiles(missing);
      const now = new Date();
      for (const { version } of rows) {
        const current = version.tags ?? [];
        const next = mode === 'add' ? normalizeTags([...current, ...wanted]) : current.filter((t) => !wanted.includes(t));
        await q.updateVersion(version.id, { tags: next.length ? next : null, updatedAt: now });
        await this.updated(q, record, version.fileId);
      }
      return unique;
    });
  }

  /** Creates a folder (and its parents); creating an existing folder returns it. @throws BAD_REQUEST for a bad name. */
  async createFolder(folderName: string, parentFolderPath: string | null | undefined): Promise<FolderRow> {
    const parent = normalizeFolder(parentFolderPath);
    if (folderName.includes('/')) throw badRequest('folderName', 'Your request contains invalid folderName parameter. A folder name cannot contain "/".');
    const folder = normalizeFolder(`${parent}/${folderName}`);
    if (folder === parent) throw badRequest('folderName', 'Your request is missing folderName parameter.');
    return this.tx(async (q) => {
      await q.ensureFolders(folder, new Date());
      return (await q.findFolder(folder)) as FolderRow;
    });
  }

  /**
   * Deletes a folder. A folder with files or subfolders is refused unless `recursive`, which deletes everything
   * below it, files with all their versions and blobs included.
   * @throws NOT_FOUND; FOLDER_NOT_EMPTY
   */
  async deleteFolder(folderPath: string, recursive: boolean): Promise<{ deletedFiles: number; deletedFolders: number }> {
    const folder = normalizeFolder(folderPath);
    if (folder === '/') throw badRequest('folderPath', 'The root folder cannot be deleted.');
    const { versions, deletedFiles, deletedFolders } = await this.tx(async (q, record) => {
      if (!(await q.findFolder(folder))) throw new AppError('NOT_FOUND', `No folder found with folderPath ${folder}`, { parameter: 'folderPath' });
      const allFolders = await q.folderIdsWithin(folder);
      const fileIds = await q.fileIdsWithin(folder);
      if (!recursive && (fileIds.length > 0 || allFolders.length > 1)) {
        throw new AppError('FOLDER_NOT_EMPTY', `The folder ${folder} is not empty (${fileIds.length} files, ${allFolders.length - 1} subfolders); pass recursive: true to delete everything in it.`, {
          parameter: 'folderPath',
          details: { files: fileIds.length, subfolders: allFolders.length - 1 },
        });
      }
      for (const id of fileIds) await record('file.deleted', await this.current(q, id));
      const versions = await q.versionBlobs(fileIds);
      await q.deleteFiles(fileIds);
      await q.deleteFolders(allFolders);
      return { versions, deletedFiles: fileIds.length, deletedFolders: allFolders.length };
    });
    await this.deleteBlobs(versions);
    return { deletedFiles, deletedFolders };
  }
}
