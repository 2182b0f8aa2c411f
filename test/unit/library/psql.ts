import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';

/**
 * PostgreSQL through the `psql` client, for testing SQL fragments without a Node driver: each run gets its own
 * throwaway database on 127.0.0.1:5432 (trust auth, user postgres), dropped at the end.
 */
const CONNECTION = ['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-X', '-q', '-A', '-t'];

function psql(database: string, script: string) {
  // stderr into stdout, so an error lands where its statement's output would have been
  const res = spawnSync('sh', ['-c', `psql ${CONNECTION.join(' ')} -d "$1" -f - 2>&1`, 'psql', database], { input: script, encoding: 'utf8' });
  if (res.error) throw res.error;
  return { status: res.status ?? -1, output: res.stdout };
}

/** Why PostgreSQL cannot be used here (no psql, or no server), or `undefined` when it can. */
export function postgresUnavailable(): string | undefined {
  if (spawnSync('psql', ['--version']).error) return 'the psql client is not installed';
  const probe = psql('test', 'SELECT 1;');
  return probe.status === 0 ? undefined : `PostgreSQL at 127.0.0.1:5432 did not answer: ${probe.output.trim()}`;
}

/** A statement and its parameters as the pg driver would send them. */
export const toPgQuery = (fragment: SQL) => new PgDialect().sqlToQuery(fragment);

/** A parameter as an SQL literal of unknown type, as the pg driver sends parameters (text, type left to the server). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return `'${String(value).replace(/'/g, "''")}'`;
}

export interface ScratchDatabase {
  /** Runs a setup script, failing on its first error. */
  exec(script: string): void;
  /**
   * Prepares and executes each statement (as the pg driver does: unnamed parameter types inferred by the server)
   * and returns each one's rows (first column), or the error it raised. `explain` returns each plan instead;
   * `settings` runs first (e.g. `SET enable_seqscan = off;`).
   */
  query(statements: SQL[], options?: { explain?: boolean; settings?: string }): ({ rows: string[] } | { error: string })[];
  drop(): void;
}

export function createScratchDatabase(): ScratchDatabase {
  const name = `stowage_dialect_${process.pid}_${randomBytes(4).toString('hex')}`;
  const created = psql('test', `CREATE DATABASE ${name};`);
  if (created.status !== 0) throw new Error(`could not create ${name}: ${created.output}`);
  return {
    exec(script) {
      const res = psql(name, `\\set ON_ERROR_STOP on\nSET standard_conforming_strings = on;\n${script}`);
      if (res.status !== 0) throw new Error(`psql failed: ${res.output}`);
    },
    query(statements, options = {}) {
      const script = statements
        .map((statement, i) => {
          const { sql, params } = toPgQuery(statement);
          const execute = `${options.explain ? 'EXPLAIN (COSTS OFF) ' : ''}EXECUTE q${i}${params.length ? `(${params.map(literal).join(', ')})` : ''};`;
          return `\\echo @@${i}\nPREPARE q${i} AS ${sql};\n${execute}`;
        })
        .join('\n');
      const { output } = psql(name, `SET standard_conforming_strings = on;\n${options.settings ?? ''}\n${script}\n\\echo @@end\n`);
      const results: ({ rows: string[] } | { error: string })[] = [];
      const blocks = output.split(/^@@/m).slice(1);
      for (const block of blocks) {
        const [marker, ...lines] = block.split('\n').filter((l) => l !== '');
        if (marker === 'end') break;
        const errors = lines.filter((l) => /^psql:.*(ERROR|FATAL)/.test(l));
        results[Number(marker)] = errors.length ? { error: lines.join('\n') } : { rows: lines };
      }
      return statements.map((_, i) => results[i] ?? { error: `no output for statement ${i}:\n${output}` });
    },
    drop() {
      psql('test', `DROP DATABASE IF EXISTS ${name};`);
    },
  };
}

/** A value as a PostgreSQL literal, for fixture inserts. */
export function pgLiteral(value: unknown, type?: 'jsonb' | 'timestamptz'): string {
  if (value === null || value === undefined) return 'NULL';
  if (type === 'jsonb') return `${literal(JSON.stringify(value))}::jsonb`;
  if (type === 'timestamptz') return `to_timestamp(${Number(value)}::float8 / 1000)`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return literal(value);
}
