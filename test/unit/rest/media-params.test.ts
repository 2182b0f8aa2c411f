import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileView } from '../../../src/db/repos/file-repo.js';
import { fileUrl } from '../../../src/delivery/urls.js';
import { AppError } from '../../../src/errors.js';
import { parseSearchQuery } from '../../../src/library/search/parse-search-query.js';
import { parseCreateField, parseUpdateField } from '../../../src/rest/custom-fields-api.js';
import { legacySearchQuery, parseBulkTags, parseDetailsPatch, parseListQuery } from '../../../src/rest/files-api.js';
import { type BulkJobType, issueJobId, readJobId } from '../../../src/rest/folders-api.js';
import { MEDIA_API_ROUTES, matchRoute } from '../../../src/rest/media-api.js';
import { parseOwnFileUrl } from '../../../src/rest/metadata-api.js';
import { booleanParam, parseJsonBody } from '../../../src/rest/params-api.js';

/** The AppError `fn` throws. */
function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an error');
}

const q = (init: Record<string, string>) => new URLSearchParams(init);
const ID = '0123456789abcdef01234567';

describe('GET /v1/files query', () => {
  it('defaults to files, everywhere, oldest first, 1000 at a time', () => {
    expect(parseListQuery(q({}))).toEqual({
      options: { path: null, recursive: false, fileType: 'all', type: 'file', sort: { key: 'CREATED', direction: 'ASC' }, searchQuery: null },
      skip: 0,
      limit: 1000,
    });
  });

  it('reads every parameter', () => {
    const parsed = parseListQuery(q({ type: 'all', sort: 'DESC_SIZE', path: '/a/b/', searchQuery: ' size > 10 ', fileType: 'non-image', limit: '5', skip: '7' }));
    expect(parsed).toEqual({
      options: { path: '/a/b', recursive: false, fileType: 'non-image', type: 'all', sort: { key: 'SIZE', direction: 'DESC' }, searchQuery: 'size > 10' },
      skip: 7,
      limit: 5,
    });
    expect(parseListQuery(q({ sort: 'DESC_RELEVANCE' })).options.sort).toEqual({ key: 'CREATED', direction: 'DESC' });
  });

  it('answers bad values with ImageKit\'s messages', () => {
    expect(thrown(() => parseListQuery(q({ limit: '0' }))).message).toBe('Minimum value of limit parameter is 1. Value sent is 0.');
    expect(thrown(() => parseListQuery(q({ limit: '2000' }))).message).toBe('Maximum value of limit parameter is 1000. Value sent is 2000.');
    expect(thrown(() => parseListQuery(q({ skip: '-1' }))).message).toBe('The value of skip parameter should be greater than or equal to 0. Value sent is -1.');
    expect(thrown(() => parseListQuery(q({ sort: 'ASC_COLOR' }))).message).toBe('Your request contains invalid value for sort parameters.');
    expect(thrown(() => parseListQuery(q({ type: 'files' }))).parameter).toBe('type');
    expect(thrown(() => parseListQuery(q({ fileType: 'video' }))).parameter).toBe('fileType');
    expect(thrown(() => parseListQuery(q({ limit: 'ten' }))).parameter).toBe('limit');
    expect(thrown(() => parseListQuery(q({ path: '/../etc' }))).parameter).toBe('path');
  });

  it('takes a limit and skip exactly when they are in range (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: -5000, max: 5000 }), (limit, skip) => {
        const ok = limit >= 1 && limit <= 1000 && skip >= 0;
        try {
          const parsed = parseListQuery(q({ limit: String(limit), skip: String(skip) }));
          expect(ok).toBe(true);
          expect(parsed).toMatchObject({ limit, skip });
        } catch (e) {
          expect(ok).toBe(false);
          expect((e as AppError).parameter).toMatch(/^(limit|skip)$/);
        }
      }),
    );
  });

  it('turns legacy tags and name into a searchQuery that means them, unless a searchQuery is given (property)', () => {
    const tag = fc.string({ minLength: 1, maxLength: 10 }).map((s) => s.replace(/,/g, '')).filter((s) => s.trim() === s && s.length > 0);
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 4 }), fc.option(fc.string({ minLength: 1, maxLength: 10 }), { nil: undefined }), (tags, name) => {
        const params = q({ ...(tags.length ? { tags: tags.join(',') } : {}), ...(name ? { name } : {}) });
        const text = legacySearchQuery(params);
        if (tags.length === 0 && !name) {
          expect(text).toBeNull();
          return;
        }
        const conditions: unknown[] = [];
        const walk = (e: ReturnType<typeof parseSearchQuery>): void => {
          if (e.kind === 'condition') conditions.push({ field: e.field, op: e.op, value: e.value });
          else (walk(e.left), walk(e.right));
        };
        walk(parseSearchQuery(text as string));
        expect(conditions).toEqual([
          ...(tags.length ? [{ field: 'tags', op: 'IN', value: tags.map((value) => ({ type: 'string', value })) }] : []),
          ...(name ? [{ field: 'name', op: '=', value: { type: 'string', value: name } }] : []),
        ]);
        expect(parseListQuery(new URLSearchParams([...params, ['searchQuery', 'size > 1']])).options.searchQuery).toBe('size > 1');
      }),
    );
  });
});

describe('PATCH /v1/files/{id}/details body', () => {
  it('keeps what is sent: values, nulls (remove) and absence (leave)', () => {
    expect(parseDetailsPatch({})).toEqual({});
    expect(parseDetailsPatch({ tags: null, customCoordinates: null, description: 'd', customMetadata: { brand: null, n: 1 } })).toEqual({
      tags: null,
      customCoordinates: null,
      description: 'd',
      customMetadata: { brand: null, n: 1 },
    });
    expect(parseDetailsPatch({ removeAITags: 'all' })).toEqual({ removeAITags: ['all'] });
    expect(parseDetailsPatch({ removeAITags: ['car'], webhookUrl: 'https://example.com/hook' })).toEqual({ removeAITags: ['car'], webhookUrl: 'https://example.com/hook' });
    expect(parseDetailsPatch({ extensions: [{ name: 'google-auto-tagging', maxTags: 5, minConfidence: 80 }] })).toEqual({
      extensions: [{ name: 'google-auto-tagging', maxTags: 5, minConfidence: 80 }],
    });
    expect(parseDetailsPatch({ publish: { isPublished: false } })).toEqual({ publish: { isPublished: false, includeFileVersions: false } });
  });

  it('refuses values of the wrong type, naming the parameter', () => {
    expect(thrown(() => parseDetailsPatch({ tags: 'a,b' })).parameter).toBe('tags');
    expect(thrown(() => parseDetailsPatch({ tags: ['a', 1] })).parameter).toBe('tags');
    expect(thrown(() => parseDetailsPatch({ customCoordinates: 12 })).parameter).toBe('customCoordinates');
    expect(thrown(() => parseDetailsPatch({ customMetadata: ['x'] })).parameter).toBe('customMetadata');
    expect(thrown(() => parseDetailsPatch({ extensions: { name: 'remove-bg' } })).parameter).toBe('extensions');
    expect(thrown(() => parseDetailsPatch({ extensions: [{ name: 'nope' }] })).parameter).toBe('extensions');
    expect(thrown(() => parseDetailsPatch({ webhookUrl: 'ftp://x' })).parameter).toBe('webhookUrl');
    expect(thrown(() => parseDetailsPatch({ publish: { isPublished: 'yes' } })).parameter).toBe('publish');
    expect(thrown(() => parseDetailsPatch({ publish: true })).parameter).toBe('publish');
  });

  it('never fails other than with a BAD_REQUEST for any JSON object (property)', () => {
    const keys = fc.constantFrom('tags', 'customCoordinates', 'customMetadata', 'description', 'extensions', 'removeAITags', 'webhookUrl', 'publish', 'other');
    fc.assert(
      fc.property(fc.dictionary(keys, fc.jsonValue()), (body) => {
        try {
          parseDetailsPatch(body as Record<string, unknown>);
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          expect((e as AppError).code).toBe('BAD_REQUEST');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('other bodies', () => {
  it('reads bulk tag bodies', () => {
    expect(parseBulkTags({ fileIds: [ID], tags: ['a'] }, 'tags')).toEqual({ fileIds: [ID], tags: ['a'] });
    expect(parseBulkTags({ fileIds: [ID], AITags: ['car'] }, 'AITags')).toEqual({ fileIds: [ID], tags: ['car'] });
    expect(thrown(() => parseBulkTags({ fileIds: [ID] }, 'tags')).message).toBe('Your request is missing tags parameter.');
    expect(thrown(() => parseBulkTags({ fileIds: [], tags: ['a'] }, 'tags')).message).toBe('Your request is missing fileIds parameter.');
    expect(thrown(() => parseBulkTags({ fileIds: ['x'], tags: ['a'] }, 'tags')).message).toBe('Your request contains invalid fileId parameter.');
  });

  it('reads custom metadata field bodies', () => {
    expect(parseCreateField({ name: 'price', label: 'Price', schema: { type: 'Number' } })).toEqual({ name: 'price', label: 'Price', schema: { type: 'Number' }, description: null });
    expect(thrown(() => parseCreateField({ name: 'price', label: 'Price' })).message).toBe('Your request is missing schema parameter.');
    expect(thrown(() => parseCreateField({ label: 'Price', schema: { type: 'Number' } })).message).toBe('Your request is missing name parameter.');
    expect(thrown(() => parseCreateField({ name: 'p', label: 'P', schema: { type: 'SingleSelect', selectOptions: 'a' } })).parameter).toBe('schema');
    expect(parseUpdateField({ schema: { minValue: 1 } })).toEqual({ label: undefined, schema: { minValue: 1 } });
    expect(thrown(() => parseUpdateField({ name: 'renamed' })).message).toContain('Name cannot be updated.');
  });

  it('reads JSON bodies: objects only, empty as {}', () => {
    expect(parseJsonBody('')).toEqual({});
    expect(parseJsonBody(' {"a": [1]} ')).toEqual({ a: [1] });
    expect(thrown(() => parseJsonBody('[1]')).code).toBe('BAD_REQUEST');
    expect(thrown(() => parseJsonBody('{')).code).toBe('BAD_REQUEST');
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseJsonBody(text);
        } catch (e) {
          expect((e as AppError).code).toBe('BAD_REQUEST');
        }
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (body) => {
        expect(parseJsonBody(JSON.stringify(body))).toEqual(JSON.parse(JSON.stringify(body)));
      }),
    );
  });

  it('reads boolean query parameters', () => {
    expect(booleanParam(q({ includeDeleted: 'true' }), 'includeDeleted', false)).toBe(true);
    expect(booleanParam(q({}), 'includeDeleted', false)).toBe(false);
    expect(thrown(() => booleanParam(q({ includeDeleted: '1' }), 'includeDeleted', false)).parameter).toBe('includeDeleted');
  });
});

describe('bulk job ids', () => {
  const types: BulkJobType[] = ['COPY_FOLDER', 'MOVE_FOLDER', 'RENAME_FOLDER'];

  it('read back as the type they were issued for, with any of the keys, and as nothing once altered (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.nat({ max: 40 }), fc.constantFrom(...'0123456789abcdef'), (type, at, char) => {
        const id = issueJobId(type, 'private_one');
        expect(readJobId(id, ['private_other', 'private_one'])).toBe(type);
        expect(readJobId(id, ['private_other'])).toBeUndefined();
        const altered = id.slice(0, at) + char + id.slice(at + 1);
        if (altered !== id) expect(readJobId(altered, ['private_one'])).toBeUndefined();
      }),
    );
  });

  it('never throws on any string (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(readJobId(s, ['k'])).toBeUndefined();
      }),
    );
  });
});

describe('metadata URLs', () => {
  const view = (filePath: string, versionId = 'v'.repeat(24)) => ({ file: { filePath, currentVersionId: versionId }, version: { id: versionId } }) as unknown as FileView;

  it('reads back every file URL of the endpoint, with or without a path prefix (property)', () => {
    const segment = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes('/') && s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom('http://127.0.0.1:3000', 'https://cdn.example.com/media'), (segments, endpoint) => {
        const filePath = `/${segments.join('/')}`;
        expect(parseOwnFileUrl(fileUrl(endpoint, view(filePath)), endpoint)).toEqual({ filePath, versionId: undefined });
        const old = { ...view(filePath), version: { id: ID } } as unknown as FileView;
        expect(parseOwnFileUrl(fileUrl(endpoint, old), endpoint)).toEqual({ filePath, versionId: ID });
      }),
    );
  });

  it('refuses other hosts, paths outside the endpoint and transformations', () => {
    expect(thrown(() => parseOwnFileUrl('https://example.com/a.jpg', 'https://cdn.example.com/media')).parameter).toBe('url');
    expect(thrown(() => parseOwnFileUrl('https://cdn.example.com/other/a.jpg', 'https://cdn.example.com/media')).parameter).toBe('url');
    expect(thrown(() => parseOwnFileUrl('not a url', 'https://cdn.example.com')).parameter).toBe('url');
    expect(thrown(() => parseOwnFileUrl('https://cdn.example.com/tr:w-10/a.jpg', 'https://cdn.example.com')).message).toMatch(/without a transformation/);
    expect(thrown(() => parseOwnFileUrl('https://cdn.example.com/a.jpg?tr=w-10', 'https://cdn.example.com')).message).toMatch(/without a transformation/);
  });
});

describe('routing', () => {
  it('finds every endpoint by its own path, with its parameters decoded (property)', () => {
    const value = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('/'));
    fc.assert(
      fc.property(fc.constantFrom(...MEDIA_API_ROUTES), value, value, (route, a, b) => {
        const values = [a, b];
        const expected: Record<string, string> = {};
        const path = route.path.replace(/:(\w+)/g, (_m, name: string) => {
          const v = values.shift() as string;
          expected[name] = v;
          return encodeURIComponent(v);
        });
        const found = matchRoute(route.method, path);
        // A parameter may happen to spell a literal of another endpoint (`/v1/files/copy`): that one answers.
        const literal = MEDIA_API_ROUTES.find((r) => r.method === route.method && !r.path.includes(':') && r.path === path);
        expect('route' in found && found.route).toBe(literal ?? route);
        if (!literal && 'route' in found) expect(found.params).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('prefers literal paths and tells a wrong method from an unknown path', () => {
    expect(matchRoute('POST', '/v1/files/copy')).toMatchObject({ route: { path: '/v1/files/copy' } });
    expect(matchRoute('GET', '/v1/files/copy')).toEqual({ pathMatched: true });
    expect(matchRoute('GET', '/v1/files/a/b/c')).toEqual({ pathMatched: false });
    expect(matchRoute('PUT', '/v1/files/abc/details')).toEqual({ pathMatched: true });
    expect(matchRoute('GET', '/v1/unknown')).toEqual({ pathMatched: false });
  });
});
