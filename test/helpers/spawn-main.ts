import { type ChildProcess, spawn } from 'node:child_process';
import { createTestDatabase, onPostgres, type TestDatabase } from './test-database.js';

export interface MainProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code (`null` when ended by a signal it did not handle). */
  exited: Promise<number | null>;
}

const started: { child: ChildProcess; exited: Promise<unknown> }[] = [];

/**
 * The databases of the servers {@link startMain} started, by data directory: a server started again on the same
 * data directory (a restart) finds its library where it left it. A start without a data directory gets its own.
 */
const databases = new Map<string, TestDatabase>();
const unnamed: TestDatabase[] = [];

/**
 * The environment that puts a server's metadata where in-process test apps keep theirs: nothing on SQLite (its file
 * in the data directory), a schema of its own in the run's database when the suite runs on PostgreSQL.
 */
function databaseEnv(env: Record<string, string>): Record<string, string> {
  if (!onPostgres() || env.STOWAGE_DATABASE_URL !== undefined) return {};
  const dataDir = env.STOWAGE_DATA_DIR;
  let database = dataDir === undefined ? undefined : databases.get(dataDir);
  if (!database) {
    database = createTestDatabase();
    if (dataDir === undefined) unnamed.push(database);
    else databases.set(dataDir, database);
  }
  return database.env;
}

/**
 * Kills every process {@link startMain} started that is still running, waits for them to end, then drops the
 * PostgreSQL schemas they used (for `afterAll`).
 */
export async function killStartedMains(): Promise<void> {
  const ending = started.splice(0);
  for (const { child } of ending) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(ending.map(({ exited }) => exited));
  const dropping = [...databases.values(), ...unnamed.splice(0)];
  databases.clear();
  for (const database of dropping) await database.drop();
}

/**
 * Runs `npm start`'s command as a user would and waits until it listens (or exits). On a PostgreSQL run the server
 * keeps its metadata in a schema of its own (the same one on every start with the same `STOWAGE_DATA_DIR`), unless
 * `env` names a database itself.
 */
export async function startMain(env: Record<string, string>): Promise<MainProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, ...databaseEnv(env), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  started.push({ child, exited });
  await Promise.race([
    new Promise<void>((resolve) => {
      const check = () => (err.includes('listening') ? resolve() : child.exitCode === null && child.signalCode === null && setTimeout(check, 50));
      check();
    }),
    exited,
  ]);
  return { child, stdout: () => out, stderr: () => err, exited };
}
