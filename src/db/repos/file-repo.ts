import { and, asc, count, eq, gt, gte, inArray, isNotNull, lt, ne, or } from 'drizzle-orm';
import { createObjectId } from '../../upload/ids.js';
import { folderChain } from '../../upload/naming.js';
import type { Db, DbOrTx, Tx } from '../client.js';
import { type FileRow, type FileVersionRow, type FolderRow, fileVersions, files, folders } from '../schema.js';

/** A file as the API shows it: the identity row and the version being looked at (current unless asked). */
export interface FileView {
  file: FileRow;
  version: FileVersionRow;
}

/** A version's id and where its bytes are: what deleting it must remove from the blob store. */
export type VersionBlob = Pick<FileVersionRow, 'id' | 'blobKey'>;

/**
 * The queries over files, versions and folders that run inside a synchronous better-sqlite3 transaction callback,
 * which cannot await: the reads and writes of the upload commit, file management and extension results. Obtained
 * from `FileRepo.inTx(tx)`; they become async methods taking the transaction when transactions become async.
 */
export class FileTxQueries {
  constructor(private readonly tx: DbOrTx) {}

  /** Files as their current version. */
  private current() {
    return this.tx.select({ file: files, version: fileVersions }).from(files).innerJoin(fileVersions, eq(fileVersions.id, files.currentVersionId));
  }

  findById(fileId: string): FileView | undefined {
    return this.current().where(eq(files.id, fileId)).get() ?? undefined;
  }

  findByPath(filePath: string): FileView | undefined {
    return this.current().where(eq(files.filePath, filePath)).get() ?? undefined;
  }

  /** The files among `fileIds` that exist, as their current version. */
  findByIds(fileIds: readonly string[]): FileView[] {
    return this.current().where(inArray(files.id, [...fileIds])).all();
  }

  /** The file with `versionId` (current or not) as the version looked at; `undefined` unless it is one of its versions. */
  findVersion(fileId: string, versionId: string): FileView | undefined {
    const row = this.tx
      .select({ file: files, version: fileVersions })
      .from(fileVersions)
      .innerJoin(files, eq(files.id, fileVersions.fileId))
      .where(and(eq(fileVersions.fileId, fileId), eq(fileVersions.id, versionId)))
      .get();
    return row ?? undefined;
  }

  countVersions(fileId: string): number {
    return this.tx.select({ n: count() }).from(fileVersions).where(eq(fileVersions.fileId, fileId)).get()?.n ?? 0;
  }

  /** The file row alone (no version) at `filePath`. */
  findFileByPath(filePath: string): FileRow | undefined {
    return this.tx.select().from(files).where(eq(files.filePath, filePath)).get();
  }

  /** The ids among `fileIds` that exist. */
  existingFileIds(fileIds: readonly string[]): string[] {
    return this.tx.select({ id: files.id }).from(files).where(inArray(files.id, [...fileIds])).all().map((r) => r.id);
  }

  /** Whether a file other than `fileId` is at `filePath`. */
  isPathTakenByOther(filePath: string, fileId: string): boolean {
    return !!this.tx.select({ id: files.id }).from(files).where(and(eq(files.filePath, filePath), ne(files.id, fileId))).get();
  }

  findVersionRow(versionId: string): FileVersionRow | undefined {
    return this.tx.select().from(fileVersions).where(eq(fileVersions.id, versionId)).get();
  }

  /** The file's version numbered next after `number` (numbers may have gaps where versions were deleted). */
  nextVersion(fileId: string, number: number): FileVersionRow | undefined {
    return this.tx.select().from(fileVersions).where(and(eq(fileVersions.fileId, fileId), gt(fileVersions.number, number))).orderBy(asc(fileVersions.number)).limit(1).get();
  }

  /** Every version of the files `fileIds`, as what deleting them must remove from the blob store. */
  versionBlobs(fileIds: readonly string[]): VersionBlob[] {
    if (fileIds.length === 0) return [];
    return this.tx.select({ id: fileVersions.id, blobKey: fileVersions.blobKey }).from(fileVersions).where(inArray(fileVersions.fileId, [...fileIds])).all();
  }

  insertFile(file: typeof files.$inferInsert): void {
    this.tx.insert(files).values(file).run();
  }

  insertVersion(version: typeof fileVersions.$inferInsert): FileVersionRow {
    return this.tx.insert(fileVersions).values(version).returning().get();
  }

  /** Changes the file row; `undefined` when there is no file `fileId`. */
  updateFile(fileId: string, set: Partial<FileRow>): FileRow | undefined {
    return this.tx.update(files).set(set).where(eq(files.id, fileId)).returning().get();
  }

  updateVersion(versionId: string, set: Partial<FileVersionRow>): void {
    this.tx.update(fileVersions).set(set).where(eq(fileVersions.id, versionId)).run();
  }

  /** Changes every version of the file. */
  updateVersionsOf(fileId: string, set: Partial<FileVersionRow>): void {
    this.tx.update(fileVersions).set(set).where(eq(fileVersions.fileId, fileId)).run();
  }

  updateCurrentVersionOf(fileId: string, set: Partial<FileVersionRow>): void {
    this.tx.update(fileVersions).set(set).where(and(eq(fileVersions.fileId, fileId), eq(fileVersions.isCurrent, true))).run();
  }

  /** Deletes the files with all their versions (the blobs stay: remove them after the commit). */
  deleteFiles(fileIds: readonly string[]): void {
    if (fileIds.length > 0) this.tx.delete(files).where(inArray(files.id, [...fileIds])).run();
  }

  deleteVersion(versionId: string): void {
    this.tx.delete(fileVersions).where(eq(fileVersions.id, versionId)).run();
  }

  findFolder(folderPath: string): FolderRow | undefined {
    return this.tx.select().from(folders).where(eq(folders.folderPath, folderPath)).get();
  }

  /** Creates `folder` and every missing folder above it; existing ones are left as they are. */
  ensureFolders(folder: string, now: Date): void {
    for (const folderPath of folderChain(folder)) {
      const parentPath = folderPath.slice(0, folderPath.lastIndexOf('/')) || '/';
      this.tx
        .insert(folders)
        .values({ id: createObjectId(), folderPath, name: folderPath.split('/').pop() as string, parentPath, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .run();
    }
  }

  /** The ids of `folder` and every folder below it. */
  folderIdsWithin(folder: string): string[] {
    return this.tx.select({ id: folders.id }).from(folders).where(within(folders.folderPath, folder)).all().map((r) => r.id);
  }

  /** The ids of the files in `folder` or any folder below it. */
  fileIdsWithin(folder: string): string[] {
    return this.tx.select({ id: files.id }).from(files).where(within(files.folderPath, folder)).all().map((r) => r.id);
  }

  deleteFolders(folderIds: readonly string[]): void {
    this.tx.delete(folders).where(inArray(folders.id, [...folderIds])).run();
  }
}

/** `column` is `folder` or a path below it: `/a` itself, and `/a/` ≤ path < `/a0` as bytes (`0` follows `/`). */
function within(column: typeof folders.folderPath | typeof files.folderPath, folder: string) {
  return or(eq(column, folder), and(gte(column, `${folder}/`), lt(column, `${folder}0`)));
}

/**
 * Files, versions and folders. Reads outside transactions are async, so that a server database can answer them;
 * what must be atomic runs inside the callers' transactions through {@link FileRepo.inTx}.
 */
export class FileRepo {
  private readonly reads: FileTxQueries;

  constructor(private readonly db: Db) {
    this.reads = new FileTxQueries(db);
  }

  /** The synchronous queries, for use inside a transaction callback (see {@link FileTxQueries}). */
  inTx(tx: Tx): FileTxQueries {
    return new FileTxQueries(tx);
  }

  async findById(fileId: string): Promise<FileView | undefined> {
    return this.reads.findById(fileId);
  }

  async findByPath(filePath: string): Promise<FileView | undefined> {
    return this.reads.findByPath(filePath);
  }

  /** The file with `versionId` (current or not) as the version looked at; `undefined` unless it is one of its versions. */
  async findVersion(fileId: string, versionId: string): Promise<FileView | undefined> {
    return this.reads.findVersion(fileId, versionId);
  }

  async countVersions(fileId: string): Promise<number> {
    return this.reads.countVersions(fileId);
  }

  /** Every version of the file, oldest first; `undefined` when the file does not exist. */
  async listVersions(fileId: string): Promise<FileView[] | undefined> {
    const file = this.db.select().from(files).where(eq(files.id, fileId)).get();
    if (!file) return undefined;
    const versions = this.db.select().from(fileVersions).where(eq(fileVersions.fileId, fileId)).orderBy(asc(fileVersions.number)).all();
    return versions.map((version) => ({ file, version }));
  }

  /** The folders directly inside `parentPath`, by name. */
  async listFolders(parentPath: string): Promise<FolderRow[]> {
    return this.db.select().from(folders).where(eq(folders.parentPath, parentPath)).orderBy(asc(folders.name)).all();
  }

  /** Current files whose bytes hash to `sha256`. */
  async findCurrentBySha256(sha256: string): Promise<FileView[]> {
    return this.db
      .select({ file: files, version: fileVersions })
      .from(fileVersions)
      .innerJoin(files, eq(files.id, fileVersions.fileId))
      .where(and(eq(fileVersions.sha256, sha256), eq(fileVersions.isCurrent, true)))
      .all();
  }

  /** Every current image's perceptual hash (a 100k-image library is ~3 MB of hashes: scanned in memory). */
  async listCurrentPHashes(): Promise<{ fileId: string; pHash: string }[]> {
    return this.db
      .select({ fileId: fileVersions.fileId, pHash: fileVersions.pHash })
      .from(fileVersions)
      .where(and(eq(fileVersions.isCurrent, true), isNotNull(fileVersions.pHash)))
      .all() as { fileId: string; pHash: string }[];
  }

  /** Whether any stored version's bytes are at `blobKey` (the janitor keeps those blobs). */
  async hasBlobKey(blobKey: string): Promise<boolean> {
    return !!this.db.select({ id: fileVersions.id }).from(fileVersions).where(eq(fileVersions.blobKey, blobKey)).get();
  }
}
