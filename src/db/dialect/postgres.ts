import { type SQL, sql } from 'drizzle-orm';
import type { Comparison, JsonScalar, SqlDialect, SqlExpr } from './dialect.js';

type ScalarType = 'string' | 'number' | 'boolean';

const OPERATORS: Record<Exclude<Comparison, 'NOT ='>, string> = { '=': '=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

/** The shape `parseIsoDate` (src/library/custom-field-schema.ts) accepts, so stored dates always cast. */
const ISO_DATE = `'^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,3})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$'`;
const HAS_OFFSET = `'(Z|[+-][0-9]{2}:?[0-9]{2})$'`;

const member = (doc: SqlExpr, key: string) => sql`(${doc} -> ${key}::text)`;
const memberText = (doc: SqlExpr, key: string) => sql`(${doc} ->> ${key}::text)`;

/**
 * Member `key` as an SQL value of `type`, NULL when it holds another JSON type; text compares by bytes
 * (`COLLATE "C"`), as SQLite does. The casts cannot fail: each runs only on its own JSON type.
 */
function typedMember(doc: SqlExpr, key: string, type: ScalarType): SQL {
  const when = sql`jsonb_typeof(${member(doc, key)}) = ${sql.raw(`'${type}'`)}`;
  if (type === 'string') return sql`(CASE WHEN ${when} THEN ${memberText(doc, key)} END) COLLATE "C"`;
  if (type === 'number') return sql`(CASE WHEN ${when} THEN ${memberText(doc, key)}::numeric END)`;
  return sql`(CASE WHEN ${when} THEN ${member(doc, key)}::boolean END)`;
}

const typeOf = (v: JsonScalar) => typeof v as ScalarType;
/** A parameter with its type stated, so PostgreSQL never has to guess it from an untyped context. */
const typed = (v: JsonScalar) => (typeof v === 'string' ? sql`${v}::text` : typeof v === 'number' ? sql`${v}::numeric` : sql`${v}::boolean`);
const list = (values: readonly JsonScalar[]) => sql.join(values.map(typed), sql`, `);

/** `values` grouped by type, in first-seen order: one `IN` per type, each on its own typed view of the member. */
function jsonIsOneOf(doc: SqlExpr, key: string, values: readonly JsonScalar[]): SQL {
  const types = [...new Set(values.map(typeOf))];
  const parts = types.map((t) => sql`${typedMember(doc, key, t)} IN (${list(values.filter((v) => typeOf(v) === t))})`);
  return parts.length === 1 ? (parts[0] as SQL) : sql`(${sql.join(parts, sql` OR `)})`;
}

/** Containment (`@>`) of a one-element array per value: GIN-indexable, and numbers compare numerically. */
function jsonArrayHasAny(doc: SqlExpr, values: readonly JsonScalar[], key?: string): SQL {
  const target = key === undefined ? sql`${doc}` : member(doc, key);
  const any = sql.join(values.map((v) => sql`${target} @> ${JSON.stringify([v])}::jsonb`), sql` OR `);
  return sql`(${target} IS NOT NULL AND (${any}))`;
}

/**
 * PostgreSQL's SQL, written against the pg schema Part 2 of issue 11 will add. It assumes:
 * - JSON columns (`tags`, `ai_tags`, `custom_metadata`, `embedded_metadata`) are `jsonb`;
 * - timestamp columns (`created_at`, `updated_at`, `file_created_at`) are `timestamptz`;
 * - flags (`is_private_file`, `is_published`, `has_transparency`, `is_current`) are `boolean`;
 * - text columns that are sorted, compared or range-filtered (`name`, `id`, `folder_path`, `parent_path`) are
 *   `COLLATE "C"`, so they order by bytes like SQLite's BINARY, which cursors and folder ranges rely on;
 * - the sort indexes are `(is_current, <sort value>, id)`, with `coalesce(width, -1)` / `coalesce(height, -1)`
 *   for width and height, matching `ifNull`.
 * Comparisons of a JSON member with a value of another JSON type do not match (SQLite orders numbers before
 * text instead; the search never needs that).
 */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  never: sql`false`,
  startsWith: (text, prefix) => sql`${text} LIKE ${`${prefix.replace(/[\\%_]/g, '\\$&')}%`} ESCAPE '\\'`,
  booleanIs: (value, op, expected) => sql`coalesce(${value}, false) ${sql.raw(op === '=' ? '=' : '<>')} ${expected}::boolean`,
  isNotTrue: (condition) => sql`NOT coalesce(${condition}, false)`,
  instant: (ms) => sql`to_timestamp(${ms}::float8 / 1000)`,
  ifNull: (value, fallback) => sql`coalesce(${value}, ${sql.raw(String(fallback))})`,
  jsonText: memberText,
  jsonNumber: (doc, key) => typedMember(doc, key, 'number'),
  jsonBoolean: (doc, key) => typedMember(doc, key, 'boolean'),
  jsonInstant(doc, key) {
    const text = memberText(doc, key);
    // A date without an offset is UTC whatever the session's TimeZone, as in SQLite.
    return sql`(CASE WHEN jsonb_typeof(${member(doc, key)}) = 'string' AND ${text} ~ ${sql.raw(ISO_DATE)} THEN (CASE WHEN ${text} ~ ${sql.raw(HAS_OFFSET)} THEN ${text}::timestamptz ELSE ${text}::timestamp AT TIME ZONE 'UTC' END) END)`;
  },
  jsonCompare(doc, key, op, value) {
    const m = typedMember(doc, key, typeOf(value));
    if (op === 'NOT =') return sql`(${m} IS NULL OR ${m} <> ${typed(value)})`;
    return sql`${m} ${sql.raw(OPERATORS[op])} ${typed(value)}`;
  },
  jsonIn: (doc, key, op, values) => (op === 'IN' ? jsonIsOneOf(doc, key, values) : sql`NOT coalesce(${jsonIsOneOf(doc, key, values)}, false)`),
  jsonArrayHasAny,
  jsonMemberHasAny: (doc, key, values) =>
    sql`(CASE jsonb_typeof(${member(doc, key)}) WHEN 'array' THEN ${jsonArrayHasAny(doc, values, key)} ELSE ${jsonIsOneOf(doc, key, values)} END)`,
  jsonArrayHasNamed(doc, names) {
    const any = sql.join(names.map((n) => sql`${doc} @> ${JSON.stringify([{ name: n }])}::jsonb`), sql` OR `);
    return sql`(${doc} IS NOT NULL AND (${any}))`;
  },
};
