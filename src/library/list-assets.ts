import { and, asc, count, desc, eq, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db } from '../db/client.js';
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
  totalCount: () => number;
}

type SortValue = string | number;
/** Where a row sits in the order: its sort value, its kind (folders before files on ties), its id. */
type Position = [SortValue, 0 | 1, string];

const encodeCursor = (p: Position) => Buffer.from(JSON.stringify(p)).toString('base64url');

function decodeCursor(cursor: string): Position {
  try {
    const p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(p) && p.length === 3 && (typeof p[0] === 'string' || typeof p[0] === 'number') && (p[1] === 0 || p[1] === 1) && typeof p[2] === 'string') {
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

/**
 * The keyset condition "after `cursor`" for rows of one kind, whose order is (value, rank, id). Written as a
 * row-value comparison so SQLite seeks the sort index straight to the cursor instead of scanning up to it.
 */
function afterCursor(cursor: Position, rank: 0 | 1, value: SQL, id: SQLiteColumn, descending: boolean): SQL {
  const [v, r, lastId] = cursor;
  const op = sql.raw(descending ? '<' : '>');
  if (r === rank) return sql`(${value}, ${id}) ${op} (${v}, ${lastId})`;
  const rankBeyond = descending ? r > rank : r < rank;
  return rankBeyond ? sql`${value} ${sql.raw(descending ? '<=' : '>=')} ${v}` : sql`${value} ${op} ${v}`;
}

function fileSortColumn(key: SortKey, type: AssetType): SQL {
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
      return sql`ifnull(${fileVersions.width}, -1)`;
    case 'HEIGHT':
      return sql`ifnull(${fileVersions.height}, -1)`;
  }
}

function folderSortColumn(key: SortKey): SQL {
  if (key === 'NAME') return sql`${folders.name}`;
  if (key === 'CREATED') return sql`${folders.createdAt}`;
  if (key === 'UPDATED') return sql`${folders.updatedAt}`;
  return sql`-1`;
}

/** Rows directly in `path`, or anywhere below it when recursive; `/a` below is `/a/...` (as bytes: `/a/` ≤ x < `/a0`). */
function inFolder(column: SQLiteColumn, directParent: SQLiteColumn, path: string | null, recursive: boolean): SQL | undefined {
  if (path === null) return undefined;
  if (!recursive) return eq(directParent, path);
  if (path === '/') return undefined;
  return or(eq(column, path), and(gte(column, `${path}/`), lt(column, `${path}0`)));
}

const toMs = (v: unknown) => (v instanceof Date ? v.getTime() : (v as SortValue));

/**
 * One page of files, versions and/or folders, in a stable order, with keyset cursors: a page costs the same at
 * any depth, and rows added while paging never shift the pages already read (no duplicates, no gaps).
 * @throws BAD_REQUEST for a malformed searchQuery or cursor.
 */
export function listAssets(db: Db, fields: readonly CustomMetadataFieldRow[], options: ListAssetsOptions, now = new Date()): AssetPage {
  const search = options.searchQuery?.trim() ? parseSearchQuery(options.searchQuery) : null;
  const cursor = options.after ? decodeCursor(options.after) : null;
  const descending = options.sort.direction === 'DESC';
  const dir = descending ? desc : asc;
  const wantFiles = options.type !== 'folder';
  const wantFolders = options.type === 'folder' || options.type === 'all';

  const fileValue = fileSortColumn(options.sort.key, options.type);
  const fileFilter = and(
    eq(fileVersions.isCurrent, options.type !== 'file-version'),
    inFolder(fileVersions.folderPath, fileVersions.folderPath, options.path, options.recursive),
    options.fileType === 'all' ? undefined : eq(fileVersions.fileType, options.fileType),
    search ? compileSearch(search, { target: 'files', fields, now, createdAt: options.type === 'file-version' ? fileVersions.createdAt : fileVersions.fileCreatedAt }) : undefined,
  );
  const folderValue = folderSortColumn(options.sort.key);
  const folderFilter = and(
    inFolder(folders.folderPath, folders.parentPath, options.path, options.recursive),
    search ? compileSearch(search, { target: 'folders', fields, now, createdAt: folders.createdAt }) : undefined,
  );

  const positioned: { position: Position; node: Asset }[] = [];
  if (wantFiles) {
    const rows = db
      .select({ file: files, version: fileVersions, value: sql<SortValue>`${fileValue}` })
      .from(fileVersions)
      .innerJoin(files, eq(files.id, fileVersions.fileId))
      .where(and(fileFilter, cursor ? afterCursor(cursor, 1, fileValue, fileVersions.id, descending) : undefined))
      .orderBy(dir(fileValue), dir(fileVersions.id))
      .limit(options.first + 1)
      .all();
    for (const { file, version, value } of rows) positioned.push({ position: [toMs(value), 1, version.id], node: { kind: 'file', view: { file, version } } });
  }
  if (wantFolders) {
    const rows = db
      .select({ folder: folders, value: sql<SortValue>`${folderValue}` })
      .from(folders)
      .where(and(folderFilter, cursor ? afterCursor(cursor, 0, folderValue, folders.id, descending) : undefined))
      .orderBy(dir(folderValue), dir(folders.id))
      .limit(options.first + 1)
      .all();
    for (const { folder, value } of rows) positioned.push({ position: [toMs(value), 0, folder.id], node: { kind: 'folder', folder } });
  }
  positioned.sort((a, b) => (descending ? -1 : 1) * comparePositions(a.position, b.position));
  const page = positioned.slice(0, options.first);

  return {
    edges: page.map(({ node, position }) => ({ node, cursor: encodeCursor(position) })),
    hasNextPage: positioned.length > options.first,
    totalCount: () =>
      (wantFiles ? (db.select({ n: count() }).from(fileVersions).where(fileFilter).get()?.n ?? 0) : 0) +
      (wantFolders ? (db.select({ n: count() }).from(folders).where(folderFilter).get()?.n ?? 0) : 0),
  };
}
