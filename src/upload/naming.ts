import { badRequest } from '../errors.js';

export const MAX_FILE_NAME_LENGTH = 255;
export const MAX_FOLDER_DEPTH = 50;
export const MAX_TAGS_LENGTH = 500;

/**
 * ImageKit's fileName rule: Unicode letters, marks and numerals, `.` and `-` are kept; every other
 * character (spaces, slashes, punctuation, `_` itself stays `_`) becomes `_`. No extension is added.
 * @throws BAD_REQUEST (fileName) when the name is empty, `.`/`..`, or longer than 255 characters.
 */
export function sanitizeFileName(raw: string): string {
  const name = raw.normalize('NFC').replace(/[^\p{L}\p{M}\p{N}.-]/gu, '_');
  if (name.length === 0) throw badRequest('fileName', 'Your request is missing fileName parameter.');
  if (/^\.+$/.test(name)) {
    throw badRequest('fileName', `Your request contains invalid fileName parameter. "${raw}" is not a file name.`);
  }
  if (name.length > MAX_FILE_NAME_LENGTH) {
    throw badRequest(
      'fileName',
      `Your request contains invalid fileName parameter. It must be at most ${MAX_FILE_NAME_LENGTH} characters.`,
    );
  }
  return name;
}

/** `photo.final.jpg` + `abc` → `photo.final_abc.jpg`; a name without extension gets the suffix at its end. */
export function withUniqueSuffix(name: string, suffix: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return `${name}_${suffix}`;
  return `${name.slice(0, dot)}_${suffix}${name.slice(dot)}`;
}

/**
 * Normalises a folder to `/` or `/a/b` (leading slash, no trailing or repeated slashes).
 * Allowed: Unicode letters, marks, numerals, `_`, `-` in each segment; at most 50 levels.
 * @throws BAD_REQUEST (folder) on traversal (`.`/`..`), other characters, or too deep nesting.
 */
export function normalizeFolder(raw: string | null | undefined): string {
  if (raw == null) return '/';
  const segments = raw.normalize('NFC').split('/').filter((s) => s.length > 0);
  for (const segment of segments) {
    if (segment === '.' || segment === '..') {
      throw badRequest('folder', 'Your request contains invalid folder parameter. Relative segments like ".." are not allowed.');
    }
    const bad = segment.match(/[^\p{L}\p{M}\p{N}_-]/u);
    if (bad) {
      throw badRequest(
        'folder',
        `Your request contains invalid folder parameter. Character "${bad[0]}" is not allowed; use letters, digits, "_", "-" and "/".`,
      );
    }
  }
  if (segments.length > MAX_FOLDER_DEPTH) {
    throw badRequest(
      'folder',
      `Your request contains invalid folder parameter. Folders nest at most ${MAX_FOLDER_DEPTH} levels; got ${segments.length}.`,
    );
  }
  return `/${segments.join('/')}`;
}

/** Every ancestor of a normalised folder, outermost first, excluding the root: `/a/b` → [`/a`, `/a/b`]. */
export function folderChain(folder: string): string[] {
  const segments = folder.split('/').filter(Boolean);
  return segments.map((_, i) => `/${segments.slice(0, i + 1).join('/')}`);
}

export const joinFilePath = (folder: string, name: string): string => (folder === '/' ? `/${name}` : `${folder}/${name}`);

/**
 * Validates tags: no empty tag, no `%`, at most 500 characters in total (as the comma-joined string
 * ImageKit receives). Duplicates are dropped, order kept.
 * @throws BAD_REQUEST (tags)
 */
export function normalizeTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim();
    if (tag.length === 0) throw badRequest('tags', 'Your request contains invalid tags parameter. Tags must not be empty.');
    if (tag.includes('%')) throw badRequest('tags', `Your request contains invalid tags parameter. Tag "${tag}" contains "%", which is not allowed.`);
    if (tag.includes(',')) throw badRequest('tags', `Your request contains invalid tags parameter. Tag "${tag}" contains ",", which separates tags.`);
    if (!out.includes(tag)) out.push(tag);
  }
  const total = out.join(',').length;
  if (total > MAX_TAGS_LENGTH) {
    throw badRequest(
      'tags',
      `Your request contains invalid tags parameter. Tags may have at most ${MAX_TAGS_LENGTH} characters in total; got ${total}.`,
    );
  }
  return out;
}

export interface Coordinates {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Parses `"x,y,width,height"` (non-negative integers, width and height at least 1).
 * @throws BAD_REQUEST (customCoordinates)
 */
export function parseCustomCoordinates(raw: string): Coordinates {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p))) {
    throw badRequest(
      'customCoordinates',
      'Your request contains invalid customCoordinates parameter. Expected "x,y,width,height" with whole numbers, e.g. "10,10,100,100".',
    );
  }
  const [x, y, width, height] = parts.map(Number) as [number, number, number, number];
  if (width < 1 || height < 1) {
    throw badRequest('customCoordinates', 'Your request contains invalid customCoordinates parameter. width and height must be at least 1.');
  }
  return { x, y, width, height };
}

export const formatCoordinates = (c: Coordinates): string => `${c.x},${c.y},${c.width},${c.height}`;
