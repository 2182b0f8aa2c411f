import { and, asc, type Column, count, desc, eq, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { SearchExpr } from '../../library/search/search-ast.js';
import { type AssetType, compareValues, isInstantKey, type Position, type SortDirection, type SortKey, type SortValue } from '../../library/listing-order.js';
import type { SqlDialect } from '../dialect/dialect.js';
import { type CustomMetadataFieldRow, type FolderRow, fileVersions, folders } from '../schema.js';
import { compileSearch } from '../search/compile-search.js';
import type { Transactor } from '../transactor.js';
import type { FileView } from './file-repo.js';

/** How rows of one kind (files or folders) are ordered, and resumed after a cursor. */
export interface Keyset {
  /** The sort value. */
  value: SQL;
  orderBy: SQL[];
  /** The condition "after `cursor`" (a position of either kind). */
  after(cursor: Position): SQL;
}

/**
 * The keyset of rows of one kind, whose order is (value, rank, id). "After a cursor" is a row-value comparison so
 * the database seeks the sort index straight to the cursor instead of scanning up to it.
 */
function keyset(dialect: SqlDialect, key: SortKey, rank: 0 | 1, value: SQL, id: SQLiteColumn, descending: boolean): Keyset {
  const dir = descending ? desc : asc;
  const bound = (v: SortValue) => (isInstantKey(key) ? dialect.instant(v as number) : sql`${v}`);
  return {
    value,
    orderBy: [dir(value), dir(id)],
    after([v, r, lastId]) {
      const op = sql.raw(descending ? '<' : '>');
      if (r === rank) return sql`(${value}, ${id}) ${op} (${bound(v)}, ${lastId})`;
      const rankBeyond = descending ? r > rank : r < rank;
      return rankBeyond ? sql`${value} ${sql.raw(descending ? '<=' : '>=')} ${bound(v)}` : sql`${value} ${op} ${bound(v)}`;
    },
  };
}

/**
 * The keyset of rows whose sort value is the same `constant` for every row (folders by size or dimensions). The
 * value is compared here, leaving the database only the id: SQLite would read `ORDER BY -1` as a column number,
 * and PostgreSQL would type a cursor compared with `-1` as a 32-bit integer.
 */
function constantKeyset(dialect: SqlDialect, constant: number, rank: 0 | 1, id: SQLiteColumn, descending: boolean): Keyset {
  const dir = descending ? desc : asc;
  const all = sql`1 = 1`;
  return {
    value: sql`${sql.raw(String(constant))}`,
    orderBy: [dir(id)],
    after([v, r, lastId]) {
      const beyond = (descending ? -1 : 1) * compareValues(constant, v);
      if (beyond !== 0) return beyond > 0 ? all : dialect.never;
      if (r === rank) return sql`${id} ${sql.raw(descending ? '<' : '>')} ${lastId}`;
      return (descending ? r > rank : r < rank) ? all : dialect.never;
    },
  };
}

function fileSortColumn(dialect: SqlDialect, key: SortKey, type: AssetType): SQL {
  switch (key) {
    case 'NAME':
      return sql`${fileVersions.name}`;
    case 'CREATED':
      return sql`${type === 'file-version' ? fileVersions.createdAt : fileVersions.fileCreatedAt}`;
    case 'UPDATED':
      return sql`${fileVersions.updatedAt}`;
    case 'SIZE':
      return sql`${fileVersions.size}`;
    case 'WIDTH':
      return dialect.ifNull(fileVersions.width, -1);
    case 'HEIGHT':
      return dialect.ifNull(fileVersions.height, -1);
  }
}

function folderSortColumn(key: SortKey): SQL | undefined {
  if (key === 'NAME') return sql`${folders.name}`;
  if (key === 'CREATED') return sql`${folders.createdAt}`;
  if (key === 'UPDATED') return sql`${folders.updatedAt}`;
  return undefined;
}

/** The keyset of file (or version) rows: rank 1, after folders on ties. */
export const fileKeyset = (dialect: SqlDialect, sort: { key: SortKey; direction: SortDirection }, type: AssetType) =>
  keyset(dialect, sort.key, 1, fileSortColumn(dialect, sort.key, type), fileVersions.id, sort.direction === 'DESC');

/** The keyset of folder rows: rank 0, before files on ties; folders have no size or dimensions, so those sort as -1. */
export function folderKeyset(dialect: SqlDialect, sort: { key: SortKey; direction: SortDirection }): Keyset {
  const value = folderSortColumn(sort.key);
  const descending = sort.direction === 'DESC';
  return value ? keyset(dialect, sort.key, 0, value, folders.id, descending) : constantKeyset(dialect, -1, 0, folders.id, descending);
}

/** Rows directly in `path`, or anywhere below it when recursive; `/a` below is `/a/...` (as bytes: `/a/` ≤ x < `/a0`). */
function inFolder(column: SQLiteColumn, directParent: SQLiteColumn, path: string | null, recursive: boolean): SQL | undefined {
  if (path === null) return undefined;
  if (!recursive) return eq(directParent, path);
  if (path === '/') return undefined;
  return or(eq(column, path), and(gte(column, `${path}/`), lt(column, `${path}0`)));
}

/**
 * How a sort value is read from the driver: instants through a timestamp column of the dialect's tables (a Date),
 * numbers as numbers (PostgreSQL returns `bigint` as text), names as they are.
 */
const sortDecoder = (key: SortKey, instant: Column) => (isInstantKey(key) ? instant : key === 'NAME' ? String : Number);

/** A row's sort value as cursors hold it: epoch ms for instants. */
const sortValueOf = (v: unknown): SortValue => (v instanceof Date ? v.getTime() : (v as SortValue));

/** What one listing query selects: the rows of a kind matching the filters, from `cursor` on. */
export interface ListingQuery {
  type: AssetType;
  /** A normalised folder; `null` lists everywhere. */
  path: string | null;
  recursive: boolean;
  fileType: 'all' | 'image' | 'non-image';
  sort: { key: SortKey; direction: SortDirection };
  search: SearchExpr | null;
  /** Live custom metadata fields, for `"customMetadata.<name>"` in the search. */
  fields: readonly CustomMetadataFieldRow[];
  now: Date;
  cursor: Position | null;
  limit: number;
}

/**
 * The media library's listing queries (files, versions, folders) with keyset paging, on the reader of either
 * dialect: the keysets and the search name columns in SQL text only, where either dialect's tables render the same;
 * rows are decoded by the dialect's own tables.
 */
export class AssetListingRepo {
  constructor(private readonly database: Pick<Transactor, 'reader' | 'tables' | 'dialect'>) {}

  /** Files (or versions) in the listing's order, with their positions. */
  async files(q: ListingQuery): Promise<{ position: Position; view: FileView }[]> {
    const { files, fileVersions } = this.database.tables;
    const keys = fileKeyset(this.database.dialect, q.sort, q.type);
    const rows = await this.database.reader
      .select({ file: files, version: fileVersions, value: sql<SortValue>`${keys.value}`.mapWith(sortDecoder(q.sort.key, fileVersions.createdAt)) })
      .from(fileVersions)
      .innerJoin(files, eq(files.id, fileVersions.fileId))
      .where(and(this.fileFilter(q), q.cursor ? keys.after(q.cursor) : undefined))
      .orderBy(...keys.orderBy)
      .limit(q.limit);
    return rows.map(({ file, version, value }) => ({ position: [sortValueOf(value), 1, version.id], view: { file, version } }));
  }

  /** Folders in the listing's order, with their positions. */
  async folders(q: ListingQuery): Promise<{ position: Position; folder: FolderRow }[]> {
    const { folders } = this.database.tables;
    const keys = folderKeyset(this.database.dialect, q.sort);
    const rows = await this.database.reader
      .select({ folder: folders, value: sql<SortValue>`${keys.value}`.mapWith(sortDecoder(q.sort.key, folders.createdAt)) })
      .from(folders)
      .where(and(this.folderFilter(q), q.cursor ? keys.after(q.cursor) : undefined))
      .orderBy(...keys.orderBy)
      .limit(q.limit);
    return rows.map(({ folder, value }) => ({ position: [sortValueOf(value), 0, folder.id], folder }));
  }

  /** Every file (or version) matching the filters, whatever the cursor: a scan of the matches. */
  async countFiles(q: ListingQuery): Promise<number> {
    const { fileVersions } = this.database.tables;
    return (await this.database.reader.select({ n: count() }).from(fileVersions).where(this.fileFilter(q)))[0]?.n ?? 0;
  }

  /** Every folder matching the filters. */
  async countFolders(q: ListingQuery): Promise<number> {
    const { folders } = this.database.tables;
    return (await this.database.reader.select({ n: count() }).from(folders).where(this.folderFilter(q)))[0]?.n ?? 0;
  }

  private fileFilter(q: ListingQuery): SQL | undefined {
    const { dialect } = this.database;
    const { fileVersions } = this.database.tables;
    const createdAt = q.type === 'file-version' ? fileVersions.createdAt : fileVersions.fileCreatedAt;
    return and(
      eq(fileVersions.isCurrent, q.type !== 'file-version'),
      inFolder(fileVersions.folderPath, fileVersions.folderPath, q.path, q.recursive),
      q.fileType === 'all' ? undefined : eq(fileVersions.fileType, q.fileType),
      q.search ? compileSearch(q.search, { dialect, target: 'files', fields: q.fields, now: q.now, createdAt }) : undefined,
    );
  }

  private folderFilter(q: ListingQuery): SQL | undefined {
    const { dialect } = this.database;
    const { folders } = this.database.tables;
    return and(
      inFolder(folders.folderPath, folders.parentPath, q.path, q.recursive),
      q.search ? compileSearch(q.search, { dialect, target: 'folders', fields: q.fields, now: q.now, createdAt: folders.createdAt }) : undefined,
    );
  }
}
