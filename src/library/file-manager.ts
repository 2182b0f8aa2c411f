import type { Tx } from '../db/client.js';
import type { Transactor } from '../db/transactor.js';
import { FileRepo, FileTxQueries, type FileView, type VersionBlob } from '../db/repos/file-repo.js';
import type { AITag, ExtensionState, FileRow, FileVersionRow, FolderRow } from '../db/schema.js';
import { AppError, badRequest, fileNotFound, versionNotFound } from '../errors.js';
import { derivativesOf, originalKey, thumbnailKey } from '../storage/blob-keys.js';
import { type BlobStore, BlobNotFoundError } from '../storage/blob-store.js';
import { MAX_VERSIONS, versionLimitReached } from '../upload/commit.js';
import { createObjectId } from '../upload/ids.js';
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

const fileExists = (name: string, parameter: string) =>
  new AppError('FILE_ALREADY_EXISTS', `File with name ${name} already exists at the same location.`, { parameter, details: { reason: 'FILE_ALREADY_EXISTS' } });

/** ImageKit's answer when files of a bulk operation do not exist, listing them. */
export const missingFiles = (ids: string[]) =>
  new AppError('NOT_FOUND', 'The requested file(s) does not exist.', { parameter: 'fileIds', details: { missingFileIds: ids } });

const sourceFileMissing = (filePath: string) =>
  new AppError('NOT_FOUND', `No file found with filePath ${filePath}`, { parameter: 'sourceFilePath', details: { reason: 'SOURCE_FILE_MISSING' } });

const folderNotFound = (folder: string, parameter: string) =>
  new AppError('NOT_FOUND', `No folder found with folderPath ${folder}`, { parameter, details: { reason: 'FOLDER_NOT_FOUND' } });

/** AI tags without those named in `drop`; `["all"]` drops every one. */
export function withoutAITags(aiTags: readonly AITag[] | null, drop: readonly string[]): AITag[] | null {
  return drop.includes('all') ? null : (aiTags ?? []).filter((t) => !drop.includes(t.name));
}

/** A version being copied: the source row, and the id and blob its copy gets. */
interface VersionCopy {
  source: FileVersionRow;
  id: string;
  blobKey: string;
}

/** What a folder copy, move or rename did. */
export interface FolderOperationResult {
  /** Where the folder is now (or its copy). */
  folderPath: string;
  files: number;
  folders: number;
}

/** The last segment of a normalised folder (`/a/b` → `b`). */
const folderName = (folder: string) => folder.slice(folder.lastIndexOf('/') + 1);

/** `folder` at the place `from` had inside `to` (`/a/b/c`, `/a`, `/x/a` → `/x/a/b/c`). */
const rebase = (folder: string, from: string, to: string) => (folder === from ? to : `${to}${folder.slice(from.length)}`);

/**
 * ImageKit's folder name rule (create and rename): letters, marks, numerals (any script), `_` and `-` are kept, every
 * other character becomes `_`.
 * @throws BAD_REQUEST (folderName) for an empty name.
 */
export function sanitizeFolderName(raw: string): string {
  const name = raw.normalize('NFC').replace(/[^\p{L}\p{M}\p{N}_-]/gu, '_');
  if (!name) throw badRequest('folderName', 'Your request is missing folderName parameter.');
  return name;
}

/**
 * The media library's write operations. Each runs in one IMMEDIATE transaction, so a failure changes nothing;
 * blobs of deleted versions are removed after the commit (a crash in between leaves orphans for the janitor).
 */
export class FileManager {
  private readonly files: FileRepo;

  /** Reads outside transactions (committed rows), for what is read before bytes are copied. */
  private readonly reads: FileTxQueries;

  constructor(
    private readonly transactor: Transactor,
    private readonly store: BlobStore,
    private readonly customFields: CustomFieldService,
    private readonly events: LibraryEvents,
    private readonly notifyJobs: () => void,
    private readonly extensions: ExtensionStarter,
  ) {
    this.files = new FileRepo(transactor);
    this.reads = new FileTxQueries(transactor.reader, transactor.tables);
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
        set.aiTags = withoutAITags(view.version.aiTags, patch.removeAITags);
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
      await this.relocate(q, file.id, file.folderPath, name, 'newFileName');
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
      await this.relocate(q, file.id, folder, file.name, 'destinationPath');
      return await this.updated(q, record, file.id);
    });
  }

  /**
   * Copies a file into a folder (created if missing): its current version, or with `includeVersions` every
   * version (the current one becomes the copy's current). The copy is a new file with new ids and its own copy of
   * the bytes; when the folder already has a file of that name, the copied versions are added to it as its newest
   * versions instead (as an upload overwriting it would).
   * @throws NOT_FOUND (no such source file); VERSION_LIMIT_REACHED; BAD_REQUEST for a bad folder.
   */
  async copyFile(sourceFilePath: string, destinationPath: string, includeVersions: boolean): Promise<FileView> {
    const folder = normalizeFolder(destinationPath);
    const source = await this.reads.findByPath(sourceFilePath);
    if (!source) throw sourceFileMissing(sourceFilePath);
    const copies = await this.copyBlobs(await this.versionsToCopy(source, includeVersions), () => sourceFileMissing(sourceFilePath));
    return this.withCopies(copies, () =>
      this.tx(async (q, record) => {
        await q.ensureFolders(folder, new Date());
        return await this.insertCopies(q, record, copies, folder, source.file.name);
      }),
    );
  }

  /**
   * Copies a folder, with its subfolders and files, into `destinationPath` (`/a/b` into `/x` gives `/x/b`); each
   * file as `copyFile` copies it.
   * @throws NOT_FOUND (no such folder); BAD_REQUEST (the root, or a destination inside the source); VERSION_LIMIT_REACHED.
   */
  async copyFolder(sourceFolderPath: string, destinationPath: string, includeVersions: boolean): Promise<FolderOperationResult> {
    const { source, target } = this.folderTarget(sourceFolderPath, destinationPath);
    if (target === source) throw badRequest('destinationPath', `The folder ${source} is already in ${normalizeFolder(destinationPath)}: a copy there would be itself.`);
    const folders = await this.reads.foldersWithin(source);
    if (folders.length === 0) throw new AppError('NOT_FOUND', `No files & folder found at sourceFolderPath ${source}`, { parameter: 'sourceFolderPath', details: { reason: 'NO_FILES_FOLDER' } });
    const views = await this.reads.findByIds(await this.reads.fileIdsWithin(source));
    const plan: { view: FileView; copies: VersionCopy[] }[] = [];
    const all: VersionCopy[] = [];
    try {
      for (const view of views) {
        const copies = await this.copyBlobs(await this.versionsToCopy(view, includeVersions), () => fileNotFound());
        all.push(...copies);
        plan.push({ view, copies });
      }
    } catch (error) {
      await this.deleteBlobs(all);
      throw error;
    }
    return this.withCopies(all, () =>
      this.tx(async (q, record) => {
        const now = new Date();
        for (const folder of folders) await q.ensureFolders(rebase(folder.folderPath, source, target), now);
        for (const { view, copies } of plan) await this.insertCopies(q, record, copies, rebase(view.file.folderPath, source, target), view.file.name);
        return { folderPath: target, files: plan.length, folders: folders.length };
      }),
    );
  }

  /**
   * Moves a folder, with its subfolders and files (all versions), into `destinationPath` (`/a/b` into `/x` gives
   * `/x/b`; an existing `/x/b` is merged into). All or nothing: a file whose new path is taken by another file
   * stops the move.
   * @throws NOT_FOUND; BAD_REQUEST (the root, or a destination inside the source); FILE_ALREADY_EXISTS
   */
  async moveFolder(sourceFolderPath: string, destinationPath: string): Promise<FolderOperationResult> {
    const { source, target } = this.folderTarget(sourceFolderPath, destinationPath);
    return this.relocateFolder(source, target, 'sourceFolderPath');
  }

  /**
   * Renames a folder in place (ImageKit's rule: characters other than letters, numerals and `-` become `_`); its
   * files and subfolders move with it.
   * @throws NOT_FOUND; BAD_REQUEST (the root); FILE_ALREADY_EXISTS
   */
  async renameFolder(folderPath: string, newFolderName: string): Promise<FolderOperationResult> {
    const source = normalizeFolder(folderPath);
    if (source === '/') throw badRequest('folderPath', 'The root folder cannot be renamed.');
    const parent = source.slice(0, source.lastIndexOf('/')) || '/';
    return this.relocateFolder(source, normalizeFolder(`${parent}/${sanitizeFolderName(newFolderName)}`), 'folderPath');
  }

  /** Folder rows move by being created at the new path and deleted at the old one (they get new ids). */
  private async relocateFolder(source: string, target: string, parameter: string): Promise<FolderOperationResult> {
    return this.tx(async (q, record) => {
      const folders = await q.foldersWithin(source);
      if (folders.length === 0) throw folderNotFound(source, parameter);
      const fileIds = await q.fileIdsWithin(source);
      if (target === source) return { folderPath: target, files: fileIds.length, folders: folders.length };
      const now = new Date();
      for (const folder of folders) await q.ensureFolders(rebase(folder.folderPath, source, target), now);
      for (const { file } of await q.findByIds(fileIds)) {
        // The parameter that chose the clashing place: the destination of a move, the new name of a rename.
        await this.relocate(q, file.id, rebase(file.folderPath, source, target), file.name, parameter === 'folderPath' ? 'newFolderName' : 'destinationPath');
        await this.updated(q, record, file.id);
      }
      await q.deleteFolders(folders.map((f) => f.id));
      return { folderPath: target, files: fileIds.length, folders: folders.length };
    });
  }

  /** Where `source` lands when put into `destinationPath`. @throws BAD_REQUEST for the root or a destination inside the source. */
  private folderTarget(sourceFolderPath: string, destinationPath: string): { source: string; target: string } {
    const source = normalizeFolder(sourceFolderPath);
    const destination = normalizeFolder(destinationPath);
    if (source === '/') throw badRequest('sourceFolderPath', 'The root folder cannot be copied or moved.');
    if (destination === source || destination.startsWith(`${source}/`)) {
      throw badRequest('destinationPath', `The destination ${destination} is inside the source folder ${source}.`);
    }
    return { source, target: joinFilePath(destination, folderName(source)) };
  }

  /** The versions a copy takes, oldest first, the current one last (it stays the current one). */
  private async versionsToCopy(view: FileView, includeVersions: boolean): Promise<FileVersionRow[]> {
    if (!includeVersions) return [view.version];
    const versions = (await this.files.listVersions(view.file.id)) ?? [view];
    return [...versions.filter((v) => v.version.id !== view.version.id), view].map((v) => v.version);
  }

  /** Copies each version's bytes to a new id's blob; on failure removes what was copied. */
  private async copyBlobs(sources: readonly FileVersionRow[], missing: () => AppError): Promise<VersionCopy[]> {
    const copies: VersionCopy[] = [];
    try {
      for (const source of sources) {
        const id = createObjectId();
        const copy = { source, id, blobKey: originalKey(id) };
        copies.push(copy);
        await this.store.put(copy.blobKey, await this.store.get(source.blobKey));
      }
    } catch (error) {
      await this.deleteBlobs(copies);
      // The source was deleted while its bytes were being read.
      if (error instanceof BlobNotFoundError) throw missing();
      throw error;
    }
    return copies;
  }

  /** Runs `commit`; when it fails, the copied blobs are removed. */
  private async withCopies<T>(copies: readonly VersionCopy[], commit: () => Promise<T>): Promise<T> {
    try {
      return await commit();
    } catch (error) {
      await this.deleteBlobs([...copies]);
      throw error;
    }
  }

  /**
   * Writes the rows of copied versions at `folder`/`name`: a new file (whose id is its first version's), or, when a
   * file is there, its newest versions. The last copy becomes the current version.
   */
  private async insertCopies(q: FileTxQueries, record: Recorder, copies: readonly VersionCopy[], folder: string, name: string): Promise<FileView> {
    const now = new Date();
    const filePath = joinFilePath(folder, name);
    const last = copies[copies.length - 1] as VersionCopy;
    const row = (c: VersionCopy, file: Pick<FileRow, 'id' | 'createdAt'>, number: number) => {
      const { id: _id, fileId: _fileId, number: _number, isCurrent: _isCurrent, blobKey: _blobKey, folderPath: _folderPath, name: _name, fileCreatedAt: _fileCreatedAt, createdAt: _createdAt, updatedAt: _updatedAt, extensionStatus, ...attributes } = c.source;
      // Extensions still running on the source finish there, not on the copy.
      const settled = Object.entries(extensionStatus ?? {}).filter(([, state]) => state !== 'pending') as [string, ExtensionState][];
      return {
        ...attributes,
        id: c.id,
        fileId: file.id,
        number,
        isCurrent: c === last,
        blobKey: c.blobKey,
        folderPath: folder,
        name,
        fileCreatedAt: file.createdAt,
        extensionStatus: settled.length > 0 ? Object.fromEntries(settled) : null,
        createdAt: now,
        updatedAt: now,
      };
    };
    const existing = await q.findFileByPath(filePath);
    if (!existing) {
      const file = { id: (copies[0] as VersionCopy).id, filePath, folderPath: folder, name, currentVersionId: last.id, versionCounter: copies.length, createdAt: now, updatedAt: now };
      await q.insertFile(file);
      for (const [i, c] of copies.entries()) await q.insertVersion(row(c, file, i + 1));
      const view = await this.current(q, file.id);
      await record('file.created', view);
      return view;
    }
    if ((await q.countVersions(existing.id)) + copies.length > MAX_VERSIONS) throw versionLimitReached(filePath);
    await q.updateVersionsOf(existing.id, { isCurrent: false });
    for (const [i, c] of copies.entries()) await q.insertVersion(row(c, existing, existing.versionCounter + i + 1));
    await q.updateFile(existing.id, { currentVersionId: last.id, versionCounter: existing.versionCounter + copies.length, updatedAt: now });
    const view = await this.current(q, existing.id);
    await record('file-version.created', view);
    return view;
  }

  /** @throws FILE_ALREADY_EXISTS naming `conflictParameter` when another file is at the new path */
  private async relocate(q: FileTxQueries, fileId: string, folder: string, name: string, conflictParameter: string): Promise<void> {
    const filePath = joinFilePath(folder, name);
    if (await q.isPathTakenByOther(filePath, fileId)) throw fileExists(name, conflictParameter);
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
    return this.changeEachCurrentVersion(fileIds, (version) => {
      const current = version.tags ?? [];
      const next = mode === 'add' ? normalizeTags([...current, ...wanted]) : current.filter((t) => !wanted.includes(t));
      return { tags: next.length ? next : null };
    });
  }

  /**
   * Removes AI tags (by name) from several files at once; all or nothing.
   * @throws NOT_FOUND with `details.missingFileIds` (nothing changes).
   */
  async removeAITags(fileIds: readonly string[], names: readonly string[]): Promise<string[]> {
    return this.changeEachCurrentVersion(fileIds, (version) => ({ aiTags: (version.aiTags ?? []).filter((t) => !names.includes(t.name)) }));
  }

  /**
   * Applies `change` to the current version of each of `fileIds` in one transaction, all or nothing, and records
   * each file as updated. @returns the ids, without repeats
   * @throws NOT_FOUND with `details.missingFileIds` (nothing changes)
   */
  private async changeEachCurrentVersion(fileIds: readonly string[], change: (version: FileVersionRow) => Partial<FileVersionRow>): Promise<string[]> {
    const unique = [...new Set(fileIds)];
    return this.tx(async (q, record) => {
      const rows = await q.findByIds(unique);
      const missing = unique.filter((id) => !rows.some((r) => r.file.id === id));
      if (missing.length) throw missingFiles(missing);
      const now = new Date();
      for (const { version } of rows) {
        await q.updateVersion(version.id, { ...change(version), updatedAt: now });
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
