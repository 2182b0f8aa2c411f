import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { eq, getTableName, is } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, PG_MIGRATIONS_FOLDER, type PgDb } from '../../src/db/pg/client.js';
import * as pgSchema from '../../src/db/pg/schema.js';
import * as sqliteSchema from '../../src/db/schema.js';

/** The maintenance database of the PostgreSQL every machine runs (trust auth); each run makes its own databases. */
const SERVER = 'postgres://postgres@127.0.0.1:5432';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: `${SERVER}/test`, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const pgTables = (Object.values(pgSchema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));
const sqliteTables = (Object.values(sqliteSchema) as unknown[]).filter((v): v is SQLiteTable => is(v, SQLiteTable));

describe('the PostgreSQL schema mirrors the SQLite one', () => {
  it('has every table, column, key, foreign key (with its cascade) and index of src/db/schema.ts', () => {
    const shape = (config: ReturnType<typeof sqliteTableConfig> | ReturnType<typeof pgTableConfig>) => ({
      name: config.name,
      columns: config.columns.map((c) => ({ name: c.name, notNull: c.notNull, primary: c.primary, hasDefault: c.hasDefault })).sort((a, b) => a.name.localeCompare(b.name)),
      indexes: config.indexes.map((i) => ({ name: i.config.name ?? '', unique: i.config.unique, width: i.config.columns.length })).sort((a, b) => a.name.localeCompare(b.name)),
      foreignKeys: config.foreignKeys.map((fk) => {
        const ref = fk.reference();
        return { columns: ref.columns.map((c) => c.name), to: ref.foreignColumns.map((c) => `${getTableName(c.table)}.${c.name}`), onDelete: fk.onDelete };
      }),
    });
    const expected = sqliteTables.map((t) => shape(sqliteTableConfig(t))).sort((a, b) => a.name.localeCompare(b.name));
    const actual = pgTables.map((t) => shape(pgTableConfig(t))).sort((a, b) => a.name.localeCompare(b.name));
    expect(expected.length).toBeGreaterThan(5);
    expect(actual).toEqual(expected);
  });
});

describe('PostgreSQL migrations', () => {
  it('name no schema, so they create the tables in STOWAGE_DATABASE_SCHEMA (drizzle-kit writes "public". into foreign keys)', () => {
    for (const file of fs.readdirSync(PG_MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql'))) {
      expect(fs.readFileSync(path.join(PG_MIGRATIONS_FOLDER, file), 'utf8'), file).not.toMatch(/"public"\./);
    }
  });
});

describe('STOWAGE_DATABASE_URL', () => {
  it('stops the server with one line naming the unreachable server, never its password, before it listens', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-pg-unreachable-'));
    const env = { ...process.env, STOWAGE_DATABASE_URL: 'postgres://stowage:s3cret@127.0.0.1:1/stowage', STOWAGE_DATA_DIR: dataDir, STOWAGE_PRIVATE_KEY: 'k' };
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env });
    const failure = (await run.then(() => undefined, (e: unknown) => e)) as { code: number; stderr: string } | undefined;
    fs.rmSync(dataDir, { recursive: true, force: true });
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/^Cannot reach PostgreSQL at postgres:\/\/stowage@127\.0\.0\.1:1\/stowage: \S.*\n$/);
    expect(failure?.stderr).not.toContain('s3cret');
  });
});

const online = await reachable();

describe.skipIf(!online)(`openPostgres on a fresh database${online ? '' : ' (skipped: no PostgreSQL reachable at 127.0.0.1:5432)'}`, () => {
  const admin = new pg.Pool({ connectionString: `${SERVER}/test`, max: 1 });
  const prefix = `stowage_schema_${process.pid}_${Date.now()}`;
  const created: string[] = [];
  const closers: (() => Promise<void>)[] = [];

  /** A new, empty database of this run, dropped after the tests. */
  async function freshDatabase(): Promise<string> {
    const name = `${prefix}_${created.length}`;
    await admin.query(`CREATE DATABASE "${name}"`);
    created.push(name);
    return `${SERVER}/${name}`;
  }

  async function open(url: string, options?: Parameters<typeof openPostgres>[1]): Promise<PgDb> {
    const { db, close } = await openPostgres(url, options);
    closers.push(close);
    return db;
  }

  let url: string;
  let db: PgDb;
  let catalog: pg.Pool;

  beforeAll(async () => {
    url = await freshDatabase();
    db = await open(url);
    catalog = new pg.Pool({ connectionString: url, max: 1 });
    closers.push(() => catalog.end());
  });

  afterAll(async () => {
    for (const close of closers) await close().catch(() => {});
    for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('creates every table with its columns, in the types the PostgreSQL search SQL expects', async () => {
    const { rows } = await catalog.query<{ table_name: string; column_name: string; data_type: string; collation_name: string | null }>(
      `SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const columnsOf = (table: string) => rows.filter((r) => r.table_name === table).map((r) => r.column_name).sort();
    for (const table of pgTables) {
      const config = pgTableConfig(table);
      expect(columnsOf(config.name), config.name).toEqual(config.columns.map((c) => c.name).sort());
    }
    const type = (table: string, column: string) => rows.find((r) => r.table_name === table && r.column_name === column);
    for (const column of ['tags', 'ai_tags', 'custom_metadata', 'embedded_metadata']) expect(type('file_versions', column)?.data_type).toBe('jsonb');
    for (const column of ['created_at', 'updated_at', 'file_created_at']) expect(type('file_versions', column)?.data_type).toBe('timestamp with time zone');
    for (const column of ['is_private_file', 'is_published', 'has_transparency', 'is_current']) expect(type('file_versions', column)?.data_type).toBe('boolean');
    for (const column of ['id', 'name', 'folder_path']) expect(type('file_versions', column)?.collation_name).toBe('C');
    expect(type('folders', 'parent_path')?.collation_name).toBe('C');
    expect(type('file_versions', 'size')?.data_type).toBe('bigint');
  });

  it('creates every index, the width and height sort indexes on coalesce(…, -1)', async () => {
    const { rows } = await catalog.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const names = rows.map((r) => r.indexname);
    for (const table of pgTables) {
      const config = pgTableConfig(table);
      for (const index of config.indexes) expect(names).toContain(index.config.name);
      expect(names).toContain(`${config.name}_pkey`);
    }
    const def = (name: string) => rows.find((r) => r.indexname === name)?.indexdef;
    expect(def('file_versions_current_width_idx')).toMatch(/\(is_current, COALESCE\(width, '?-1'?(::integer)?\), id\)/);
    expect(def('file_versions_current_height_idx')).toMatch(/\(is_current, COALESCE\(height, '?-1'?(::integer)?\), id\)/);
    expect(def('files_file_path_idx')).toMatch(/^CREATE UNIQUE INDEX/);
  });

  it('deletes a file’s versions and their derivatives with it (the same cascades as SQLite)', async () => {
    const now = new Date();
    await db.insert(pgSchema.files).values({ id: 'f1', filePath: '/a.jpg', folderPath: '/', name: 'a.jpg', currentVersionId: 'v1', versionCounter: 1, createdAt: now, updatedAt: now });
    await db.insert(pgSchema.fileVersions).values({
      id: 'v1', fileId: 'f1', number: 1, isCurrent: true, blobKey: 'b', size: 5_000_000_000, mime: 'image/jpeg', fileType: 'image',
      tags: ['x'], isPrivateFile: false, isPublished: true, createdAt: now, updatedAt: now,
    });
    await db.insert(pgSchema.derivatives).values({ key: 'd1', entry: 'd1', versionId: 'v1', bytes: 10, lastUsedAt: Date.now() });
    const [version] = await db.select().from(pgSchema.fileVersions).where(eq(pgSchema.fileVersions.id, 'v1'));
    expect(version).toMatchObject({ size: 5_000_000_000, tags: ['x'], fileCreatedAt: new Date(0), folderPath: '/', isCurrent: true });
    await db.delete(pgSchema.files).where(eq(pgSchema.files.id, 'f1'));
    expect(await db.select().from(pgSchema.fileVersions)).toEqual([]);
    expect(await db.select().from(pgSchema.derivatives)).toEqual([]);
  });

  it('opens an already migrated database again without changing it', async () => {
    const now = new Date();
    await db.insert(pgSchema.folders).values({ id: 'd1', folderPath: '/kept', name: 'kept', parentPath: '/', createdAt: now, updatedAt: now });
    const again = await open(url);
    expect(await again.select({ name: pgSchema.folders.name }).from(pgSchema.folders)).toEqual([{ name: 'kept' }]);
    const { rows } = await catalog.query('SELECT hash FROM public.__drizzle_migrations');
    expect(rows).toHaveLength(fs.readdirSync(PG_MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql')).length);
  });

  it('fails in one line naming the server, never its password, when PostgreSQL cannot be reached', async () => {
    const failure = openPostgres('postgres://stowage:hunter2-secret@127.0.0.1:1/library');
    await expect(failure).rejects.toThrow(/^Cannot reach PostgreSQL at postgres:\/\/stowage@127\.0\.0\.1:1\/library: \S.*$/);
    const message = await failure.catch((e: Error) => e.message);
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('\n');
  });

  it('fails in one line naming the migration when one fails, applying none of it', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-pg-migrations-'));
    fs.cpSync(PG_MIGRATIONS_FOLDER, folder, { recursive: true });
    const file = path.join(folder, '0000_create_schema.sql');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('CREATE TABLE "jobs"', 'CREATE TABEL "jobs"'));
    const broken = await freshDatabase();
    await expect(openPostgres(broken, { migrationsFolder: folder })).rejects.toThrow(
      /^PostgreSQL migration 0000_create_schema failed: syntax error at or near "TABEL"$/,
    );
    const probe = new pg.Client({ connectionString: broken });
    await probe.connect();
    const { rows } = await probe.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__drizzle_migrations'`);
    await probe.end();
    expect(rows).toEqual([]);
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
