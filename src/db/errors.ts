/** SQLite's and PostgreSQL's codes for a foreign key that refers to a row that does not exist (any more). */
const FOREIGN_KEY_CODES = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

/** Unique constraints: SQLite's codes for a primary key or unique index, PostgreSQL's `unique_violation`. */
const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);

/** The driver's error under drizzle's wrapping (`DrizzleQueryError.cause`), or the error itself. */
function codeOf(error: unknown): unknown {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

export const isForeignKeyViolation = (error: unknown): boolean => FOREIGN_KEY_CODES.has(codeOf(error) as string);

export const isUniqueViolation = (error: unknown): boolean => UNIQUE_CODES.has(codeOf(error) as string);
