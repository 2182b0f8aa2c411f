import { type SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { type CustomMetadataFieldRow, fileVersions, folders } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { parseIsoDate } from '../custom-field-schema.js';
import type { Condition, Literal, Operator, SearchExpr } from './search-ast.js';

export interface SearchContext {
  /** What the rows are: files and versions (one table) or folders. */
  target: 'files' | 'folders';
  /** Live custom metadata fields, for `"customMetadata.<name>"`. */
  fields: readonly CustomMetadataFieldRow[];
  now: Date;
  /** The column `createdAt` means for file rows (the file's creation, or the version's). */
  createdAt: SQL | SQLiteColumn;
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
function textCondition(c: Condition, column: SQL | SQLiteColumn): SQL {
  assertOp(c, ['=', ':', 'IN', 'NOT =', 'NOT IN']);
  const values = strings(c);
  switch (c.op) {
    case ':': {
      const prefix = values[0] as string;
      return sql`substr(${column}, 1, ${prefix.length}) = ${prefix}`;
    }
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
function numericCondition(c: Condition, column: SQL | SQLiteColumn, toNumber: (l: Literal) => number | undefined, what: string): SQL {
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

function dateCondition(c: Condition, column: SQL | SQLiteColumn, now: Date): SQL {
  assertOp(c, ['=', '<', '<=', '>', '>=']);
  const l = single(c);
  const at = toInstant(l, now);
  if (at === undefined) throw invalid(c, 'field must have a valid date value. Make sure the value is enclosed within quotes');
  const dayOnly = l.type === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(l.value.trim());
  if (c.op === '=' && dayOnly) return sql`(${column} >= ${at} AND ${column} < ${at + 86400e3})`;
  return sql`${column} ${sql.raw(COMPARATORS[c.op] as string)} ${at}`;
}

function booleanCondition(c: Condition, column: SQL | SQLiteColumn): SQL {
  assertOp(c, ['=', 'NOT =']);
  const l = single(c);
  const value = l.type === 'boolean' ? l.value : l.type === 'string' && /^(true|false)$/.test(l.value) ? l.value === 'true' : undefined;
  if (value === undefined) throw invalid(c, 'must be true or false');
  return c.op === '=' ? sql`ifnull(${column}, 0) = ${value ? 1 : 0}` : sql`ifnull(${column}, 0) <> ${value ? 1 : 0}`;
}

/** Whether any element of the JSON array at `json` is in `values`. */
const jsonArrayHasAny = (json: SQL | SQLiteColumn, values: unknown[], path = '$') =>
  sql`EXISTS (SELECT 1 FROM json_each(${json}, ${path}) WHERE json_each.value IN (${sql.join(values.map((v) => sql`${v}`), sql`, `)}))`;

function tagsCondition(c: Condition): SQL {
  assertOp(c, ['=', 'IN', 'NOT =', 'NOT IN']);
  const values = strings(c);
  const list = sql.join(values.map((v) => sql`${v}`), sql`, `);
  const matches = sql`(${jsonArrayHasAny(fileVersions.tags, values)} OR EXISTS (SELECT 1 FROM json_each(${fileVersions.aiTags}) WHERE json_extract(json_each.value, '$.name') IN (${list})))`;
  return c.op === 'IN' || c.op === '=' ? matches : sql`NOT ${matches}`;
}

function literalValue(l: Literal): unknown {
  return l.type === 'boolean' ? (l.value ? 1 : 0) : l.value;
}

function customMetadataCondition(c: Condition, name: string, fields: readonly CustomMetadataFieldRow[], now: Date): SQL {
  const field = fields.find((f) => f.name === name);
  if (!field) throw invalid(c, `is not a custom metadata field (known: ${fields.map((f) => f.name).join(', ') || 'none'})`);
  const path = `$."${name}"`;
  const value = sql`json_extract(${fileVersions.customMetadata}, ${path})`;
  switch (field.schema.type) {
    case 'Text':
    case 'Textarea':
      return textCondition(c, value);
    case 'Number':
      return numericCondition(c, value, (l) => (l.type === 'number' ? l.value : undefined), 'a number value');
    case 'Date': {
      // Dates are stored as ISO strings; compare their instants.
      const instant = sql`(julianday(${value}) - 2440587.5) * 86400000.0`;
      return dateCondition(c, instant, now);
    }
    case 'Boolean':
      return booleanCondition(c, value);
    case 'SingleSelect': {
      assertOp(c, ['=', 'IN', 'NOT =', 'NOT IN', '<', '<=', '>', '>=']);
      const values = asList(c).map(literalValue);
      if (c.op === 'IN') return sql`${value} IN (${sql.join(values.map((v) => sql`${v}`), sql`, `)})`;
      if (c.op === 'NOT IN') return sql`(${value} IS NULL OR ${value} NOT IN (${sql.join(values.map((v) => sql`${v}`), sql`, `)}))`;
      if (c.op === 'NOT =') return sql`(${value} IS NULL OR ${value} <> ${values[0]})`;
      return sql`${value} ${sql.raw(COMPARATORS[c.op] as string)} ${values[0]}`;
    }
    case 'MultiSelect': {
      assertOp(c, ['IN', 'NOT IN']);
      const any = jsonArrayHasAny(fileVersions.customMetadata, asList(c).map(literalValue), path);
      return c.op === 'IN' ? any : sql`NOT ${any}`;
    }
  }
}

function embeddedMetadataCondition(c: Condition, key: string): SQL {
  const path = `$."${key.replace(/"/g, '')}"`;
  const value = sql`json_extract(${fileVersions.embeddedMetadata}, ${path})`;
  if (c.op === 'IN' || c.op === 'NOT IN') {
    const values = asList(c).map(literalValue);
    const list = sql.join(values.map((v) => sql`${v}`), sql`, `);
    // Repeated fields (Keywords) are arrays: match any element; scalars match themselves.
    const any = sql`(CASE json_type(${fileVersions.embeddedMetadata}, ${path}) WHEN 'array' THEN ${jsonArrayHasAny(fileVersions.embeddedMetadata, values, path)} ELSE ${value} IN (${list}) END)`;
    return c.op === 'IN' ? any : sql`NOT ifnull(${any}, 0)`;
  }
  const l = single(c);
  if (c.op === ':') return textCondition(c, value);
  if (c.op === 'NOT =') return sql`(${value} IS NULL OR ${value} <> ${literalValue(l)})`;
  return sql`${value} ${sql.raw(COMPARATORS[c.op] as string)} ${literalValue(l)}`;
}

function fileCondition(c: Condition, ctx: SearchContext): SQL {
  if (c.field.startsWith('customMetadata.')) return customMetadataCondition(c, c.field.slice('customMetadata.'.length), ctx.fields, ctx.now);
  if (c.field.startsWith('embeddedMetadata.')) return embeddedMetadataCondition(c, c.field.slice('embeddedMetadata.'.length));
  switch (c.field) {
    case 'name':
      return textCondition(c, fileVersions.name);
    case 'tags':
      return tagsCondition(c);
    case 'type': {
      const values = strings(c);
      const bad = values.find((v) => v !== 'image' && v !== 'non-image');
      if (bad) throw invalid(c, `must be "image" or "non-image", not "${bad}"`);
      return textCondition(c, fileVersions.fileType);
    }
    case 'format':
      return textCondition({ ...c, value: asList(c).map((l) => (l.type === 'string' ? { ...l, value: l.value.toLowerCase() } : l)) }, fileVersions.format);
    case 'createdAt':
      return dateCondition(c, ctx.createdAt, ctx.now);
    case 'updatedAt':
      return dateCondition(c, fileVersions.updatedAt, ctx.now);
    case 'size':
      return numericCondition(c, fileVersions.size, toBytes, 'a size in bytes or with a unit, like "10kb" or "1mb"');
    case 'width':
    case 'height':
      return numericCondition(c, c.field === 'width' ? fileVersions.width : fileVersions.height, (l) => (l.type === 'number' ? l.value : undefined), 'a number value');
    case 'private':
      return booleanCondition(c, fileVersions.isPrivateFile);
    case 'published':
      return booleanCondition(c, fileVersions.isPublished);
    case 'transparency':
      return booleanCondition(c, fileVersions.hasTransparency);
    default:
      throw invalid(c, 'is not a searchable field (name, tags, type, format, createdAt, updatedAt, size, width, height, private, published, transparency, "customMetadata.<field>", "embeddedMetadata.<key>")');
  }
}

/** Folders have only a name and timestamps; a condition on anything else matches no folder. */
function folderCondition(c: Condition, ctx: SearchContext): SQL {
  if (c.field === 'name') return textCondition(c, folders.name);
  if (c.field === 'createdAt') return dateCondition(c, folders.createdAt, ctx.now);
  if (c.field === 'updatedAt') return dateCondition(c, folders.updatedAt, ctx.now);
  fileCondition(c, ctx); // still validated, so a bad query fails the same way for every type
  return sql`0`;
}

/** Turns a parsed searchQuery into one parameterised SQL condition; values are never spliced into SQL text. */
export function compileSearch(expr: SearchExpr, ctx: SearchContext): SQL {
  if (expr.kind === 'condition') return ctx.target === 'files' ? fileCondition(expr, ctx) : folderCondition(expr, ctx);
  const left = compileSearch(expr.left, ctx);
  const right = compileSearch(expr.right, ctx);
  return expr.kind === 'and' ? sql`(${left} AND ${right})` : sql`(${left} OR ${right})`;
}
