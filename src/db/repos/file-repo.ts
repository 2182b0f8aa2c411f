import { and, asc, count, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../client.js';
import { type FileRow, type FileVersionRow, type FolderRow, fileVersions, files, folders } from '../schema.js';

/** A file as the API shows it: the identity row and the version being looked at (current unless asked). */
export interface FileView {
  file: FileRow;
  version: FileVersionRow;
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

/** Reads over files, versions and folders. Writes that must be atomic live in the upload commit. */
export class FileRepo {
  constructor(private readonly db: Db) {}

  /** Files as their current version. */
  private current(tx: DbOrTx) {
    return tx.select({ file: files, version: fileVersions }).from(files).innerJoin(fileVersions, eq(fileVersions.id, files.currentVersionId));
  }

  findById(fileId: string, tx: DbOrTx = this.db): FileView | undefined {
    return this.current(tx).where(eq(files.id, fileId)).get() ?? undefined;
  }

  findByPath(filePath: string, tx: DbOrTx = this.db): FileView | undefined {
    return this.current(tx).where(eq(files.filePath, filePath)).get() ?? undefined;
  }

  findVersion(fileId: string, versionId: string, tx: DbOrTx = this.db): FileView | undefined {
    const row = tx
      .select({ file: files, version: fileVersions })
      .from(fileVersions)
      .innerJoin(files, eq(files.id, fileVersions.fileId))
      .where(and(eq(fileVersions.fileId, fileId), eq(fileVersions.id, versionId)))
      .get();
    return row ?? undefined;
  }

  /** Every version of the file, oldest first; `undefined` when the file does not exist. */
  listVersions(fileId: string): FileView[] | undefined {
    const file = this.db.select().from(files).where(eq(files.id, fileId)).get();
    if (!file) return undefined;
    const versions = this.db.select().from(fileVersions).where(eq(fileVersions.fileId, fileId)).orderBy(asc(fileVersions.number)).all();
    return versions.map((version) => ({ file, version }));
  }

  countVersions(fileId: string, tx: DbOrTx = this.db): number {
    return tx.select({ n: count() }).from(fileVersions).where(eq(fileVersions.fileId, fileId)).get()?.n ?? 0;
  }

  /** The folders directly inside `parentPath`, by name. */
  listFolders(parentPath: string): FolderRow[] {
    return this.db.select().from(folders).where(eq(folders.parentPath, parentPath)).orderBy(asc(folders.name)).all();
  }

  /** Current files whose bytes hash to `sha256`. */
  findCurrentBySha256(sha256: string): FileView[] {
    return this.db
      .select({ file: files, version: fileVersions })
      .from(fileVersions)
      .innerJoin(files, eq(files.id, fileVersions.fileId))
      .where(and(eq(fileVersions.sha256, sha256), eq(fileVersions.isCurrent, true)))
      .all();
  }

  /** Every current image's perceptual hash (a 100k-image library is ~3 MB of hashes: scanned in memory). */
  listCurrentPHashes(): { fileId: string; pHash: string }[] {
    return this.db
      .select({ fileId: fileVersions.fileId, pHash: fileVersions.pHash })
      .from(fileVersions)
      .where(and(eq(fileVersions.isCurrent, true), isNotNull(fileVersions.pHash)))
      .all() as { fileId: string; pHash: string }[];
  }

  /** Blob keys of every stored version, for the orphan sweep. */
  hasBlobKey(blobKey: string): boolean {
    return !!this.db.select({ id: fileVersions.id }).from(fileVersions).where(eq(fileVersions.blobKey, blobKey)).get();
  }
}
