import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import { DatabaseStatusRepo } from '../db/repos/database-status-repo.js';
import type { Transactor } from '../db/transactor.js';
import type { BlobStore } from '../storage/blob-store.js';

/** Liveness: the process answers. Never does I/O. */
export const HEALTH_PATH = '/healthz';
/** Readiness: the process can serve (see `createReadinessCheck`). */
export const READINESS_PATH = '/readyz';


/** Looked up in the blob store (it need not exist): answering "no such object" proves the store answers. */
const PROBE_KEY = 'readiness-probe';

/** The parts `/readyz` checks, as its body names them. */
export type ReadinessPart = 'database' | 'blobStore' | 'migrations';

/** `/readyz`'s body: each part `ok` or why not (never a path or a secret), and the parts that failed. */
export interface Readiness {
  status: 'ready' | 'not ready';
  checks: Record<ReadinessPart, string>;
  failing?: ReadinessPart[];
}

/** What readiness is checked against: the app's own database and blob store. */
export interface ReadinessDeps {
  transactor: Transactor;
  /** The SQLite file the database has open (none on PostgreSQL). */
  databaseFile?: string;
  store: BlobStore;
  /** Where drizzle's migrations are; the folder of the database's dialect by default. */
  migrationsFolder?: string;
  /** How long the blob store may take to answer (default 3 s). */
  timeoutMs?: number;
}

class NotReady extends Error {}

/**
 * A Node, SQLite or PostgreSQL error code (e.g. `EACCES`, `SQLITE_IOERR`, `57P01`) says what failed without naming
 * any path or server.
 */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|SQLITE_[A-Z_]+|[0-9A-Z]{5})$/.test(code) ? ` (${code})` : '';
}

function withinMs<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NotReady(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Runs `check`; `ok`, or the reason it gave (a NotReady) or `failed` plus the error's code. */
async function outcomeOf(check: () => Promise<void> | void, failed: string): Promise<string> {
  try {
    await check();
    return 'ok';
  } catch (error) {
    return error instanceof NotReady ? error.message : `${failed}${codeOf(error)}`;
  }
}

/**
 * Builds the readiness check: the database answers a query and its file is still the one open (SQLite carries on
 * writing into a deleted file, losing everything at the next start), every migration this version ships is
 * applied (by drizzle's record of hashes), and the blob store answers a lookup.
 */
export function createReadinessCheck(deps: ReadinessDeps): () => Promise<Readiness> {
  const timeoutMs = deps.timeoutMs ?? 3000;
  const databaseStatus = new DatabaseStatusRepo(deps.transactor);
  const expected = databaseStatus.shippedMigrationHashes(deps.migrationsFolder);
  const { databaseFile } = deps;
  const opened = databaseFile === undefined ? undefined : fs.statSync(databaseFile);

  const checkDatabase = async () => {
    await withinMs(databaseStatus.ping(), timeoutMs, 'the database');
    if (databaseFile === undefined || !opened) return;
    const now = await fs.promises.stat(databaseFile).catch(() => undefined);
    if (!now || now.ino !== opened.ino || now.dev !== opened.dev) throw new NotReady('the database file was deleted or replaced while in use');
  };
  const checkMigrations = async () => {
    const applied = new Set(await databaseStatus.appliedMigrationHashes());
    const missing = expected.filter((hash) => !applied.has(hash)).length;
    if (missing > 0) throw new NotReady(`${missing} of ${expected.length} migrations are not applied; restarting applies them`);
  };
  const checkBlobStore = async () => {
    await withinMs(deps.store.stat(PROBE_KEY), timeoutMs, 'the blob store');
  };

  return async () => {
    const [database, migrations, blobStore] = await Promise.all([
      outcomeOf(checkDatabase, 'the database did not answer'),
      outcomeOf(checkMigrations, 'the applied migrations could not be read'),
      outcomeOf(checkBlobStore, 'the blob store did not answer'),
    ]);
    const checks = { database, blobStore, migrations };
    const failing = (Object.keys(checks) as ReadinessPart[]).filter((part) => checks[part] !== 'ok');
    return failing.length === 0 ? { status: 'ready', checks } : { status: 'not ready', checks, failing };
  };
}

/** Answers `/readyz`: 200 when ready, 503 naming what is not; never cached. */
export async function serveReadiness(res: ServerResponse, check: () => Promise<Readiness>): Promise<void> {
  const readiness = await check();
  const body = JSON.stringify(readiness);
  res.writeHead(readiness.status === 'ready' ? 200 : 503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
