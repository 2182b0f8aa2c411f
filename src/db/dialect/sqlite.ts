import { type SQL, sql } from 'drizzle-orm';
import type { Comparison, JsonScalar, SqlDialect, SqlExpr } from './dialect.js';

/** SQLite has no boolean type: JSON `true`/`false` come out of `json_extract` as 1/0, so compare with those. */
const bound = (v: JsonScalar) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
const list = (values: readonly JsonScalar[]) => sql.join(values.map((v) => sql`${bound(v)}`), sql`, `);
const pathOf = (key: string) => `$."${key}"`;
const member = (doc: SqlExpr, key: string) => sql`json_extract(${doc}, ${pathOf(key)})`;

const OPERATORS: Record<Exclude<Comparison, 'NOT ='>, string> = { '=': '=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function jsonArrayHasAny(doc: SqlExpr, values: readonly JsonScalar[], key?: string): SQL {
  const path = key === undefined ? '$' : pathOf(key);
  return sql`EXISTS (SELECT 1 FROM json_each(${doc}, ${path}) WHERE json_each.value IN (${list(values)}))`;
}

/**
 * SQLite's SQL: JSON through the JSON1 functions (`json_extract`, `json_each`), instants as epoch-millisecond
 * integers (the `timestamp_ms` columns of `src/db/schema.ts`), booleans as 0/1. `ifNull` writes `ifnull(x, -1)`
 * with the number inline, as the expression indexes on width and height do, so the planner matches them.
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  never: sql`0`,
  // Not LIKE: SQLite's LIKE ignores ASCII case.
  startsWith: (text, prefix) => sql`substr(${text}, 1, ${prefix.length}) = ${prefix}`,
  booleanIs: (value, op, expected) => sql`ifnull(${value}, 0) ${sql.raw(op === '=' ? '=' : '<>')} ${expected ? 1 : 0}`,
  isNotTrue: (condition) => sql`NOT ifnull(${condition}, 0)`,
  instant: (ms) => sql`${ms}`,
  ifNull: (value, fallback) => sql`ifnull(${value}, ${sql.raw(String(fallback))})`,
  jsonText: member,
  jsonNumber: member,
  jsonBoolean: member,
  jsonInstant: (doc, key) => sql`(julianday(${member(doc, key)}) - 2440587.5) * 86400000.0`,
  jsonCompare(doc, key, op, value) {
    const m = member(doc, key);
    if (op === 'NOT =') return sql`(${m} IS NULL OR ${m} <> ${bound(value)})`;
    return sql`${m} ${sql.raw(OPERATORS[op])} ${bound(value)}`;
  },
  jsonIn(doc, key, op, values) {
    const m = member(doc, key);
    return op === 'IN' ? sql`${m} IN (${list(values)})` : sql`(${m} IS NULL OR ${m} NOT IN (${list(values)}))`;
  },
  jsonArrayHasAny,
  jsonMemberHasAny: (doc, key, values) =>
    sql`(CASE json_type(${doc}, ${pathOf(key)}) WHEN 'array' THEN ${jsonArrayHasAny(doc, values, key)} ELSE ${member(doc, key)} IN (${list(values)}) END)`,
  jsonArrayHasNamed: (doc, names) => sql`EXISTS (SELECT 1 FROM json_each(${doc}) WHERE json_extract(json_each.value, '$.name') IN (${list(names)}))`,
};
