import { and, asc, count, eq, gt, gte, inArray, isNotNull, lt, ne, or } from 'drizzle-orm';
import { createObjectId } from '../../upload/ids.js';
import { folderChain } from '../../upload/naming.js';
import type { Db, DbOrTx, Tx } from '../client.js';
import type { FileRow, FileVersionRow, FolderRow, fileVersions, files, folders } from '../schema.js';
import type { Tables } from '../tables.js';
import type { Transactor } from '../transactor.js';

/** A file as the API shows it: the identity row and the version being looked at (current unless asked). */
export interface FileView {
  file: FileRow;
  version: FileVersionRow;
}

/** A version's id and where its bytes are: what deleting it must remove from the blob store. */
export type VersionBlob = Pick<FileVersionRow, 'id' | 'blobKey'>;

/**
 * The queries over files, versions and folders that run inside a caller's transaction: the reads and writes of the
 * upload commit, file management and extension results. Obtained from `FileRepo.inTx(tx)`.
 */
export class FileTxQueries {
  constructor(
    private readonly tx: DbOrTx,
    private readonly t: Tables,
  ) {}

  /** Files as their current version. */
  private current() {
    return this.tx.select({ file: this.t.files, version: this.t.fileVersions }).from(this.t.files).innerJoin(this.t.fileVersions, eq(this.t.fileVersions.id, this.t.files.currentVersionId));
  }

  async findById(fileId: string): Promise<FileView | undefined> {
    return (await this.current().where(eq(this.t.files.id, fileId)).limit(1))[0];
  }

  async findByPath(filePath: string): Promise<FileView | undefined> {
    return (await this.current().where(eq(this.t.files.filePath, filePath)).limit(1))[0];
  }

  /** The files among `fileIds` that exist, as their current version. */
  async findByIds(fileIds: readonly string[]): Promise<FileView[]> {
    return await this.current().where(inArray(this.t.files.id, [...fileIds]));
  }

  /** The file with `versionId` (current or not) as the version looked at; `undefined` unless it is one of its versions. */
  async findVersion(fileId: string, versionId: string): Promise<FileView | undefined> {
    const rows = await this.tx
      .select({ file: this.t.files, version: this.t.fileVersions })
      .from(this.t.fileVersions)
      .innerJoin(this.t.files, eq(this.t.files.id, this.t.fileVersions.fileId))
      .where(and(eq(this.t.fileVersions.fileId, fileId), eq(this.t.fileVersions.id, versionId)))
      .limit(1);
    return rows[0];
  }

  async countVersions(fileId: string): Promise<number> {
    return (await this.tx.select({ n: count() }).from(this.t.fileVersions).where(eq(this.t.fileVersions.fileId, fileId)))[0]?.n ?? 0;
  }

  /** The file row alone (no version) at `filePath`. */
  async findFileByPath(filePath: string): Promise<FileRow | undefined> {
    return (await this.tx.select().from(this.t.files).where(eq(this.t.files.filePath, filePath)).limit(1))[0];
  }

  /** The ids among `fileIds` that exist. */
  async existingFileIds(fileIds: readonly string[]): Promise<string[]> {
    return (await this.tx.select({ id: this.t.files.id }).from(this.t.files).where(inArray(this.t.files.id, [...fileIds]))).map((r) => r.id);
  }

  /** Whether a file other than `fileId` is at `filePath`. */
  async isPathTakenByOther(filePath: string, fileId: string): Promise<boolean> {
    return (await this.tx.select({ id: this.t.files.id }).from(this.t.files).where(and(eq(this.t.files.filePath, filePath), ne(this.t.files.id, fileId))).limit(1)).length > 0;
  }

  async findVersionRow(versionId: string): Promise<FileVersionRow | undefined> {
    return (await this.tx.select().from(this.t.fileVersions).where(eq(this.t.fileVersions.id, versionId)).limit(1))[0];
  }

  /** The file's version numbered next after `number` (numbers may have gaps where versions were deleted). */
  async nextVersion(fileId: string, number: number): Promise<FileVersionRow | undefined> {
    return (await this.tx.select().from(this.t.fileVersions).where(and(eq(this.t.fileVersions.fileId, fileId), gt(this.t.fileVersions.number, number))).orderBy(asc(this.t.fileVersions.number)).limit(1))[0];
  }

  /** Every version of the files `fileIds`, as what deleting them must remove from the blob store. */
  async versionBlobs(fileIds: readonly string[]): Promise<VersionBlob[]> {
    if (fileIds.length === 0) return [];
    return await this.tx.select({ id: this.t.fileVersions.id, blobKey: this.t.fileVersions.blobKey }).from(this.t.fileVersions).where(inArray(this.t.fileVersions.fileId, [...fileIds]));
  }

  async insertFile(file: typeof files.$inferInsert): Promise<void> {
    await this.tx.insert(this.t.files).values(file);
  }

  async insertVersion(version: typeof fileVersions.$inferInsert): Promise<FileVersionRow> {
    const [inserted] = await this.tx.insert(this.t.fileVersions).values(version).returning();
    return inserted as FileVersionRow;
  }

  /** Changes the file row; `undefined` when there is no file `fileId`. */
  async updateFile(fileId: string, set: Partial<FileRow>): Promise<FileRow | undefined> {
    return (await this.tx.update(this.t.files).set(set).where(eq(this.t.files.id, fileId)).returning())[0];
  }

  async updateVersion(versionId: string, set: Partial<FileVersionRow>): Promise<void> {
    await this.tx.update(this.t.fileVersions).set(set).where(eq(this.t.fileVersions.id, versionId));
  }

  /** Changes every version of the file. */
  async updateVersionsOf(fileId: string, set: Partial<FileVersionRow>): Promise<void> {
    await this.tx.update(this.t.fileVersions).set(set).where(eq(this.t.fileVersions.fileId, fileId));
  }

  async updateCurrentVersionOf(fileId: string, set: Partial<FileVersionRow>): Promise<void> {
    await this.tx.update(this.t.fileVersions).set(set).where(and(eq(this.t.fileVersions.fileId, fileId), eq(this.t.fileVersions.isCurrent, true)));
  }

  /** Deletes the files with all their versions (the blobs stay: remove them after the commit). */
  async deleteFiles(fileIds: readonly string[]): Promise<void> {
    if (fileIds.length > 0) await this.tx.delete(this.t.files).where(inArray(this.t.files.id, [...fileIds]));
  }

  async deleteVersion(versionId: string): Promise<void> {
    await this.tx.delete(this.t.fileVersions).where(eq(this.t.fileVersions.id, versionId));
  }

  async findFolder(folderPath: string): Promise<FolderRow | undefined> {
    return (await this.tx.select().from(this.t.folders).where(eq(this.t.folders.folderPath, folderPath)).limit(1))[0];
  }

  /** Creates `folder` and every missing folder above it; existing ones are left as they are. */
  async ensureFolders(folder: string, now: Date): Promise<void> {
    for (const folderPath of folderChain(folder)) {
      const parentPath = folderPath.slice(0, folderPath.lastIndexOf('/')) || '/';
      await this.tx
        .insert(this.t.folders)
        .values({ id: createObjectId(), folderPath, name: folderPath.split('/').pop() as string, parentPath, createdAt: now, updatedAt: now })
        .onConflictDoNothing();
    }
  }

  /** `folder` and every folder below it, parents before their children. */
  async foldersWithin(folder: string): Promise<FolderRow[]> {
    return await this.tx.select().from(this.t.folders).where(within(this.t.folders.folderPath, folder)).orderBy(asc(this.t.folders.folderPath));
  }

  /** The ids of `folder` and every folder below it. */
  async folderIdsWithin(folder: string): Promise<string[]> {
    return (await this.tx.select({ id: this.t.folders.id }).from(this.t.folders).where(within(this.t.folders.folderPath, folder))).map((r) => r.id);
  }

  /** The ids of the files in `folder` or any folder below it. */
  async fileIdsWithin(folder: string): Promise<string[]> {
    return (await this.tx.select({ id: this.t.files.id }).from(this.t.files).where(within(this.t.files.folderPath, folder))).map((r) => r.id);
  }

  async deleteFolders(folderIds: readonly string[]): Promise<void> {
    await this.tx.delete(this.t.folders).where(inArray(this.t.folders.id, [...folderIds]));
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

  private readonly db: Db;

  private readonly t: Tables;

  /** Reads outside transactions go to the transactor's reader connection. */
  constructor(transactor: Pick<Transactor, 'reader' | 'tables'>) {
    this.db = transactor.reader;
    this.t = transactor.tables;
    this.reads = new FileTxQueries(this.db, this.t);
  }

  /** The queries for use inside a transaction callback (see {@link FileTxQueries}). */
  inTx(tx: Tx): FileTxQueries {
    return new FileTxQueries(tx, this.t);
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
    const [file] = await this.db.select().from(this.t.files).where(eq(this.t.files.id, fileId)).limit(1);
    if (!file) return undefined;
    const versions = await this.db.select().from(this.t.fileVersions).where(eq(this.t.fileVersions.fileId, fileId)).orderBy(asc(this.t.fileVersions.number));
    return versions.map((version) => ({ file, version }));
  }

  /** The folders directly inside `parentPath`, by name. */
  async listFolders(parentPath: string): Promise<FolderRow[]> {
    return this.db.select().from(this.t.folders).where(eq(this.t.folders.parentPath, parentPath)).orderBy(asc(this.t.folders.name));
  }

  /** Current files whose bytes hash to `sha256`. */
  async findCurrentBySha256(sha256: string): Promise<FileView[]> {
    return this.db
      .select({ file: this.t.files, version: this.t.fileVersions })
      .from(this.t.fileVersions)
      .innerJoin(this.t.files, eq(this.t.files.id, this.t.fileVersions.fileId))
      .where(and(eq(this.t.fileVersions.sha256, sha256), eq(this.t.fileVersions.isCurrent, true)));
  }

  /** Every current image's perceptual hash (a 100k-image library is ~3 MB of hashes: scanned in memory). */
  async listCurrentPHashes(): Promise<{ fileId: string; pHash: string }[]> {
    return (await this.db
      .select({ fileId: this.t.fileVersions.fileId, pHash: this.t.fileVersions.pHash })
      .from(this.t.fileVersions)
      .where(and(eq(this.t.fileVersions.isCurrent, true), isNotNull(this.t.fileVersions.pHash)))) as { fileId: string; pHash: string }[];
  }

  /** Whether any stored version's bytes are at `blobKey` (the janitor keeps those blobs). */
  async hasBlobKey(blobKey: string): Promise<boolean> {
    return (await this.db.select({ id: this.t.fileVersions.id }).from(this.t.fileVersions).where(eq(this.t.fileVersions.blobKey, blobKey)).limit(1)).length > 0;
  }
}
