/** The order of the media library's listing and its keyset cursors: pure, shared by the listing and its queries. */
import { badRequest } from '../errors.js';

export type AssetType = 'file' | 'file-version' | 'folder' | 'all';
export type SortKey = 'NAME' | 'CREATED' | 'UPDATED' | 'HEIGHT' | 'WIDTH' | 'SIZE';
export type SortDirection = 'ASC' | 'DESC';
export const SORT_KEYS: readonly SortKey[] = ['NAME', 'CREATED', 'UPDATED', 'HEIGHT', 'WIDTH', 'SIZE'];

/** ImageKit's `sort` (`ASC_` or `DESC_` plus a key, e.g. `DESC_CREATED`). @throws BAD_REQUEST (sort) */
export function parseAssetSort(raw: string): { key: SortKey; direction: SortDirection } {
  const match = /^(ASC|DESC)_([A-Z]+)$/.exec(raw);
  if (!match || !(SORT_KEYS as readonly string[]).includes(match[2] as string)) throw badRequest('sort', 'Your request contains invalid value for sort parameters.');
  return { direction: match[1] as SortDirection, key: match[2] as SortKey };
}

export type SortValue = string | number;
/** Where a row sits in the order: its sort value (epoch ms for dates), its kind (folders before files on ties), its id. */
export type Position = [SortValue, 0 | 1, string];

export const encodeCursor = (p: Position) => Buffer.from(JSON.stringify(p)).toString('base64url');

export const isInstantKey = (key: SortKey) => key === 'CREATED' || key === 'UPDATED';
const MAX_EPOCH_MS = 8.64e15;

/** Whether `v` can be a sort value of `key`, so a forged cursor never reaches the database as a bad cast. */
function fitsKey(v: unknown, key: SortKey): boolean {
  if (key === 'NAME') return typeof v === 'string';
  if (isInstantKey(key)) return Number.isInteger(v) && Math.abs(v as number) <= MAX_EPOCH_MS;
  return typeof v === 'number';
}

export function decodeCursor(cursor: string, key: SortKey): Position {
  try {
    const p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(p) && p.length === 3 && fitsKey(p[0], key) && (p[1] === 0 || p[1] === 1) && typeof p[2] === 'string') {
      return p as Position;
    }
  } catch {}
  throw badRequest('after', 'Your request contains an invalid cursor in the after parameter; use an endCursor or edge cursor from a previous page.');
}

/** Text compares by bytes (SQLite's BINARY, PostgreSQL's `COLLATE "C"`), as when merging folders and files. */
export function compareValues(a: SortValue, b: SortValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

export const comparePositions = (a: Position, b: Position) => compareValues(a[0], b[0]) || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);

