import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createObjectId, createUniqueSuffix, isObjectId } from '../../src/upload/ids.js';
import {
  folderChain,
  joinFilePath,
  normalizeFolder,
  normalizeTags,
  parseCustomCoordinates,
  sanitizeFileName,
  withUniqueSuffix,
} from '../../src/upload/naming.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof AppError ? `${e.code}:${e.parameter}` : 'other';
  }
  return 'ok';
};

describe('fileName', () => {
  it.each([
    ['hello world.jpg', 'hello_world.jpg'],
    ['résumé-2024.pdf', 'résumé-2024.pdf'],
    ['日本語の写真.png', '日本語の写真.png'],
    ['a/b\\c?.txt', 'a_b_c_.txt'],
    ['no-extension', 'no-extension'],
    ['under_score.jpg', 'under_score.jpg'],
    ['emoji😀.gif', 'emoji_.gif'],
  ])('%s is stored as %s', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('refuses empty, dot-only and overlong names', () => {
    expect(codeOf(() => sanitizeFileName(''))).toBe('BAD_REQUEST:fileName');
    expect(codeOf(() => sanitizeFileName('..'))).toBe('BAD_REQUEST:fileName');
    expect(codeOf(() => sanitizeFileName('a'.repeat(256)))).toBe('BAD_REQUEST:fileName');
  });

  it('never lets a path separator or traversal through (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (raw) => {
        try {
          const name = sanitizeFileName(raw);
          expect(name).not.toMatch(/[/\\\s%?#]/u);
          expect(name).not.toMatch(/^\.+$/);
          expect(name).toMatch(/^[\p{L}\p{M}\p{N}._-]+$/u);
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
        }
      }),
    );
  });

  it('puts the unique suffix before the extension', () => {
    expect(withUniqueSuffix('photo.final.jpg', 'abc')).toBe('photo.final_abc.jpg');
    expect(withUniqueSuffix('README', 'abc')).toBe('README_abc');
    expect(withUniqueSuffix('.hidden', 'abc')).toBe('.hidden_abc');
    expect(createUniqueSuffix()).toMatch(/^[A-Za-z0-9_-]{9}$/);
  });
});

describe('folder', () => {
  it.each([
    [undefined, '/'],
    ['', '/'],
    ['/', '/'],
    ['images', '/images'],
    ['/images/folder/', '/images/folder'],
    ['//a///b//', '/a/b'],
    ['/Ünïcode/文件夹', '/Ünïcode/文件夹'],
  ])('%s normalises to %s', (input, expected) => {
    expect(normalizeFolder(input)).toBe(expected);
  });

  it('refuses traversal, other characters and more than 50 levels', () => {
    expect(codeOf(() => normalizeFolder('/a/../b'))).toBe('BAD_REQUEST:folder');
    expect(codeOf(() => normalizeFolder('/a/./b'))).toBe('BAD_REQUEST:folder');
    expect(codeOf(() => normalizeFolder('/a b'))).toBe('BAD_REQUEST:folder');
    expect(codeOf(() => normalizeFolder('/a.b'))).toBe('BAD_REQUEST:folder');
    expect(normalizeFolder(Array(50).fill('x').join('/'))).toBe(`/${Array(50).fill('x').join('/')}`);
    expect(codeOf(() => normalizeFolder(Array(51).fill('x').join('/')))).toBe('BAD_REQUEST:folder');
  });

  it('is idempotent and always absolute without trailing slash (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'é', '1', '_', '-', '/', '//'), { maxLength: 30 }), (parts) => {
        const once = normalizeFolder(parts.join(''));
        expect(normalizeFolder(once)).toBe(once);
        expect(once).toMatch(/^\/([^/]+(\/[^/]+)*)?$/);
      }),
    );
  });

  it('lists ancestors and joins paths', () => {
    expect(folderChain('/a/b/c')).toEqual(['/a', '/a/b', '/a/b/c']);
    expect(folderChain('/')).toEqual([]);
    expect(joinFilePath('/', 'x.jpg')).toBe('/x.jpg');
    expect(joinFilePath('/a/b', 'x.jpg')).toBe('/a/b/x.jpg');
  });
});

describe('tags', () => {
  it('keeps order, trims and drops duplicates', () => {
    expect(normalizeTags([' a ', 'b', 'a'])).toEqual(['a', 'b']);
  });
  it('refuses empty tags, % and more than 500 characters in total', () => {
    expect(codeOf(() => normalizeTags(['ok', ' ']))).toBe('BAD_REQUEST:tags');
    expect(codeOf(() => normalizeTags(['50%']))).toBe('BAD_REQUEST:tags');
    expect(codeOf(() => normalizeTags(['a,b']))).toBe('BAD_REQUEST:tags');
    const fifty = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(7, '0')}`); // 50 × 8 + 49 commas = 449
    expect(normalizeTags(fifty)).toHaveLength(50);
    expect(codeOf(() => normalizeTags([...fifty, 'x'.repeat(51)]))).toBe('BAD_REQUEST:tags');
  });
});

describe('customCoordinates', () => {
  it('parses x,y,width,height', () => {
    expect(parseCustomCoordinates('10, 20,300,400')).toEqual({ x: 10, y: 20, width: 300, height: 400 });
  });
  it.each(['1,2,3', '1,2,3,4,5', 'a,b,c,d', '-1,0,10,10', '0,0,0,10', '1.5,0,1,1'])('refuses %s', (raw) => {
    expect(codeOf(() => parseCustomCoordinates(raw))).toBe('BAD_REQUEST:customCoordinates');
  });
});

describe('ids', () => {
  it('are 24 hex characters, time-ordered and unique', () => {
    const a = createObjectId(1_700_000_000_000);
    const b = createObjectId(1_700_000_001_000);
    expect(isObjectId(a)).toBe(true);
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => createObjectId())).size).toBe(1000);
  });
});
