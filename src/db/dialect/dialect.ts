import type { Column, SQL } from 'drizzle-orm';

/** A column or an SQL expression, as drizzle's `sql` template accepts them. */
export type SqlExpr = SQL | Column;

/** A value a JSON document may hold where a search compares it: its JavaScript type decides how it compares. */
export type JsonScalar = string | number | boolean;

/** An ordering or (in)equality comparison; `NOT =` also matches rows where the value is absent. */
export type Comparison = '=' | 'NOT =' | '<' | '<=' | '>' | '>=';

/**
 * The SQL that differs between database dialects, for the search compiler (`src/library/search/compile-search.ts`)
 * and the listing (`src/library/list-assets.ts`). Every method returns a parameterised drizzle fragment: values are
 * bound as parameters, never spliced into SQL text, except where noted (numbers an expression index depends on).
 *
 * Conventions shared by every implementation:
 * - An *instant* is whatever the dialect compares timestamp columns with: `instant(ms)` builds one from epoch
 *   milliseconds, `jsonInstant` reads one from an ISO-8601 string (a date without an offset is UTC).
 * - A *JSON document* is a column holding a JSON object (or array); `key` names one of its members.
 * - Text compares by bytes (SQLite's BINARY collation), so cursors and byte-range folder filters agree with the
 *   listing's order in every dialect.
 */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres';

  /** A condition no row meets. */
  readonly never: SQL;

  /** `text` starts with `prefix`, case-sensitively. */
  startsWith(text: SqlExpr, prefix: string): SQL;

  /** A nullable boolean compared with `expected`, NULL counting as false. */
  booleanIs(value: SqlExpr, op: '=' | 'NOT =', expected: boolean): SQL;

  /** The negation of a condition that may be NULL, a NULL counting as false (so its negation holds). */
  isNotTrue(condition: SQL): SQL;

  /** An instant, from epoch milliseconds. */
  instant(ms: number): SQL;

  /** `value`, or the number `fallback` when it is NULL; for sort keys, so it must match their expression indexes. */
  ifNull(value: SqlExpr, fallback: number): SQL;

  /** Member `key` of a JSON document as text (a number's text for a number); NULL when absent. */
  jsonText(doc: SqlExpr, key: string): SQL;

  /** Member `key` of a JSON document as a number; NULL when absent. */
  jsonNumber(doc: SqlExpr, key: string): SQL;

  /** Member `key` of a JSON document as a nullable boolean, for `booleanIs`. */
  jsonBoolean(doc: SqlExpr, key: string): SQL;

  /** Member `key` of a JSON document, an ISO-8601 date string, as an instant; NULL when absent. */
  jsonInstant(doc: SqlExpr, key: string): SQL;

  /** Member `key` of a JSON document compared with `value`, as a value of `value`'s type. */
  jsonCompare(doc: SqlExpr, key: string, op: Comparison, value: JsonScalar): SQL;

  /** Member `key` of a JSON document is one of `values` (`IN`), or is absent or none of them (`NOT IN`). */
  jsonIn(doc: SqlExpr, key: string, op: 'IN' | 'NOT IN', values: readonly JsonScalar[]): SQL;

  /**
   * Some element of the JSON array `doc` (or its member `key`) is one of `values`. False, never NULL, when the
   * document or member is absent.
   */
  jsonArrayHasAny(doc: SqlExpr, values: readonly JsonScalar[], key?: string): SQL;

  /** Member `key` is one of `values`, or is an array with an element among them (repeated embedded fields). May be NULL. */
  jsonMemberHasAny(doc: SqlExpr, key: string, values: readonly JsonScalar[]): SQL;

  /** Some object of the JSON array `doc` has a `name` among `names` (AI tags). False, never NULL, when `doc` is absent. */
  jsonArrayHasNamed(doc: SqlExpr, names: readonly string[]): SQL;
}
