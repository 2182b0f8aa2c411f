import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, randomBytesOf } from '../helpers/fixtures.js';
import { startTestApp, type TestApp, UPLOAD_FIELDS, UPLOAD_MUTATION } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const put = (data: Uint8Array, fileName: string, vars: Record<string, unknown> = {}) =>
  t.upload(UPLOAD_MUTATION, { file: null, fileName, useUniqueFileName: false, ...vars }, { path: 'variables.file', data, filename: fileName });

const versionsOf = async (fileId: string) =>
  (await t.gql(`query($id: ID!) { fileVersions(fileId: $id) { ${UPLOAD_FIELDS} } }`, { id: fileId })).data?.fileVersions as any[];

const download = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
};

describe('overwrite and versions', () => {
  it('appends versions under one fileId; old versions stay readable', async () => {
    const v1 = randomBytesOf(1000);
    const v2 = await makeJpeg(50, 40);
    const first = (await put(v1, 'report.bin', { folder: '/v', tags: ['draft'] })).data?.uploadFile;
    const second = (await put(v2, 'report.bin', { folder: '/v' })).data?.uploadFile;
    expect(second.fileId).toBe(first.fileId);
    expect(first.versionInfo).toEqual({ id: first.fileId, name: 'Version 1' });
    expect(second.versionInfo.name).toBe('Version 2');
    expect(second.versionInfo.id).not.toBe(first.fileId);
    expect(second).toMatchObject({ fileType: 'IMAGE', width: 50, size: v2.length, tags: null });

    const current = (await t.gql(`query($id: ID!) { file(fileId: $id) { ${UPLOAD_FIELDS} } }`, { id: first.fileId })).data?.file;
    expect(current.versionInfo.id).toBe(second.versionInfo.id);
    expect(Buffer.compare((await download(current.url)).body, v2)).toBe(0);

    const versions = await versionsOf(first.fileId);
    expect(versions.map((v) => [v.versionInfo.name, v.isCurrentVersion])).toEqual([
      ['Version 1', false],
      ['Version 2', true],
    ]);
    expect(versions[0].tags).toEqual(['draft']);
    expect(versions[0].url).toBe(`${first.url}?ik-obj-version=${first.fileId}`);
    expect(Buffer.compare((await download(versions[0].url)).body, v1)).toBe(0);

    const one = await t.gql(`query($f: ID!, $v: ID!) { fileVersion(fileId: $f, versionId: $v) { size versionInfo { name } } }`, { f: first.fileId, v: first.fileId });
    expect(one.data?.fileVersion).toEqual({ size: 1000, versionInfo: { name: 'Version 1' } });
  });

  it('refuses with FILE_ALREADY_EXISTS when overwriteFile is false, writing nothing', async () => {
    const first = (await put(randomBytesOf(10), 'keep.bin')).data?.uploadFile;
    const res = await put(randomBytesOf(20), 'keep.bin', { overwriteFile: false });
    expect(res.errors?.[0]).toMatchObject({
      message: 'A file with the same name already exists at the exact location. We could not overwrite it because both overwriteFile and useUniqueFileName are set to false.',
      extensions: { code: 'FILE_ALREADY_EXISTS', status: 400 },
    });
    expect(await versionsOf(first.fileId)).toHaveLength(1);
    const fresh = await put(randomBytesOf(20), 'new-one.bin', { overwriteFile: false });
    expect(fresh.errors).toBeUndefined();
  });

  it('drops or keeps tags, AI tags and coordinates as ImageKit does', async () => {
    const img = await makeJpeg(100, 100);
    await put(img, 'tagged.jpg', { tags: ['a', 'b'], customCoordinates: '1,1,10,10' });
    const kept = (await put(img, 'tagged.jpg', { overwriteTags: false })).data?.uploadFile;
    expect(kept.tags).toEqual(['a', 'b']);
    expect(kept.customCoordinates).toBeNull();
    const replaced = (await put(img, 'tagged.jpg', { tags: ['c'], overwriteTags: false })).data?.uploadFile;
    expect(replaced.tags).toEqual(['c']);
    const dropped = (await put(img, 'tagged.jpg', {})).data?.uploadFile;
    expect(dropped.tags).toBeNull();
  });

  it('makes a new file, not a version, with a unique name', async () => {
    const a = (await t.upload(UPLOAD_MUTATION, { file: null, fileName: 'same.bin' }, { path: 'variables.file', data: randomBytesOf(5), filename: 'same.bin' })).data?.uploadFile;
    const b = (await t.upload(UPLOAD_MUTATION, { file: null, fileName: 'same.bin' }, { path: 'variables.file', data: randomBytesOf(5), filename: 'same.bin' })).data?.uploadFile;
    expect(a.fileId).not.toBe(b.fileId);
    expect(a.name).not.toBe(b.name);
  });

  it('serialises concurrent overwrites: N uploads make exactly N versions with unique numbers', async () => {
    const first = (await put(randomBytesOf(10), 'busy.bin')).data?.uploadFile;
    const n = 12;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => put(randomBytesOf(3000 + i), 'busy.bin')));
    expect(results.every((r) => !r.errors)).toBe(true);
    const versions = await versionsOf(first.fileId);
    expect(versions).toHaveLength(n + 1);
    expect(new Set(versions.map((v) => v.versionInfo.name)).size).toBe(n + 1);
    expect(versions.map((v) => v.versionInfo.name)).toEqual(Array.from({ length: n + 1 }, (_, i) => `Version ${i + 1}`));
    const sizes = new Set(versions.slice(1).map((v) => v.size));
    expect(sizes.size).toBe(n);
  });

  it('refuses the 101st version with VERSION_LIMIT_REACHED and keeps the 100th current', async () => {
    const first = (await put(Buffer.from('v1'), 'hundred.txt')).data?.uploadFile;
    for (let i = 2; i <= 100; i += 11) {
      const batch = Array.from({ length: Math.min(11, 101 - i) }, (_, k) => put(Buffer.from(`v${i + k}`), 'hundred.txt'));
      for (const r of await Promise.all(batch)) expect(r.errors).toBeUndefined();
    }
    const res = await put(Buffer.from('v101'), 'hundred.txt');
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'VERSION_LIMIT_REACHED', status: 400, details: { maxVersions: 100 } });
    const current = (await t.gql('query($id: ID!) { file(fileId: $id) { versionInfo { name } url } }', { id: first.fileId })).data?.file;
    expect(current.versionInfo.name).toBe('Version 100');
    expect((await download(current.url)).body.toString()).toMatch(/^v\d+$/);
  });

  it('answers NOT_FOUND and BAD_REQUEST for unknown or malformed ids', async () => {
    const missing = await t.gql('{ file(fileId: "0123456789abcdef01234567") { fileId } }');
    expect(missing.data?.file).toBeNull();
    expect(missing.errors?.[0]).toMatchObject({ message: 'The requested file does not exist.', extensions: { code: 'NOT_FOUND', status: 404 } });
    const bad = await t.gql('{ fileVersions(fileId: "nope") { fileId } }');
    expect(bad.errors?.[0]).toMatchObject({ message: 'Your request contains invalid fileId parameter.', extensions: { code: 'BAD_REQUEST', parameter: 'fileId' } });
    const first = (await put(Buffer.from('x'), 'vv.txt')).data?.uploadFile;
    const noVersion = await t.gql('query($f: ID!) { fileVersion(fileId: $f, versionId: "0123456789abcdef01234567") { fileId } }', { f: first.fileId });
    expect(noVersion.errors?.[0]).toMatchObject({ message: 'The requested file version does not exist.', extensions: { code: 'NOT_FOUND' } });
  });

  it('lists a folder\'s files without its subfolders', async () => {
    await put(Buffer.from('a'), 'a.txt', { folder: '/list' });
    await put(Buffer.from('b'), 'b.txt', { folder: '/list/sub' });
    const res = await t.gql('{ files(path: "/list/") { nodes { name ... on File { filePath } } } }');
    expect(res.data?.files.nodes).toEqual([{ name: 'a.txt', filePath: '/list/a.txt' }]);
    const bad = await t.gql('{ files(path: "/list", first: 0) { totalCount } }');
    expect(bad.errors?.[0]).toMatchObject({ message: 'Minimum value of first parameter is 1. Value sent is 0.', extensions: { parameter: 'first' } });
  });
});
