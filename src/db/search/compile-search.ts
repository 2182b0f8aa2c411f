import { type SQL, sql } from 'drizzle-orm';
import { AppError } from '../../errors.js';
import { parseIsoDate } from '../../library/custom-field-schema.js';
import type { Condition, Literal, Operator, SearchExpr } from '../../library/search/search-ast.js';
import type { Comparison, JsonScalar, SqlDialect, SqlExpr } from '../dialect/dialect.js';
import { type CustomMetadataFieldRow, fileVersions, folders } from '../schema.js';

export interface SearchContext {
  /** The database's SQL dialect. */
  dialect: SqlDialect;
  /** What the rows are: files and versions (one table) or folders. */
  target: 'files' | 'folders';
  /** Live custom metadata fields, for `"customMetadata.<name>"`. */
  fields: readonly CustomMetadataFieldRow[];
  now: Date;
  /** The column `createdAt` means for file rows (the file's creation, or the version's). */
  createdAt: SqlExpr;
}

const invalid = (condition: Condition, why: string) =>
  new AppError('BAD_REQUEST', `Invalid search query - ${condition.field} ${why}. Please refer to the documentation for syntax specification.`, {
    parameter: 'searchQuery',
    details: { position: condition.position, field: condition.field },
  });

const asList = (c: Condition): Literal[] => (Array.isArray(c.value) ? c.value : [c.value]);
const single = (c: Condition): Literal => (Array.isArray(c.value) ? (c.value[0] as Literal) : c.value);

function assertOp(c: Condition, allowed: readonly Operator[]): void {
  if (!allowed.includes(c.op)) throw invalid(c, `supports only the operators ${allowed.join(', ')}`);
}

function strings(c: Condition): string[] {
  return asList(c).map((l) => {
    if (l.type !== 'string') throw invalid(c, 'must have a string value. Make sure the value is enclosed within quotes');
    return l.value;
  });
}

/** `=`, `:`, `IN`, `NOT =`, `NOT IN` over a text expression; `:` is a case-sensitive prefix match. */
function textCondition(c: Condition, column: SqlExpr, dialect: SqlDialect): SQL {
  assertOp(c, ['=', ':', 'IN', 'NOT =', 'NOT IN']);
  const values = strings(c);
  switch (c.op) {
    case ':':
      return dialect.startsWith(column, values[0] as string);
    case '=':
      return sql`${column} = ${values[0]}`;
    case 'NOT =':
      return sql`(${column} IS NULL OR ${column} <> ${values[0]})`;
    case 'IN':
      return sql`${column} IN (${sql.join(values.map((v) => sql`${v}`), sql`, `)})`;
    default:
      return sql`(${column} IS NULL OR ${column} NOT IN (${sql.join(values.map((v) => sql`${v}`), sql`, `)}))`;
  }
}

const COMPARATORS: Record<string, string> = { '=': '=', '<': '<', '<=': '<=', '>': '>', '>=': '>=', 'NOT =': '<>' };

/** Numeric comparisons (and IN / NOT IN) over `column`, values converted by `toNumber`. */
function numericCondition(c: Condition, column: SqlExpr, toNumber: (l: Literal) => number | undefined, what: string): SQL {
  assertOp(c, ['=', '<', '<=', '>', '>=', 'IN', 'NOT =', 'NOT IN']);
  const values = asList(c).map((l) => {
    const n = toNumber(l);
    if (n === undefined) throw invalid(c, `must have ${what}`);
    return n;
  });
  if (c.op === 'IN') return sql`${column} IN (${sql.join(values.map((v) => sql`${v}`), sql`, `)})`;
  if (c.op === 'NOT IN') return sql`(${column} IS NULL OR ${column} NOT IN (${sql.join(values.map((v) => sql`${v}`), sql`, `)}))`;
  return sql`${column} ${sql.raw(COMPARATORS[c.op] as string)} ${values[0]}`;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

function toBytes(l: Literal): number | undefined {
  if (l.type === 'number') return l.value;
  if (l.type !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(l.value);
  return m ? Math.round(Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] as number)) : undefined;
}

const RELATIVE_UNITS_MS: Record<string, number> = { h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** An absolute ISO date or a relative `7d` / `2w` / `3m` / `1y` (that long before now) → epoch ms. */
function toInstant(l: Literal, now: Date): number | undefined {
  if (l.type !== 'string') return undefined;
  const rel = /^(\d+)([hdwmy])$/.exec(l.value.trim());
  if (rel) {
    const n = Number(rel[1]);
    const unit = rel[2] as string;
    if (unit === 'm' || unit === 'y') {
      const d = new Date(now);
      d.setUTCMonth(d.getUTCMonth() - n * (unit === 'y' ? 12 : 1));
      return d.getTime();
    }
    return now.getTime() - n * (RELATIVE_UNITS_MS[unit] as number);
  }
  return parseIsoDate(l.value.trim());
}

/** Compares `column`, an instant of `dialect`, with an absolute or relative date. */
function dateCondition(c: Condition, column: SqlExpr, now: Date, dialect: SqlDialect): SQL {
  assertOp(c, ['=', '<', '<=', '>', '>=']);
  const l = single(c);
  const at = toInstant(l, now);
  if (at === undefined) throw invalid(c, 'field must have a valid date value. Make sure the value is enclosed within quotes');
  const dayOnly = l.type === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(l.value.trim());
  if (c.op === '=' && dayOnly) return sql`(${column} >= ${dialect.instant(at)} AND ${column} < ${dialect.instant(at + 86400e3)})`;
  return sql`${column} ${sql.raw(COMPARATORS[c.op] as string)} ${dialect.instant(at)}`;
}

function booleanCondition(c: Condition, column: SqlExpr, dialect: SqlDialect): SQL {
  assertOp(c, ['=', 'NOT =']);
  const l = single(c);
  const value = l.type === 'boolean' ? l.value : l.type === 'string' && /^(true|false)$/.test(l.value) ? l.value === 'true' : undefined;
  if (value === undefined) throw invalid(c, 'must be true or false');
  return dialect.booleanIs(column, c.op === '=' ? '=' : 'NOT =', value);
}

/** Tags given by hand or by auto-tagging. */
function tagsCondition(c: Condition, dialect: SqlDialect): SQL {
  assertOp(c, ['=', 'IN', 'NOT =', 'NOT IN']);
  const values = strings(c);
  const matches = sql`(${dialect.jsonArrayHasAny(fileVersions.tags, values)} OR ${dialect.jsonArrayHasNamed(fileVersions.aiTags, values)})`;
  return c.op === 'IN' || c.op === '=' ? matches : sql`NOT ${matches}`;
}

const literalValue = (l: Literal): JsonScalar => l.value;

function customMetadataCondition(c: Condition, name: string, ctx: SearchContext): SQL {
  const { dialect, fields, now } = ctx;
  const field = fields.find((f) => f.name === name);
  if (!field) throw invalid(c, `is not a custom metadata field (known: ${fields.map((f) => f.name).join(', ') || 'none'})`);
  const doc = fileVersions.customMetadata;
  switch (field.schema.type) {
    case 'Text':
    case 'Textarea':
      return textCondition(c, dialect.jsonText(doc, name), dialect);
    case 'Number':
      return numericCondition(c, dialect.jsonNumber(doc, name), (l) => (l.type === 'number' ? l.value : undefined), 'a number value');
    case 'Date':
      // Dates are stored as ISO strings; compare their instants.
      return dateCondition(c, dialect.jsonInstant(doc, name), now, dialect);
    case 'Boolean':
      return booleanCondition(c, dialect.jsonBoolean(doc, name), dialect);
    case 'SingleSelect': {
      assertOp(c, ['=', 'IN', 'NOT =', 'NOT IN', '<', '<=', '>', '>=']);
      const values = asList(c).map(literalValue);
      if (c.op === 'IN' || c.op === 'NOT IN') return dialect.jsonIn(doc, name, c.op, values);
      return dialect.jsonCompare(doc, name, c.op as Comparison, values[0] as JsonScalar);
    }
    case 'MultiSelect': {
      assertOp(c, ['IN', 'NOT IN']);
      const any = dialect.jsonArrayHasAny(doc, asList(c).map(literalValue), name);
      return c.op === 'IN' ? any : sql`NOT ${any}`;
    }
  }
}

function embeddedMetadataCondition(c: Condition, rawKey: string, dialect: SqlDialect): SQL {
  // Quotes cannot be part of a key in SQLite's JSON path (`$."key"`); every dialect drops them alike.
  const key = rawKey.replace(/"/g, '');
  const doc = fileVersions.embeddedMetadata;
  if (c.op === 'IN' || c.op === 'NOT IN') {
    // Repeated fields (Keywords) are arrays: match any element; scalars match themselves.
    const any = dialect.jsonMemberHasAny(doc, key, asList(c).map(literalValue));
    return c.op === 'IN' ? any : dialect.isNotTrue(any);
  }
  if (c.op === ':') return textCondition(c, dialect.jsonText(doc, key), dialect);
  return dialect.jsonCompare(doc, key, c.op, literalValue(single(c)));
}

function fileCondition(c: Condition, ctx: SearchContext): SQL {
  const { dialect } = ctx;
  if (c.field.startsWith('customMetadata.')) return customMetadataCondition(c, c.field.slice('customMetadata.'.length), ctx);
  if (c.field.startsWith('embeddedMetadata.')) return embeddedMetadataCondition(c, c.field.slice('embeddedMetadata.'.length), dialect);
  switch (c.field) {
    case 'name':
      return textCondition(c, fileVersions.name, dialect);
    case 'tags':
      return tagsCondition(c, dialect);
    case 'type': {
      const values = strings(c);
      const bad = values.find((v) => v !== 'image' && v !== 'non-image');
      if (bad) throw invalid(c, `must be "image" or "non-image", not "${bad}"`);
      return textCondition(c, fileVersions.fileType, dialect);
    }
    case 'format':
      return textCondition({ ...c, value: asList(c).map((l) => (l.type === 'string' ? { ...l, value: l.value.toLowerCase() } : l)) }, fileVersions.format, dialect);
    case 'createdAt':
      return dateCondition(c, ctx.createdAt, ctx.now, dialect);
    case 'updatedAt':
      return dateCondition(c, fileVersions.updatedAt, ctx.now, dialect);
    case 'size':
      return numericCondition(c, fileVersions.size, toBytes, 'a size in bytes or with a unit, like "10kb" or "1mb"');
    case 'width':
    case 'height':
      return numericCondition(c, c.field === 'width' ? fileVersions.width : fileVersions.height, (l) => (l.type === 'number' ? l.value : undefined), 'a number value');
    case 'private':
      return booleanCondition(c, fileVersions.isPrivateFile, dialect);
    case 'published':
      return booleanCondition(c, fileVersions.isPublished, dialect);
    case 'transparency':
      return booleanCondition(c, fileVersions.hasTransparency, dialect);
    default:
      throw invalid(c, 'is not a searchable field (name, tags, type, format, createdAt, updatedAt, size, width, height, private, published, transparency, "customMetadata.<field>", "embeddedMetadata.<key>")');
  }
}

/** Folders have only a name and timestamps; a condition on anything else matches no folder. */
function folderCondition(c: Condition, ctx: SearchContext): SQL {
  const { dialect } = ctx;
  if (c.field === 'name') return textCondition(c, folders.name, dialect);
  if (c.field === 'createdAt') return dateCondition(c, folders.createdAt, ctx.now, dialect);
  if (c.field === 'updatedAt') return dateCondition(c, folders.updatedAt, ctx.now, dialect);
  fileCondition(c, ctx); // still validated, so a bad query fails the same way for every type
  return dialect.never;
}

/**
 * Turns a parsed searchQuery into one parameterised SQL condition in `ctx.dialect`; values are never spliced into SQL text.
 * @throws BAD_REQUEST (searchQuery) for an unknown field, an operator the field does not support or a value of the wrong kind.
 */
export function compileSearch(expr: SearchExpr, ctx: SearchContext): SQL {
  if (expr.kind === 'condition') return ctx.target === 'files' ? fileCondition(expr, ctx) : folderCondition(expr, ctx);
  const left = compileSearch(expr.left, ctx);
  const right = compileSearch(expr.right, ctx);
  return expr.kind === 'and' ? sql`(${left} AND ${right})` : sql`(${left} OR ${right})`;
}
