import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, makePng } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;

const UPLOAD = `mutation($file: Upload!, $fileName: String!, $folder: String, $tags: [String!], $isPrivateFile: Boolean, $isPublished: Boolean, $customMetadata: JSONObject) {
  uploadFile(file: $file, fileName: $fileName, folder: $folder, tags: $tags, useUniqueFileName: false, isPrivateFile: $isPrivateFile, isPublished: $isPublished, customMetadata: $customMetadata) { fileId }
}`;
const put = async (data: Buffer, fileName: string, vars: Record<string, unknown> = {}) => {
  const res = await t.upload(UPLOAD, { file: null, fileName, ...vars }, { path: 'variables.file', data, filename: fileName });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data?.uploadFile.fileId as string;
};

const names = async (args: string) => {
  const res = await t.gql(`{ files(${args}) { totalCount nodes { name } } }`);
  if (res.errors) throw Object.assign(new Error(res.errors[0]?.message), { extensions: res.errors[0]?.extensions });
  return (res.data?.files.nodes as { name: string }[]).map((n) => n.name);
};
const search = (q: string, extra = '') => names(`searchQuery: ${JSON.stringify(q)}, first: 1000${extra}`);

beforeAll(async () => {
  t = await startTestApp();
  for (const [name, schema] of [
    ['brand', { type: 'Text' }],
    ['price', { type: 'Number' }],
    ['launch', { type: 'Date' }],
    ['featured', { type: 'Boolean' }],
    ['size', { type: 'SingleSelect', selectOptions: ['S', 'M', 'L'] }],
    ['colours', { type: 'MultiSelect', selectOptions: ['red', 'green', 'blue'] }],
  ] as const) {
    const r = await t.gql('mutation($n: String!, $s: CustomMetadataFieldSchemaInput!) { createCustomMetadataField(name: $n, label: $n, schema: $s) { id } }', { n: name, s: schema });
    expect(r.errors).toBeUndefined();
  }
  await put(await makeJpeg(800, 600), 'beach.jpg', { folder: '/photos', tags: ['summer', 'sea'], customMetadata: { brand: 'Acme', price: 10, launch: '2026-01-15', featured: true, size: 'M', colours: ['red', 'blue'] } });
  await put(await makeJpeg(100, 50), 'beach-small.jpg', { folder: '/photos/thumbs', tags: ['summer'], customMetadata: { brand: 'Acme Pro', price: 99 } });
  await put(await makePng(300, 300, true), 'logo.png', { folder: '/brand', tags: ['logo'], isPrivateFile: true, customMetadata: { brand: 'Other', colours: ['green'], size: 'S' } });
  await put(Buffer.from('body{}'), 'site.css', { folder: '/assets' });
  await put(Buffer.from('x'.repeat(5000)), 'notes.txt', { folder: '/assets', isPublished: false });
});
afterAll(() => t.close());

describe('files listing', () => {
  it('filters by folder, recursively, by file type and by asset type', async () => {
    expect(await names('path: "/photos"')).toEqual(['beach.jpg']);
    expect((await names('path: "/photos", recursive: true')).sort()).toEqual(['beach-small.jpg', 'beach.jpg']);
    expect((await names('fileType: IMAGE')).sort()).toEqual(['beach-small.jpg', 'beach.jpg', 'logo.png']);
    expect((await names('fileType: NON_IMAGE')).sort()).toEqual(['notes.txt', 'site.css']);
    expect((await names('type: FOLDER, sort: ASC_NAME'))).toEqual(['assets', 'brand', 'photos', 'thumbs']);
    expect(await names('type: FOLDER, path: "/photos"')).toEqual(['thumbs']);
    expect(await names('type: ALL, path: "/photos", sort: ASC_NAME')).toEqual(['beach.jpg', 'thumbs']);
    const all = await t.gql('{ files(type: ALL, path: "/photos") { nodes { __typename type ... on Folder { folderPath } ... on File { filePath } } } }');
    expect(all.data?.files.nodes).toEqual(
      expect.arrayContaining([
        { __typename: 'Folder', type: 'FOLDER', folderPath: '/photos/thumbs' },
        { __typename: 'File', type: 'FILE', filePath: '/photos/beach.jpg' },
      ]),
    );
  });

  it('sorts by every key in both directions', async () => {
    expect(await names('sort: ASC_NAME')).toEqual(['beach-small.jpg', 'beach.jpg', 'logo.png', 'notes.txt', 'site.css']);
    expect(await names('sort: DESC_NAME')).toEqual(['site.css', 'notes.txt', 'logo.png', 'beach.jpg', 'beach-small.jpg']);
    expect((await names('sort: DESC_WIDTH')).slice(0, 3)).toEqual(['beach.jpg', 'logo.png', 'beach-small.jpg']);
    expect((await names('sort: ASC_HEIGHT')).slice(-3)).toEqual(['beach-small.jpg', 'logo.png', 'beach.jpg']);
    expect(await names('sort: ASC_CREATED')).toEqual(['beach.jpg', 'beach-small.jpg', 'logo.png', 'site.css', 'notes.txt']);
    expect((await names('sort: DESC_SIZE'))[0]).toBe('notes.txt');
    expect((await names('sort: ASC_SIZE'))[0]).toBe('site.css');
  });

  it('lists non-current versions with type FILE_VERSION', async () => {
    await put(Buffer.from('v2 of the css'), 'site.css', { folder: '/assets' });
    const res = await t.gql('{ files(type: FILE_VERSION) { nodes { type name ... on File { versionInfo { name } isCurrentVersion } } } }');
    expect(res.data?.files.nodes).toEqual([{ type: 'FILE_VERSION', name: 'site.css', versionInfo: { name: 'Version 1' }, isCurrentVersion: false }]);
  });
});

describe('searchQuery', () => {
  it.each([
    ['name = "beach.jpg"', ['beach.jpg']],
    ['name : "beach"', ['beach-small.jpg', 'beach.jpg']],
    ['name : "Beach"', []],
    ['name IN ["logo.png", "site.css"]', ['logo.png', 'site.css']],
    ['name NOT IN ["logo.png", "site.css"]', ['beach-small.jpg', 'beach.jpg', 'notes.txt']],
    ['name NOT = "logo.png" AND type = "image"', ['beach-small.jpg', 'beach.jpg']],
    ['tags IN ["summer"]', ['beach-small.jpg', 'beach.jpg']],
    ['tags NOT IN ["summer", "logo"]', ['notes.txt', 'site.css']],
    ['type = "non-image"', ['notes.txt', 'site.css']],
    ['format IN ["png", "css"]', ['logo.png', 'site.css']],
    ['format = "JPG"', ['beach-small.jpg', 'beach.jpg']],
    ['width > 200', ['beach.jpg', 'logo.png']],
    ['height <= 50', ['beach-small.jpg']],
    ['width = 300 OR height = 600', ['beach.jpg', 'logo.png']],
    ['size > "4kb" AND size < "1mb"', ['notes.txt']],
    ['size >= "4.8kb"', ['notes.txt']],
    ['size < 100', ['site.css']],
    ['private = true', ['logo.png']],
    ['published = false', ['notes.txt']],
    ['transparency = true', ['logo.png']],
    ['createdAt > "1d"', ['beach-small.jpg', 'beach.jpg', 'logo.png', 'notes.txt', 'site.css']],
    ['createdAt < "1h"', []],
    ['updatedAt >= "2020-01-01"', ['beach-small.jpg', 'beach.jpg', 'logo.png', 'notes.txt', 'site.css']],
    ['createdAt < "2020-01-01T00:00:00"', []],
    ['"customMetadata.brand" = "Acme"', ['beach.jpg']],
    ['"customMetadata.brand" : "Acme"', ['beach-small.jpg', 'beach.jpg']],
    ['"customMetadata.price" >= 50', ['beach-small.jpg']],
    ['"customMetadata.price" IN [10, 99]', ['beach-small.jpg', 'beach.jpg']],
    ['"customMetadata.launch" > "2026-01-01"', ['beach.jpg']],
    ['"customMetadata.launch" = "2026-01-15"', ['beach.jpg']],
    ['"customMetadata.featured" = true', ['beach.jpg']],
    ['"customMetadata.size" IN ["S", "L"]', ['logo.png']],
    ['"customMetadata.colours" IN ["blue", "green"]', ['beach.jpg', 'logo.png']],
    ['"customMetadata.colours" NOT IN ["red"]', ['beach-small.jpg', 'logo.png', 'notes.txt', 'site.css']],
    ['(tags IN ["sea"] OR tags IN ["logo"]) AND private = false', ['beach.jpg']],
  ])('%s', async (query, expected) => {
    expect((await search(query)).sort()).toEqual(expected);
  });

  it('counts matches with totalCount', async () => {
    const res = await t.gql('{ files(searchQuery: "tags IN [\\"summer\\"]", first: 1) { totalCount nodes { name } pageInfo { hasNextPage } } }');
    expect(res.data?.files).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true } });
    expect(res.data?.files.nodes).toHaveLength(1);
  });

  it('searches folders by name and dates only', async () => {
    expect(await search('name : "ph"', ', type: FOLDER')).toEqual(['photos']);
    expect(await search('size > 0', ', type: FOLDER')).toEqual([]);
  });

  it.each([
    ['size >', /position 6: expected a value/],
    ['createdAt > 5', /createdAt field must have a valid date value/],
    ['createdAt > "someday"', /valid date value/],
    ['name > "a"', /name supports only the operators =, :, IN, NOT =, NOT IN/],
    ['colour = "red"', /colour is not a searchable field/],
    ['"customMetadata.nope" = 1', /customMetadata\.nope is not a custom metadata field/],
    ['"customMetadata.colours" = "red"', /supports only the operators IN, NOT IN/],
    ['private = "maybe"', /must be true or false/],
    ['type = "video"', /must be "image" or "non-image"/],
  ])('refuses %j with a clear message', async (query, message) => {
    const res = await t.gql('query($q: String) { files(searchQuery: $q) { totalCount } }', { q: query });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'searchQuery', status: 400 });
    expect(res.errors?.[0]?.message).toMatch(message);
  });

  it('never interprets values as SQL', async () => {
    expect(await search('name = "x\' OR 1=1 --"')).toEqual([]);
    expect(await search('name IN ["a\\") OR (1=1"]')).toEqual([]);
  });
});

describe('pagination', () => {
  it('walks every file exactly once, in order, while files are added', async () => {
    const other = await startTestApp();
    try {
      const upload = (i: number) =>
        other.upload(UPLOAD, { file: null, fileName: `p${String(i).padStart(3, '0')}.txt` }, { path: 'variables.file', data: Buffer.from(String(i)), filename: 'x.txt' });
      for (let i = 0; i < 45; i += 3) await Promise.all([upload(i), upload(i + 1), upload(i + 2)]);
      const seen: string[] = [];
      let after: string | null = null;
      let added = 0;
      for (;;) {
        const res: any = await other.gql('query($after: String) { files(first: 7, after: $after, sort: ASC_NAME) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }', { after });
        seen.push(...res.data.files.edges.map((e: { node: { name: string } }) => e.node.name));
        if (added < 2) {
          // one name sorts before everything read so far, one after: only the later one may appear
          await upload(-1 - added);
          await upload(100 + added);
          added++;
        }
        if (!res.data.files.pageInfo.hasNextPage) break;
        after = res.data.files.pageInfo.endCursor;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual([...seen].sort());
      for (let i = 0; i < 45; i++) expect(seen).toContain(`p${String(i).padStart(3, '0')}.txt`);
      expect(seen).toContain('p100.txt');
      expect(seen).toContain('p101.txt');
      expect(seen).not.toContain('p-01.txt');
      const bad = await other.gql('{ files(after: "garbage") { totalCount } }');
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'after' });
    } finally {
      await other.close();
    }
  });
});
