import { and, asc, count, desc, eq, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { SqlDialect } from '../db/dialect/dialect.js';
import type { Transactor } from '../db/transactor.js';
import type { FileView } from '../db/repos/file-repo.js';
import { type CustomMetadataFieldRow, type FolderRow, fileVersions, files, folders } from '../db/schema.js';
import { badRequest } from '../errors.js';
import { compileSearch } from './search/compile-search.js';
import { parseSearchQuery } from './search/parse-search-query.js';

export type AssetType = 'file' | 'file-version' | 'folder' | 'all';
export type SortKey = 'NAME' | 'CREATED' | 'UPDATED' | 'HEIGHT' | 'WIDTH' | 'SIZE';

export interface ListAssetsOptions {
  /** A normalised folder; `null` lists everywhere. */
  path: string | null;
  recursive: boolean;
  fileType: 'all' | 'image' | 'non-image';
  type: AssetType;
  sort: { key: SortKey; direction: 'ASC' | 'DESC' };
  searchQuery: string | null;
  first: number;
  after: string | null;
}

export type Asset = { kind: 'file'; view: FileView } | { kind: 'folder'; folder: FolderRow };

export interface AssetPage {
  edges: { node: Asset; cursor: string }[];
  hasNextPage: boolean;
  /** Counts every match (not only this page); costs a scan, so only run when asked. */
  totalCount: () => Promise<number>;
}

type SortValue = string | number;
/** Where a row sits in the order: its sort value (epoch ms for dates), its kind (folders before files on ties), its id. */
export type Position = [SortValue, 0 | 1, string];

const encodeCursor = (p: Position) => Buffer.from(JSON.stringify(p)).toString('base64url');

const isInstantKey = (key: SortKey) => key === 'CREATED' || key === 'UPDATED';
const MAX_EPOCH_MS = 8.64e15;

/** Whether `v` can be a sort value of `key`, so a forged cursor never reaches the database as a bad cast. */
function fitsKey(v: unknown, key: SortKey): boolean {
  if (key === 'NAME') return typeof v === 'string';
  if (isInstantKey(key)) return Number.isInteger(v) && Math.abs(v as number) <= MAX_EPOCH_MS;
  return typeof v === 'number';
}

function decodeCursor(cursor: string, key: SortKey): Position {
  try {
    const p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(p) && p.length === 3 && fitsKey(p[0], key) && (p[1] === 0 || p[1] === 1) && typeof p[2] === 'string') {
      return p as Position;
    }
  } catch {}
  throw badRequest('after', 'Your request contains an invalid cursor in the after parameter; use an endCursor or edge cursor from a previous page.');
}

/** SQLite orders text by bytes (BINARY); compare the same way when merging folders and files. */
function compareValues(a: SortValue, b: SortValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

const comparePositions = (a: Position, b: Position) => compareValues(a[0], b[0]) || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);

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
export const fileKeyset = (dialect: SqlDialect, sort: ListAssetsOptions['sort'], type: AssetType) =>
  keyset(dialect, sort.key, 1, fileSortColumn(dialect, sort.key, type), fileVersions.id, sort.direction === 'DESC');

/** The keyset of folder rows: rank 0, before files on ties; folders have no size or dimensions, so those sort as -1. */
export function folderKeyset(dialect: SqlDialect, sort: ListAssetsOptions['sort']): Keyset {
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
 * A row's sort value as cursors hold it: epoch ms for instants (SQLite stores numbers, PostgreSQL returns Dates),
 * a number for sizes (PostgreSQL returns `bigint` as text), the name as it is.
 */
const sortValueOf = (key: SortKey, v: unknown): SortValue => {
  if (v instanceof Date) return v.getTime();
  return key !== 'NAME' && typeof v === 'string' ? Number(v) : (v as SortValue);
};

/**
 * One page of files, versions and/or folders, in a stable order, with keyset cursors: a page costs the same at
 * any depth, and rows added while paging never shift the pages already read (no duplicates, no gaps).
 * Runs on `database`'s reader, with its tables (which decode its rows) and the SQL of its dialect.
 * @throws BAD_REQUEST for a malformed searchQuery or cursor (or a cursor of another sort).
 */
export async function listAssets(
  database: Pick<Transactor, 'reader' | 'tables' | 'dialect'>,
  fields: readonly CustomMetadataFieldRow[],
  options: ListAssetsOptions,
  now = new Date(),
): Promise<AssetPage> {
  const { reader: db, dialect } = database;
  // The keysets and the search name columns in SQL text only, where either dialect's tables render the same.
  const { files, fileVersions, folders } = database.tables;
  const search = options.searchQuery?.trim() ? parseSearchQuery(options.searchQuery) : null;
  const cursor = options.after ? decodeCursor(options.after, options.sort.key) : null;
  const descending = options.sort.direction === 'DESC';
  const wantFiles = options.type !== 'folder';
  const wantFolders = options.type === 'folder' || options.type === 'all';

  const fileKeys = fileKeyset(dialect, options.sort, options.type);
  const fileFilter = and(
    eq(fileVersions.isCurrent, options.type !== 'file-version'),
    inFolder(fileVersions.folderPath, fileVersions.folderPath, options.path, options.recursive),
    options.fileType === 'all' ? undefined : eq(fileVersions.fileType, options.fileType),
    search ? compileSearch(search, { dialect, target: 'files', fields, now, createdAt: options.type === 'file-version' ? fileVersions.createdAt : fileVersions.fileCreatedAt }) : undefined,
  );
  const folderKeys = folderKeyset(dialect, options.sort);
  const folderFilter = and(
    inFolder(folders.folderPath, folders.parentPath, options.path, options.recursive),
    search ? compileSearch(search, { dialect, target: 'folders', fields, now, createdAt: folders.createdAt }) : undefined,
  );

  const positioned: { position: Position; node: Asset }[] = [];
  if (wantFiles) {
    const rows = await db
      .select({ file: files, version: fileVersions, value: sql<SortValue>`${fileKeys.value}` })
      .from(fileVersions)
      .innerJoin(files, eq(files.id, fileVersions.fileId))
      .where(and(fileFilter, cursor ? fileKeys.after(cursor) : undefined))
      .orderBy(...fileKeys.orderBy)
      .limit(options.first + 1);
    for (const { file, version, value } of rows) positioned.push({ position: [sortValueOf(options.sort.key, value), 1, version.id], node: { kind: 'file', view: { file, version } } });
  }
  if (wantFolders) {
    const rows = await db
      .select({ folder: folders, value: sql<SortValue>`${folderKeys.value}` })
      .from(folders)
      .where(and(folderFilter, cursor ? folderKeys.after(cursor) : undefined))
      .orderBy(...folderKeys.orderBy)
      .limit(options.first + 1);
    for (const { folder, value } of rows) positioned.push({ position: [sortValueOf(options.sort.key, value), 0, folder.id], node: { kind: 'folder', folder } });
  }
  positioned.sort((a, b) => (descending ? -1 : 1) * comparePositions(a.position, b.position));
  const page = positioned.slice(0, options.first);

  return {
    edges: page.map(({ node, position }) => ({ node, cursor: encodeCursor(position) })),
    hasNextPage: positioned.length > options.first,
    totalCount: async () => {
      const countOf = async (rows: Promise<{ n: number }[]>) => (await rows)[0]?.n ?? 0;
      const fileCount = wantFiles ? countOf(db.select({ n: count() }).from(fileVersions).where(fileFilter)) : 0;
      const folderCount = wantFolders ? countOf(db.select({ n: count() }).from(folders).where(folderFilter)) : 0;
      return (await fileCount) + (await folderCount);
    },
  };
}
