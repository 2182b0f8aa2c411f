import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../../src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sources(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

const relative = (file: string) => path.relative(SRC, file);

describe('the database boundary', () => {
  it('keeps Drizzle inside src/db: services and resolvers go through repositories', () => {
    const outside = sources(SRC).filter((file) => !relative(file).startsWith(`db${path.sep}`));
    const offenders = outside.filter((file) => /from 'drizzle-orm/.test(fs.readFileSync(file, 'utf8'))).map(relative);
    expect(offenders).toEqual([]);
  });

  it('uses no synchronous better-sqlite3 query (.get/.all/.run/.values), which PostgreSQL does not have, outside the SQLite modules', () => {
    const sqliteOnly = new Set(['db/client.ts', 'db/transactor.ts'].map((p) => p.split('/').join(path.sep)));
    const offenders = sources(path.join(SRC, 'db'))
      .filter((file) => !sqliteOnly.has(relative(file)))
      .flatMap((file) =>
        fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${relative(file)}:${i + 1}` }))
          .filter(({ line }) => /\.(get|all|run|values)\(\)/.test(line))
          .map(({ at }) => at),
      );
    expect(offenders).toEqual([]);
  });
});
