import { and, eq, gte, inArray, lt, ne, or } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { FileView } from '../db/repos/file-repo.js';
import { type FileVersionRow, fileVersions, files, folders } from '../db/schema.js';
import { AppError, badRequest, fileNotFound, versionNotFound } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { createObjectId } from '../upload/ids.js';
import { folderChain, formatCoordinates, joinFilePath, normalizeFolder, normalizeTags, parseCustomCoordinates, sanitizeFileName } from '../upload/naming.js';
import type { FileEventType, LibraryEvents } from '../events/library-events.js';
import type { FileEvent } from '../events/pubsub.js';
import type { ExtensionRequest } from '../extensions/extension-request.js';
import type { CustomFieldService } from './custom-fields.js';
import { assertValidCustomMetadata, completeCustomMetadata } from './custom-metadata-values.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

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
  enqueue(tx: Tx, view: FileView, requests: readonly ExtensionRequest[], webhookUrl: string | null): void;
  trySync(view: FileView, requests: readonly ExtensionRequest[], webhookUrl: string | null): Promise<void>;
}

export interface BulkResult {
  successfulFileIds: string[];
  missingFileIds: string[];
}

const fileExists = (name: string) =>
  new AppError('FILE_ALREADY_EXISTS', `File with name ${name} already exists at the same location.`, { parameter: 'newFileName', details: { reason: 'FILE_ALREADY_EXISTS' } });

const missingFiles = (ids: string[]) =>
  new AppError('NOT_FOUND', 'The requested file(s) does not exist.', { parameter: 'fileIds', details: { missingFileIds: ids } });

/**
 * The media library's write operations. Each runs in one IMMEDIATE transaction, so a failure changes nothing;
 * blobs of deleted versions are removed after the commit (a crash in between leaves orphans for the start-up sweep).
 */
export class FileManager {
  constructor(
    private readonly db: Db,
    private readonly store: BlobStore,
    private readonly customFields: CustomFieldService,
    private readonly events: LibraryEvents,
    private readonly notifyJobs: () => void,
    private readonly extensions: ExtensionStarter,
  ) {}

  /**
   * Runs `fn` in one IMMEDIATE transaction; events it records are queued for webhooks in that transaction and
   * published live after the commit.
   */
  private tx<T>(fn: (tx: Tx, record: (type: FileEventType, view: FileView) => void) => T): T {
    const recorded: FileEvent[] = [];
    const result = this.db.transaction((tx) => fn(tx, (type, view) => recorded.push(this.events.record(tx, type, view))), { behavior: 'immediate' });
    if (recorded.length > 0) {
      this.events.publish(recorded);
      this.notifyJobs();
    }
    return result;
  }

  private current(tx: Tx, fileId: string): FileView {
    const row = tx.select({ file: files, version: fileVersions }).from(files).innerJoin(fileVersions, eq(fileVersions.id, files.currentVersionId)).where(eq(files.id, fileId)).get();
    if (!row) throw fileNotFound();
    return row;
  }

  private async deleteBlobs(versions: Pick<FileVersionRow, 'id' | 'blobKey'>[]): Promise<void> {
    for (const v of versions) {
      await this.store.delete(v.blobKey);
      await this.store.delete(`thumbnails/${v.id}.webp`);
      for await (const derived of this.store.list(`derived/${v.id}/`)) await this.store.delete(derived.key);
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
      return this.tx((tx, record) => {
        const view = this.current(tx, fileId);
        const now = new Date();
        const scope = patch.publish?.includeFileVersions ? eq(fileVersions.fileId, fileId) : eq(fileVersions.id, view.version.id);
        tx.update(fileVersions).set({ isPublished: patch.publish?.isPublished ?? true, updatedAt: now }).where(scope).run();
        return this.updated(tx, record, fileId);
      });
    }
    if (changes.length === 0 && patch.tags === undefined && patch.customCoordinates === undefined && patch.description === undefined) {
      throw badRequest('tags', 'Nothing to update: send tags, customCoordinates, customMetadata, description, removeAITags, extensions or publish.');
    }
    const requests = patch.extensions ?? [];
    const fields = this.customFields.list();
    if (patch.customMetadata) assertValidCustomMetadata(patch.customMetadata, fields, { parameter: 'customMetadata', allowNull: true });
    const tags = patch.tags === undefined ? undefined : patch.tags === null ? null : normalizeTags(patch.tags);
    const view = this.tx((tx, record) => {
      const view = this.current(tx, fileId);
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
      tx.update(fileVersions).set(set).where(eq(fileVersions.id, view.version.id)).run();
      const updated = this.updated(tx, record, fileId);
      this.extensions.enqueue(tx, updated, requests, patch.webhookUrl ?? null);
      return updated;
    });
    if (requests.length === 0) return view;
    this.notifyJobs();
    await this.extensions.trySync(view, requests, patch.webhookUrl ?? null);
    return this.db.transaction((tx) => this.current(tx, fileId));
  }

  private updated(tx: Tx, record: (type: FileEventType, view: FileView) => void, fileId: string): FileView {
    const view = this.current(tx, fileId);
    record('file.updated', view);
    return view;
  }

  /** Deletes a file with all its versions and their blobs. @throws NOT_FOUND */
  async deleteFile(fileId: string): Promise<void> {
    const versions = this.tx((tx, record) => {
      record('file.deleted', this.current(tx, fileId));
      const rows = tx.select({ id: fileVersions.id, blobKey: fileVersions.blobKey }).from(fileVersions).where(eq(fileVersions.fileId, fileId)).all();
      tx.delete(files).where(eq(files.id, fileId)).run();
      return rows;
    });
    await this.deleteBlobs(versions);
  }

  /** Deletes the files that exist; reports the ids that did not (ImageKit's 207 partial success). */
  async deleteFiles(fileIds: readonly string[]): Promise<BulkResult> {
    const unique = [...new Set(fileIds)];
    const { found, versions } = this.tx((tx, record) => {
      const found = tx.select({ id: files.id }).from(files).where(inArray(files.id, unique)).all().map((r) => r.id);
      for (const id of found) record('file.deleted', this.current(tx, id));
      const versions = found.length ? tx.select({ id: fileVersions.id, blobKey: fileVersions.blobKey }).from(fileVersions).where(inArray(fileVersions.fileId, found)).all() : [];
      if (found.length) tx.delete(files).where(inArray(files.id, found)).run();
      return { found, versions };
    });
    await this.deleteBlobs(versions);
    return { successfulFileIds: found, missingFileIds: unique.filter((id) => !found.includes(id)) };
  }

  /** Makes an older version current again (no bytes are copied). @throws NOT_FOUND */
  restoreVersion(fileId: string, versionId: string): FileView {
    return this.tx((tx, record) => {
      const view = this.current(tx, fileId);
      const target = tx.select().from(fileVersions).where(and(eq(fileVersions.fileId, fileId), eq(fileVersions.id, versionId))).get();
      if (!target) throw versionNotFound();
      if (target.id === view.version.id) return view;
      const now = new Date();
      tx.update(fileVersions).set({ isCurrent: false }).where(eq(fileVersions.fileId, fileId)).run();
      tx.update(fileVersions).set({ isCurrent: true, updatedAt: now }).where(eq(fileVersions.id, versionId)).run();
      tx.update(files).set({ currentVersionId: versionId, updatedAt: now }).where(eq(files.id, fileId)).run();
      return this.updated(tx, record, fileId);
    });
  }

  /** Deletes a non-current version and its blob. @throws NOT_FOUND; BAD_REQUEST for the current version. */
  async deleteVersion(fileId: string, versionId: string): Promise<void> {
    const removed = this.tx((tx, record) => {
      const view = this.current(tx, fileId);
      if (view.version.id === versionId) throw badRequest('versionId', 'You cannot delete current version of a file.');
      const target = tx.select().from(fileVersions).where(and(eq(fileVersions.fileId, fileId), eq(fileVersions.id, versionId))).get();
      if (!target) throw versionNotFound();
      record('file-version.deleted', { file: view.file, version: target });
      tx.delete(fileVersions).where(eq(fileVersions.id, versionId)).run();
      return target;
    });
    await this.deleteBlobs([removed]);
  }

  /** Gives a file a new name in its folder (sanitised like uploads). @throws NOT_FOUND, FILE_ALREADY_EXISTS */
  rename(filePath: string, newFileName: string): FileView {
    const name = sanitizeFileName(newFileName);
    return this.tx((tx, record) => {
      const file = tx.select().from(files).where(eq(files.filePath, filePath)).get();
      if (!file) throw fileNotFound();
      this.relocate(tx, file.id, file.folderPath, name);
      return this.updated(tx, record, file.id);
    });
  }

  /** Moves a file into a folder (created if missing), keeping its name. @throws NOT_FOUND, FILE_ALREADY_EXISTS */
  move(sourceFilePath: string, destinationPath: string): FileView {
    const folder = normalizeFolder(destinationPath);
    return this.tx((tx, record) => {
      const file = tx.select().from(files).where(eq(files.filePath, sourceFilePath)).get();
      if (!file) throw fileNotFound();
      this.ensureFolders(tx, folder);
      this.relocate(tx, file.id, folder, file.name);
      return this.updated(tx, record, file.id);
    });
  }

  private relocate(tx: Tx, fileId: string, folder: string, name: string): void {
    const filePath = joinFilePath(folder, name);
    const clash = tx.select({ id: files.id }).from(files).where(and(eq(files.filePath, filePath), ne(files.id, fileId))).get();
    if (clash) throw fileExists(name);
    const now = new Date();
    tx.update(files).set({ filePath, folderPath: folder, name, updatedAt: now }).where(eq(files.id, fileId)).run();
    tx.update(fileVersions).set({ folderPath: folder, name }).where(eq(fileVersions.fileId, fileId)).run();
    tx.update(fileVersions).set({ updatedAt: now }).where(and(eq(fileVersions.fileId, fileId), eq(fileVersions.isCurrent, true))).run();
  }

  private ensureFolders(tx: Tx, folder: string): void {
    const now = new Date();
    for (const folderPath of folderChain(folder)) {
      const parentPath = folderPath.slice(0, folderPath.lastIndexOf('/')) || '/';
      tx.insert(folders)
        .values({ id: createObjectId(), folderPath, name: folderPath.split('/').pop() as string, parentPath, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .run();
    }
  }

  /**
   * Adds or removes tags on several files at once; all or nothing.
   * @throws NOT_FOUND with `details.missingFileIds` (nothing changes); BAD_REQUEST when a file would exceed the tag limit.
   */
  changeTags(fileIds: readonly string[], tags: readonly string[], mode: 'add' | 'remove'): string[] {
    const wanted = normalizeTags(tags);
    const unique = [...new Set(fileIds)];
    return this.tx((tx, record) => {
      const rows = tx.select({ file: files, version: fileVersions }).from(files).innerJoin(fileVersions, eq(fileVersions.id, files.currentVersionId)).where(inArray(files.id, unique)).all();
      const missing = unique.filter((id) => !rows.some((r) => r.file.id === id));
      if (missing.length) throw missingFiles(missing);
      const now = new Date();
      for (const { version } of rows) {
        const current = version.tags ?? [];
        const next = mode === 'add' ? normalizeTags([...current, ...wanted]) : current.filter((t) => !wanted.includes(t));
        tx.update(fileVersions).set({ tags: next.length ? next : null, updatedAt: now }).where(eq(fileVersions.id, version.id)).run();
        this.updated(tx, record, version.fileId);
      }
      return unique;
    });
  }

  /** Creates a folder (and its parents); creating an existing folder returns it. @throws BAD_REQUEST for a bad name. */
  createFolder(folderName: string, parentFolderPath: string | null | undefined) {
    const parent = normalizeFolder(parentFolderPath);
    if (folderName.includes('/')) throw badRequest('folderName', 'Your request contains invalid folderName parameter. A folder name cannot contain "/".');
    const folder = normalizeFolder(`${parent}/${folderName}`);
    if (folder === parent) throw badRequest('folderName', 'Your request is missing folderName parameter.');
    return this.tx((tx) => {
      this.ensureFolders(tx, folder);
      return tx.select().from(folders).where(eq(folders.folderPath, folder)).get() as typeof folders.$inferSelect;
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
    const below = `${folder}/`;
    const { versions, deletedFiles, deletedFolders } = this.tx((tx, record) => {
      const row = tx.select().from(folders).where(eq(folders.folderPath, folder)).get();
      if (!row) throw new AppError('NOT_FOUND', `No folder found with folderPath ${folder}`, { parameter: 'folderPath' });
      // Everything at or below the folder: `/a` itself, and `/a/` ≤ path < `/a0` as bytes.
      const within = (column: typeof folders.folderPath | typeof files.folderPath) => or(eq(column, folder), and(gte(column, below), lt(column, `${folder}0`)));
      const allFolders = tx.select({ id: folders.id }).from(folders).where(within(folders.folderPath)).all();
      const allFiles = tx.select({ id: files.id }).from(files).where(within(files.folderPath)).all();
      if (!recursive && (allFiles.length > 0 || allFolders.length > 1)) {
        throw new AppError('FOLDER_NOT_EMPTY', `The folder ${folder} is not empty (${allFiles.length} files, ${allFolders.length - 1} subfolders); pass recursive: true to delete everything in it.`, {
          parameter: 'folderPath',
          details: { files: allFiles.length, subfolders: allFolders.length - 1 },
        });
      }
      const fileIds = allFiles.map((f) => f.id);
      for (const id of fileIds) record('file.deleted', this.current(tx, id));
      const versions = fileIds.length ? tx.select({ id: fileVersions.id, blobKey: fileVersions.blobKey }).from(fileVersions).where(inArray(fileVersions.fileId, fileIds)).all() : [];
      if (fileIds.length) tx.delete(files).where(inArray(files.id, fileIds)).run();
      tx.delete(folders).where(inArray(folders.id, allFolders.map((f) => f.id))).run();
      return { versions, deletedFiles: fileIds.length, deletedFolders: allFolders.length };
    });
    await this.deleteBlobs(versions);
    return { deletedFiles, deletedFolders };
  }
}
