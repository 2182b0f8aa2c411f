import Database from 'better-sqlite3';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, MIGRATIONS_FOLDER, type SqliteDb } from '../../../src/db/client.js';
import { sqliteTables } from '../../../src/db/tables.js';
import type { SqlDialect } from '../../../src/db/dialect/dialect.js';
import { postgresDialect } from '../../../src/db/dialect/postgres.js';
import { sqliteDialect } from '../../../src/db/dialect/sqlite.js';
import * as schema from '../../../src/db/schema.js';
import { type AITag, type CustomFieldSchema, type CustomMetadataFieldRow, fileVersions, files, folders } from '../../../src/db/schema.js';
import { fileKeyset, folderKeyset, type Keyset } from '../../../src/db/repos/asset-listing-repo.js';
import { compileSearch } from '../../../src/db/search/compile-search.js';
import { type ListAssetsOptions, listAssets } from '../../../src/library/list-assets.js';
import type { Position, SortKey } from '../../../src/library/listing-order.js';
import { parseSearchQuery } from '../../../src/library/search/parse-search-query.js';
import { createScratchDatabase, pgLiteral, postgresUnavailable, type ScratchDatabase } from './psql.js';

// One fixture and one table of cases, run through the real compiler and listing on SQLite and on PostgreSQL.

const NOW = Date.parse('2026-03-01T00:00:00Z');
const H = 3600e3;
const D = 24 * H;

interface FileFixture {
  id: string;
  name: string;
  folder: string;
  image: boolean;
  format: string;
  width: number | null;
  height: number | null;
  size: number;
  tags: string[] | null;
  aiTags: Pick<AITag, 'name'>[] | null;
  customMetadata: Record<string, unknown> | null;
  embeddedMetadata: Record<string, unknown> | null;
  isPrivateFile: boolean;
  isPublished: boolean;
  hasTransparency: boolean | null;
  created: number;
  updated: number;
}

const FILES: FileFixture[] = [
  {
    id: 'v1', name: 'beach.jpg', folder: '/photos', image: true, format: 'jpg', width: 800, height: 600, size: 120_000,
    tags: ['summer', 'sea'], aiTags: [{ name: 'Beach' }, { name: 'Sky' }],
    customMetadata: { brand: 'Acme', price: 10, launch: '2026-01-15', featured: true, size: 'M', colours: ['red', 'blue'] },
    embeddedMetadata: { Make: 'Canon', ISO: 200, Keywords: ['sunset', 'sea'], Flash: false },
    isPrivateFile: false, isPublished: true, hasTransparency: false, created: NOW - 2 * D, updated: NOW - D,
  },
  {
    id: 'v2', name: 'beach-small.jpg', folder: '/photos/thumbs', image: true, format: 'jpg', width: 100, height: 50, size: 3000,
    tags: ['summer'], aiTags: null,
    customMetadata: { brand: 'Acme Pro', price: 99.5, launch: '2025-12-31T23:30:00-01:00' },
    embeddedMetadata: { Make: 'Nikon', ISO: 1600, Keywords: 'sunset' },
    isPrivateFile: false, isPublished: true, hasTransparency: false, created: NOW - 10 * D, updated: NOW - 10 * D,
  },
  {
    id: 'v3', name: 'Logo.png', folder: '/brand', image: true, format: 'png', width: 300, height: 300, size: 20_000,
    tags: ['logo'], aiTags: [{ name: 'Logo' }],
    customMetadata: { brand: 'Other', colours: ['green'], size: 'S', featured: false, launch: '2026-02-20T12:00:00Z' },
    embeddedMetadata: { Make: 'Adobe', Software: 'Photoshop 25%_off' },
    isPrivateFile: true, isPublished: true, hasTransparency: true, created: NOW - 40 * D, updated: NOW - 5 * H,
  },
  {
    id: 'v4', name: 'site.css', folder: '/assets', image: false, format: 'css', width: null, height: null, size: 6,
    tags: null, aiTags: null, customMetadata: null, embeddedMetadata: null,
    isPrivateFile: false, isPublished: true, hasTransparency: null, created: NOW - 400 * D, updated: NOW - 400 * D,
  },
  {
    id: 'v5', name: 'notes.txt', folder: '/assets', image: false, format: 'txt', width: null, height: null, size: 5000,
    tags: [], aiTags: [], customMetadata: { price: 0, size: 'L', brand: '50%_off' }, embeddedMetadata: {},
    isPrivateFile: false, isPublished: false, hasTransparency: null, created: NOW - 3 * H, updated: NOW - 3 * H,
  },
  {
    id: 'v6', name: 'ünïcode.webp', folder: '/', image: true, format: 'webp', width: 50, height: 2000, size: 1024 * 1024,
    tags: ['Summer'], aiTags: [{ name: 'summer' }],
    customMetadata: { brand: 'acme', price: -5, featured: true },
    embeddedMetadata: { ISO: 100, Make: 'Canon EOS', Keywords: ['beach'] },
    isPrivateFile: false, isPublished: true, hasTransparency: false, created: NOW - 20 * D, updated: NOW - 20 * D,
  },
];

const FOLDERS = [
  { id: 'd1', name: 'photos', folderPath: '/photos', parentPath: '/', created: NOW - 50 * D, updated: NOW - 2 * D },
  { id: 'd2', name: 'thumbs', folderPath: '/photos/thumbs', parentPath: '/photos', created: NOW - 10 * D, updated: NOW - 10 * D },
  { id: 'd3', name: 'Brand', folderPath: '/brand', parentPath: '/', created: NOW - 40 * D, updated: NOW - 40 * D },
  { id: 'd4', name: 'assets', folderPath: '/assets', parentPath: '/', created: NOW - 400 * D, updated: NOW - H },
];

const field = (name: string, fieldSchema: CustomFieldSchema): CustomMetadataFieldRow => ({
  id: `cf-${name}`, name, label: name, schema: fieldSchema, description: null, isDeleted: false, createdAt: new Date(NOW), updatedAt: new Date(NOW),
});
const FIELDS = [
  field('brand', { type: 'Text' }),
  field('price', { type: 'Number' }),
  field('launch', { type: 'Date' }),
  field('featured', { type: 'Boolean' }),
  field('size', { type: 'SingleSelect', selectOptions: ['S', 'M', 'L'] }),
  field('colours', { type: 'MultiSelect', selectOptions: ['red', 'green', 'blue'] }),
];

const ALL = FILES.map((f) => f.name);
const except = (...names: string[]) => ALL.filter((n) => !names.includes(n));

/** searchQuery → the fixture files it matches. */
const FILE_CASES: [string, string[]][] = [
  ['name = "beach.jpg"', ['beach.jpg']],
  ['name : "beach"', ['beach-small.jpg', 'beach.jpg']],
  ['name : "Beach"', []],
  ['name : "ünï"', ['ünïcode.webp']],
  ['name IN ["Logo.png", "site.css"]', ['Logo.png', 'site.css']],
  ['name NOT IN ["Logo.png", "site.css"]', except('Logo.png', 'site.css')],
  ['name NOT = "notes.txt"', except('notes.txt')],
  ['tags IN ["summer"]', ['beach-small.jpg', 'beach.jpg', 'ünïcode.webp']],
  ['tags = "Summer"', ['ünïcode.webp']],
  ['tags IN ["Sky", "logo"]', ['Logo.png', 'beach.jpg']],
  ['tags NOT IN ["summer", "logo"]', ['notes.txt', 'site.css']],
  ['tags NOT = "sea"', except('beach.jpg')],
  ['type = "non-image"', ['notes.txt', 'site.css']],
  ['type NOT = "image"', ['notes.txt', 'site.css']],
  ['format IN ["PNG", "css"]', ['Logo.png', 'site.css']],
  ['format = "JPG"', ['beach-small.jpg', 'beach.jpg']],
  ['format NOT IN ["jpg"]', ['Logo.png', 'notes.txt', 'site.css', 'ünïcode.webp']],
  ['size > "4kb" AND size < "1mb"', ['Logo.png', 'beach.jpg', 'notes.txt']],
  ['size >= "1MB"', ['ünïcode.webp']],
  ['size <= 6', ['site.css']],
  ['size IN [6, "5000b"]', ['notes.txt', 'site.css']],
  ['size NOT IN [6, 3000]', except('site.css', 'beach-small.jpg')],
  ['size NOT = "117.1875kb"', except('beach.jpg')],
  ['width > 200', ['Logo.png', 'beach.jpg']],
  ['height >= 600', ['beach.jpg', 'ünïcode.webp']],
  ['height < 100', ['beach-small.jpg']],
  ['width NOT IN [800, 300]', ['beach-small.jpg', 'notes.txt', 'site.css', 'ünïcode.webp']],
  // Numeric NOT = leaves out files without the value (unlike NOT IN).
  ['width NOT = 100', ['Logo.png', 'beach.jpg', 'ünïcode.webp']],
  ['private = true', ['Logo.png']],
  ['private NOT = true', except('Logo.png')],
  ['published = false', ['notes.txt']],
  ['transparency = false', except('Logo.png')],
  ['transparency NOT = false', ['Logo.png']],
  ['transparency = "true"', ['Logo.png']],
  ['createdAt > "7d"', ['beach.jpg', 'notes.txt']],
  ['createdAt < "1w"', ['Logo.png', 'beach-small.jpg', 'site.css', 'ünïcode.webp']],
  ['createdAt >= "1m"', ['beach-small.jpg', 'beach.jpg', 'notes.txt', 'ünïcode.webp']],
  ['createdAt < "1y"', ['site.css']],
  ['createdAt > "4h"', ['notes.txt']],
  ['updatedAt > "6h"', ['Logo.png', 'notes.txt']],
  ['createdAt = "2026-02-27"', ['beach.jpg']],
  ['updatedAt <= "2026-02-19T00:00:00Z"', ['beach-small.jpg', 'site.css', 'ünïcode.webp']],
  ['createdAt >= "2026-02-09T00:00:00+01:00"', ['beach-small.jpg', 'beach.jpg', 'notes.txt', 'ünïcode.webp']],
  ['"customMetadata.brand" = "Acme"', ['beach.jpg']],
  ['"customMetadata.brand" : "Acme"', ['beach-small.jpg', 'beach.jpg']],
  ['"customMetadata.brand" : "50%_"', ['notes.txt']],
  ['"customMetadata.brand" : "5_%"', []],
  ['"customMetadata.brand" IN ["acme", "Other"]', ['Logo.png', 'ünïcode.webp']],
  ['"customMetadata.brand" NOT IN ["Acme", "Other"]', ['beach-small.jpg', 'notes.txt', 'site.css', 'ünïcode.webp']],
  ['"customMetadata.brand" NOT = "Acme"', except('beach.jpg')],
  ['"customMetadata.price" >= 50', ['beach-small.jpg']],
  ['"customMetadata.price" < 10', ['notes.txt', 'ünïcode.webp']],
  ['"customMetadata.price" <= 10', ['beach.jpg', 'notes.txt', 'ünïcode.webp']],
  ['"customMetadata.price" IN [10, 99.5]', ['beach-small.jpg', 'beach.jpg']],
  ['"customMetadata.price" NOT IN [0]', except('notes.txt')],
  ['"customMetadata.price" NOT = 10', ['beach-small.jpg', 'notes.txt', 'ünïcode.webp']],
  ['"customMetadata.launch" > "2026-01-01"', ['Logo.png', 'beach-small.jpg', 'beach.jpg']],
  ['"customMetadata.launch" = "2026-01-01"', ['beach-small.jpg']],
  ['"customMetadata.launch" = "2026-01-15"', ['beach.jpg']],
  ['"customMetadata.launch" <= "2026-02-20T12:00:00Z"', ['Logo.png', 'beach-small.jpg', 'beach.jpg']],
  ['"customMetadata.launch" < "4w"', ['beach-small.jpg', 'beach.jpg']],
  ['"customMetadata.featured" = true', ['beach.jpg', 'ünïcode.webp']],
  ['"customMetadata.featured" = false', except('beach.jpg', 'ünïcode.webp')],
  ['"customMetadata.featured" NOT = true', except('beach.jpg', 'ünïcode.webp')],
  ['"customMetadata.size" = "M"', ['beach.jpg']],
  ['"customMetadata.size" IN ["S", "L"]', ['Logo.png', 'notes.txt']],
  ['"customMetadata.size" NOT = "M"', except('beach.jpg')],
  ['"customMetadata.size" NOT IN ["S"]', except('Logo.png')],
  ['"customMetadata.size" < "M"', ['notes.txt']],
  ['"customMetadata.size" >= "M"', ['Logo.png', 'beach.jpg']],
  ['"customMetadata.colours" IN ["blue", "green"]', ['Logo.png', 'beach.jpg']],
  ['"customMetadata.colours" NOT IN ["red"]', except('beach.jpg')],
  ['"embeddedMetadata.Make" = "Canon"', ['beach.jpg']],
  ['"embeddedMetadata.Make" : "Canon"', ['beach.jpg', 'ünïcode.webp']],
  ['"embeddedMetadata.Make" NOT = "Canon"', except('beach.jpg')],
  ['"embeddedMetadata.Make" IN ["Adobe", 1600]', ['Logo.png']],
  ['"embeddedMetadata.ISO" IN [100, "Canon"]', ['ünïcode.webp']],
  ['"embeddedMetadata.ISO" > 150', ['beach-small.jpg', 'beach.jpg']],
  ['"embeddedMetadata.ISO" <= 200', ['beach.jpg', 'ünïcode.webp']],
  ['"embeddedMetadata.ISO" = 1600', ['beach-small.jpg']],
  ['"embeddedMetadata.ISO" : "1"', ['beach-small.jpg', 'ünïcode.webp']],
  ['"embeddedMetadata.Keywords" IN ["sunset"]', ['beach-small.jpg', 'beach.jpg']],
  ['"embeddedMetadata.Keywords" IN ["beach", "sea"]', ['beach.jpg', 'ünïcode.webp']],
  ['"embeddedMetadata.Keywords" NOT IN ["sunset"]', except('beach.jpg', 'beach-small.jpg')],
  ['"embeddedMetadata.Flash" = false', ['beach.jpg']],
  ['"embeddedMetadata.Software" : "Photoshop 25%_"', ['Logo.png']],
  ['(tags IN ["sea"] OR tags IN ["logo"]) AND private = false', ['beach.jpg']],
  ['name : "beach" AND (size < "10kb" OR "customMetadata.featured" = true)', ['beach-small.jpg', 'beach.jpg']],
  ['format = "jpg" OR format = "webp" AND width < 100', ['beach-small.jpg', 'beach.jpg', 'ünïcode.webp']],
  ['(format = "jpg" OR format = "webp") AND width < 100', ['ünïcode.webp']],
];

/** searchQuery → the fixture folders it matches (folders have only a name and dates). */
const FOLDER_CASES: [string, string[]][] = [
  ['name : "ph"', ['photos']],
  ['name IN ["Brand", "thumbs"]', ['Brand', 'thumbs']],
  ['createdAt > "30d"', ['thumbs']],
  ['updatedAt >= "2026-02-27"', ['assets', 'photos']],
  ['size > 0', []],
  ['name = "photos" OR tags IN ["x"]', ['photos']],
];

const compile = (dialect: SqlDialect, target: 'files' | 'folders', query: string) =>
  compileSearch(parseSearchQuery(query), { dialect, target, fields: FIELDS, now: new Date(NOW), createdAt: target === 'files' ? fileVersions.fileCreatedAt : folders.createdAt });

const SORT_KEYS: SortKey[] = ['NAME', 'CREATED', 'UPDATED', 'SIZE', 'WIDTH', 'HEIGHT'];
const SORTS = SORT_KEYS.flatMap((key) => (['ASC', 'DESC'] as const).map((direction) => ({ key, direction })));
type Sort = (typeof SORTS)[number];

/** Every fixture row's position in `sort`, in order: what the keyset paging must reproduce. */
function expectedOrder(sort: Sort): Position[] {
  const fileValue = (f: FileFixture) =>
    ({ NAME: f.name, CREATED: f.created, UPDATED: f.updated, SIZE: f.size, WIDTH: f.width ?? -1, HEIGHT: f.height ?? -1 })[sort.key];
  const folderValue = (d: (typeof FOLDERS)[number]) => ({ NAME: d.name, CREATED: d.created, UPDATED: d.updated, SIZE: -1, WIDTH: -1, HEIGHT: -1 })[sort.key];
  const positions: Position[] = [...FILES.map((f): Position => [fileValue(f), 1, f.id]), ...FOLDERS.map((d): Position => [folderValue(d), 0, d.id])];
  return positions.sort((a, b) => (sort.direction === 'DESC' ? -1 : 1) * comparePositions(a, b));
}

function comparePositions(a: Position, b: Position): number {
  const bytes = (x: string | number, y: string | number) => (typeof x === 'number' && typeof y === 'number' ? x - y : Buffer.compare(Buffer.from(String(x)), Buffer.from(String(y))));
  return bytes(a[0], b[0]) || a[1] - b[1] || bytes(a[2], b[2]);
}

/** For each sort and each cursor (none, then every row), the ids after it: files and folders separately. */
const KEYSET_CASES = SORTS.flatMap((sort) => {
  const order = expectedOrder(sort);
  return [null, ...order].map((cursor) => {
    const rest = cursor ? order.slice(order.indexOf(cursor) + 1) : order;
    return { sort, cursor, files: rest.filter((p) => p[1] === 1).map((p) => p[2]), folders: rest.filter((p) => p[1] === 0).map((p) => p[2]) };
  });
});

const keysetQuery = (keys: Keyset, table: typeof fileVersions | typeof folders, cursor: Position | null): SQL =>
  sql`SELECT ${table.id} FROM ${table} WHERE ${cursor ? keys.after(cursor) : sql`1 = 1`} ORDER BY ${sql.join(keys.orderBy, sql`, `)}`;

function seedSqlite(): { db: SqliteDb; sqlite: Database.Database } {
  const sqlite = new Database(':memory:');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  for (const f of FILES) {
    const fileId = `f${f.id.slice(1)}`;
    const filePath = `${f.folder === '/' ? '' : f.folder}/${f.name}`;
    db.insert(files).values({ id: fileId, filePath, folderPath: f.folder, name: f.name, currentVersionId: f.id, versionCounter: 1, createdAt: new Date(f.created), updatedAt: new Date(f.updated) }).run();
    db.insert(fileVersions)
      .values({
        id: f.id, fileId, number: 1, isCurrent: true, folderPath: f.folder, name: f.name, fileCreatedAt: new Date(f.created), blobKey: f.id, size: f.size,
        mime: 'application/octet-stream', format: f.format, hasTransparency: f.hasTransparency, fileType: f.image ? 'image' : 'non-image',
        width: f.width, height: f.height, tags: f.tags, aiTags: f.aiTags?.map((t) => ({ ...t, confidence: 90, source: 'test' })) ?? null,
        customMetadata: f.customMetadata, embeddedMetadata: f.embeddedMetadata, isPrivateFile: f.isPrivateFile, isPublished: f.isPublished,
        createdAt: new Date(f.created), updatedAt: new Date(f.updated),
      })
      .run();
  }
  for (const d of FOLDERS) db.insert(folders).values({ id: d.id, name: d.name, folderPath: d.folderPath, parentPath: d.parentPath, createdAt: new Date(d.created), updatedAt: new Date(d.updated) }).run();
  return { db, sqlite };
}

/** The same rows in tables shaped as `postgresDialect` assumes: jsonb, timestamptz, boolean, byte-ordered text. */
function postgresFixture(): string {
  const text = 'text COLLATE "C"';
  const rows = FILES.map((f) =>
    [
      pgLiteral(f.id), 'true', pgLiteral(f.folder), pgLiteral(f.name), pgLiteral(f.created, 'timestamptz'), pgLiteral(f.size), pgLiteral(f.format),
      pgLiteral(f.hasTransparency), pgLiteral(f.image ? 'image' : 'non-image'), pgLiteral(f.width), pgLiteral(f.height), pgLiteral(f.tags, 'jsonb'),
      pgLiteral(f.aiTags?.map((t) => ({ ...t, confidence: 90, source: 'test' })), 'jsonb'), pgLiteral(f.customMetadata, 'jsonb'),
      pgLiteral(f.embeddedMetadata, 'jsonb'), pgLiteral(f.isPrivateFile), pgLiteral(f.isPublished), pgLiteral(f.created, 'timestamptz'), pgLiteral(f.updated, 'timestamptz'),
    ].join(', '),
  );
  const folderRows = FOLDERS.map((d) =>
    [pgLiteral(d.id), pgLiteral(d.folderPath), pgLiteral(d.name), pgLiteral(d.parentPath), pgLiteral(d.created, 'timestamptz'), pgLiteral(d.updated, 'timestamptz')].join(', '),
  );
  return `
CREATE TABLE file_versions (
  id ${text} PRIMARY KEY, is_current boolean NOT NULL, folder_path ${text} NOT NULL, name ${text} NOT NULL,
  file_created_at timestamptz NOT NULL, size bigint NOT NULL, format ${text}, has_transparency boolean, file_type ${text} NOT NULL,
  width integer, height integer, tags jsonb, ai_tags jsonb, custom_metadata jsonb, embedded_metadata jsonb,
  is_private_file boolean NOT NULL, is_published boolean NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE INDEX file_versions_current_name_idx ON file_versions (is_current, name, id);
CREATE INDEX file_versions_current_file_created_at_idx ON file_versions (is_current, file_created_at, id);
CREATE INDEX file_versions_current_updated_at_idx ON file_versions (is_current, updated_at, id);
CREATE INDEX file_versions_current_size_idx ON file_versions (is_current, size, id);
CREATE INDEX file_versions_current_width_idx ON file_versions (is_current, coalesce(width, -1), id);
CREATE INDEX file_versions_current_height_idx ON file_versions (is_current, coalesce(height, -1), id);
CREATE TABLE folders (
  id ${text} PRIMARY KEY, folder_path ${text} NOT NULL, name ${text} NOT NULL, parent_path ${text} NOT NULL,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
INSERT INTO file_versions VALUES ${rows.map((r) => `(${r})`).join(',\n')};
INSERT INTO folders VALUES ${folderRows.map((r) => `(${r})`).join(',\n')};
ANALYZE;
`;
}

const sorted = (names: string[]) => [...names].sort();
const LISTING = { path: null, recursive: true, fileType: 'all', after: null } as const;

/** What `listAssets` runs on, over a SQLite handle. */
const listingOn = (db: SqliteDb) => ({ reader: db as unknown as Db, tables: sqliteTables, dialect: sqliteDialect });

describe('search and listing on SQLite', () => {
  let db: SqliteDb;
  let sqlite: Database.Database;
  beforeAll(() => {
    ({ db, sqlite } = seedSqlite());
  });

  it.each(FILE_CASES)('files: %s', async (query, expected) => {
    const compiled = db.select({ name: fileVersions.name }).from(fileVersions).where(compile(sqliteDialect, 'files', query)).all();
    expect(sorted(compiled.map((r) => r.name))).toEqual(sorted(expected));
    const page = await listAssets(listingOn(db), FIELDS, { ...LISTING, type: 'file', sort: { key: 'NAME', direction: 'ASC' }, searchQuery: query, first: 100 }, new Date(NOW));
    expect(sorted(page.edges.map((e) => (e.node.kind === 'file' ? e.node.view.version.name : '')))).toEqual(sorted(expected));
    expect(await page.totalCount()).toBe(expected.length);
  });

  it.each(FOLDER_CASES)('folders: %s', async (query, expected) => {
    const page = await listAssets(listingOn(db), FIELDS, { ...LISTING, type: 'folder', sort: { key: 'NAME', direction: 'ASC' }, searchQuery: query, first: 100 }, new Date(NOW));
    expect(sorted(page.edges.map((e) => (e.node.kind === 'folder' ? e.node.folder.name : '')))).toEqual(sorted(expected));
  });

  it('resumes after every cursor of every sort, files and folders alike', () => {
    for (const c of KEYSET_CASES) {
      const fileRows = db.all<{ id: string }>(keysetQuery(fileKeyset(sqliteDialect, c.sort, 'file'), fileVersions, c.cursor));
      const folderRows = db.all<{ id: string }>(keysetQuery(folderKeyset(sqliteDialect, c.sort), folders, c.cursor));
      expect({ files: fileRows.map((r) => r.id), folders: folderRows.map((r) => r.id) }, `${c.sort.direction} ${c.sort.key} after ${JSON.stringify(c.cursor)}`).toEqual({ files: c.files, folders: c.folders });
    }
  });

  it.each(SORTS)('pages files and folders together, two at a time: $direction $key', async (sort) => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const page = await listAssets(listingOn(db), FIELDS, { ...LISTING, type: 'all', sort, searchQuery: null, first: 2, after } as ListAssetsOptions, new Date(NOW));
      seen.push(...page.edges.map((e) => (e.node.kind === 'file' ? e.node.view.version.id : e.node.folder.id)));
      if (!page.hasNextPage) break;
      after = page.edges.at(-1)?.cursor ?? null;
    }
    expect(seen).toEqual(expectedOrder(sort).map((p) => p[2]));
  });

  it('refuses a cursor from another sort', async () => {
    const byName = await listAssets(listingOn(db), FIELDS, { ...LISTING, type: 'file', sort: { key: 'NAME', direction: 'ASC' }, searchQuery: null, first: 1 });
    const cursor = byName.edges[0]?.cursor ?? '';
    await expect(listAssets(listingOn(db), FIELDS, { ...LISTING, type: 'file', sort: { key: 'CREATED', direction: 'ASC' }, searchQuery: null, first: 1, after: cursor })).rejects.toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', parameter: 'after' }),
    );
  });

  it.each([
    ['NAME', 'file_versions_current_name_idx'],
    ['CREATED', 'file_versions_current_file_created_at_idx'],
    ['UPDATED', 'file_versions_current_updated_at_idx'],
    ['SIZE', 'file_versions_current_size_idx'],
    ['WIDTH', 'file_versions_current_width_idx'],
    ['HEIGHT', 'file_versions_current_height_idx'],
  ] as const)('walks the %s index from the cursor instead of sorting', async (key, index) => {
    const queries: { sql: string; params: unknown[] }[] = [];
    const logged = drizzle(sqlite, { schema, logger: { logQuery: (q, params) => queries.push({ sql: q, params }) } });
    const first = await listAssets(listingOn(logged), FIELDS, { ...LISTING, type: 'file', sort: { key, direction: 'DESC' }, searchQuery: null, first: 2 });
    await listAssets(listingOn(logged), FIELDS, { ...LISTING, type: 'file', sort: { key, direction: 'DESC' }, searchQuery: null, first: 2, after: first.edges.at(-1)?.cursor ?? null });
    const paged = queries.at(-1) as { sql: string; params: unknown[] };
    const plan = sqlite.prepare(`EXPLAIN QUERY PLAN ${paged.sql}`).all(...(paged.params as never[])) as { detail: string }[];
    const details = plan.map((p) => p.detail).join('\n');
    expect(details).toContain(index);
    expect(details).not.toMatch(/TEMP B-TREE/);
  });
});

const unavailable = postgresUnavailable();

describe.skipIf(unavailable !== undefined)(`search and listing on PostgreSQL${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let pg: ScratchDatabase;
  let fileResults: ReturnType<ScratchDatabase['query']>;
  let folderResults: ReturnType<ScratchDatabase['query']>;

  beforeAll(() => {
    pg = createScratchDatabase();
    pg.exec(postgresFixture());
    // Dates without an offset are UTC whatever the session's time zone.
    const settings = "SET TimeZone = 'Pacific/Auckland';";
    fileResults = pg.query(FILE_CASES.map(([q]) => sql`SELECT ${fileVersions.name} FROM ${fileVersions} WHERE ${compile(postgresDialect, 'files', q)}`), { settings });
    folderResults = pg.query(FOLDER_CASES.map(([q]) => sql`SELECT ${folders.name} FROM ${folders} WHERE ${compile(postgresDialect, 'folders', q)}`), { settings });
  });
  afterAll(() => pg?.drop());

  const rowsOf = (result: ReturnType<ScratchDatabase['query']>[number] | undefined) => {
    if (!result || 'error' in result) throw new Error(result?.error ?? 'no result');
    return result.rows;
  };

  it.each(FILE_CASES.map((c, i) => [...c, i] as const))('files: %s', (_query, expected, i) => {
    expect(sorted(rowsOf(fileResults[i]))).toEqual(sorted(expected));
  });

  it.each(FOLDER_CASES.map((c, i) => [...c, i] as const))('folders: %s', (_query, expected, i) => {
    expect(sorted(rowsOf(folderResults[i]))).toEqual(sorted(expected));
  });

  it('resumes after every cursor of every sort, files and folders alike', () => {
    const fileRows = pg.query(KEYSET_CASES.map((c) => keysetQuery(fileKeyset(postgresDialect, c.sort, 'file'), fileVersions, c.cursor)));
    const folderRows = pg.query(KEYSET_CASES.map((c) => keysetQuery(folderKeyset(postgresDialect, c.sort), folders, c.cursor)));
    KEYSET_CASES.forEach((c, i) => {
      expect({ files: rowsOf(fileRows[i]), folders: rowsOf(folderRows[i]) }, `${c.sort.direction} ${c.sort.key} after ${JSON.stringify(c.cursor)}`).toEqual({ files: c.files, folders: c.folders });
    });
  });

  it('walks the expression indexes of every sort from the cursor instead of sorting', () => {
    const cases = SORTS.map((sort) => {
      const keys = fileKeyset(postgresDialect, sort, 'file');
      const cursor = expectedOrder(sort).find((p) => p[1] === 1) as Position;
      return sql`SELECT ${fileVersions.id} FROM ${fileVersions} WHERE ${fileVersions.isCurrent} AND ${keys.after(cursor)} ORDER BY ${sql.join(keys.orderBy, sql`, `)} LIMIT 3`;
    });
    const plans = pg.query(cases, { explain: true, settings: 'SET enable_seqscan = off; SET enable_sort = off;' });
    plans.forEach((plan, i) => {
      const text = rowsOf(plan).join('\n');
      expect(text, `${SORTS[i]?.direction} ${SORTS[i]?.key}:\n${text}`).toMatch(/Index (Only )?Scan/);
      expect(text, `${SORTS[i]?.direction} ${SORTS[i]?.key}:\n${text}`).not.toMatch(/Sort/);
    });
  });
});
