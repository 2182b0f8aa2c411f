import type Database from 'better-sqlite3';

/** How many distinct statements a connection keeps compiled (search queries vary; the hot ones are few). */
const CACHED_STATEMENTS = 200;

/**
 * Makes `connection.prepare` reuse compiled statements, least recently used dropped past the cap. Drizzle prepares
 * every query it runs, and compiling the SQL costs about as much as running it. A statement handed out again is put
 * back in its default (non-raw) mode, since drizzle switches it to raw per call; drizzle runs each statement within
 * the same synchronous call that prepares it, so two users of one statement never interleave.
 */
export function cacheStatements(connection: Database.Database): void {
  const prepare = connection.prepare.bind(connection);
  const cache = new Map<string, Database.Statement>();
  connection.prepare = ((source: string) => {
    const cached = cache.get(source);
    if (cached) {
      cache.delete(source);
      cache.set(source, cached);
      if (cached.reader) cached.raw(false);
      return cached;
    }
    const statement = prepare(source);
    cache.set(source, statement);
    if (cache.size > CACHED_STATEMENTS) cache.delete(cache.keys().next().value as string);
    return statement;
  }) as Database.Database['prepare'];
}
