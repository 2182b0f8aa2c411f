import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createTestModels } from '../helpers/test-models.js';

/** copyFile, copyFolder, moveFolder, renameFolder and bulk removeAITags through GraphQL. */

let t: TestApp;
const models = createTestModels();
beforeAll(async () => {
  // A generous budget, so that the stand-in tagger answers within the upload even on a busy machine.
  t = await startTestApp({ STOWAGE_AUTO_TAG_SYNC_MS: '30000' }, { models: models.models });
});
afterAll(() => t.close());

const FIELDS = 'fileId name filePath url tags isCurrentVersion versionInfo { id name }';
const first = (r: { errors?: { message: string; extensions: Record<string, unknown> }[] }) => r.errors?.[0];

/** Uploads `text` as `folder/fileName`, overwriting (a new version) when the file exists. */
const put = async (text: string, fileName: string, folder: string, tags?: string[]) => {
  const res = await t.upload(
    `mutation($file: Upload!, $fileName: String!, $folder: String, $tags: [String!]) { uploadFile(file: $file, fileName: $fileName, folder: $folder, tags: $tags, useUniqueFileName: false) { ${FIELDS} } }`,
    { file: null, fileName, folder, tags },
    { path: 'variables.file', data: Buffer.from(text), filename: fileName, type: 'text/plain' },
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data?.uploadFile;
};

/** What is served at `url`: the status, and the bytes as text. */
const served = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
};

const fileById = async (id: string) => (await t.gql(`query($id: ID!) { file(fileId: $id) { ${FIELDS} } }`, { id })).data?.file;
const versionsOf = async (id: string) => (await t.gql(`query($id: ID!) { fileVersions(fileId: $id) { ${FIELDS} } }`, { id })).data?.fileVersions as any[];

/** Every file under `path` (subfolders included), by filePath. */
const filesUnder = async (path: string) => {
  const res = await t.gql('query($path: String) { files(path: $path, recursive: true) { nodes { ... on File { fileId filePath url } } } }', { path });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return (res.data?.files.nodes as { fileId: string; filePath: string; url: string }[]).sort((a, b) => (a.filePath < b.filePath ? -1 : 1));
};
const folderNames = async (path: string) => ((await t.gql('query($path: String) { folders(path: $path) { name } }', { path })).data?.folders as { name: string }[]).map((f) => f.name);

const COPY_FILE = `mutation($src: String!, $dst: String!, $all: Boolean) { copyFile(sourceFilePath: $src, destinationPath: $dst, includeFileVersions: $all) { ${FIELDS} } }`;
const COPY_FOLDER = 'mutation($src: String!, $dst: String!, $all: Boolean) { copyFolder(sourceFolderPath: $src, destinationPath: $dst, includeVersions: $all) { folderPath files folders } }';
const MOVE_FOLDER = 'mutation($src: String!, $dst: String!) { moveFolder(sourceFolderPath: $src, destinationPath: $dst) { folderPath files folders } }';
const RENAME_FOLDER = 'mutation($path: String!, $name: String!) { renameFolder(folderPath: $path, newFolderName: $name) { folderPath files folders } }';

describe('copyFile', () => {
  it('copies the current version as a new file with its own bytes; the source stays', async () => {
    const source = await put('alpha v1', 'alpha.txt', '/copy-src', ['keep']);
    await put('alpha v2', 'alpha.txt', '/copy-src', ['keep']);
    const res = await t.gql(COPY_FILE, { src: '/copy-src/alpha.txt', dst: '/copy-dst/nested' });
    expect(res.errors).toBeUndefined();
    const copy = res.data?.copyFile;
    expect(copy).toMatchObject({ name: 'alpha.txt', filePath: '/copy-dst/nested/alpha.txt', tags: ['keep'], isCurrentVersion: true, versionInfo: { id: copy.fileId, name: 'Version 1' } });
    expect(copy.fileId).not.toBe(source.fileId);
    expect(await served(copy.url)).toEqual({ status: 200, text: 'alpha v2' });
    expect(await versionsOf(copy.fileId)).toHaveLength(1);
    expect(await folderNames('/copy-dst')).toEqual(['nested']);

    expect(await fileById(source.fileId)).toMatchObject({ filePath: '/copy-src/alpha.txt', versionInfo: { name: 'Version 2' } });
    expect(await served(source.url)).toEqual({ status: 200, text: 'alpha v2' });

    // The copy has bytes of its own: deleting the source leaves it served.
    await t.gql('mutation($id: ID!) { deleteFile(fileId: $id) }', { id: source.fileId });
    expect((await served(source.url)).status).toBe(404);
    expect(await served(copy.url)).toEqual({ status: 200, text: 'alpha v2' });
  });

  it('with includeFileVersions copies every version, the current one staying current', async () => {
    await put('beta v1', 'beta.txt', '/copy-src');
    await put('beta v2', 'beta.txt', '/copy-src');
    await put('beta v3', 'beta.txt', '/copy-src');
    const res = await t.gql(COPY_FILE, { src: '/copy-src/beta.txt', dst: '/copy-all', all: true });
    expect(res.errors).toBeUndefined();
    const copy = res.data?.copyFile;
    expect(copy).toMatchObject({ filePath: '/copy-all/beta.txt', versionInfo: { name: 'Version 3' } });
    const versions = await versionsOf(copy.fileId);
    expect(versions.map((v) => [v.versionInfo.name, v.isCurrentVersion, v.filePath])).toEqual([
      ['Version 1', false, '/copy-all/beta.txt'],
      ['Version 2', false, '/copy-all/beta.txt'],
      ['Version 3', true, '/copy-all/beta.txt'],
    ]);
    expect(await Promise.all(versions.map((v) => served(v.url)))).toEqual(['beta v1', 'beta v2', 'beta v3'].map((text) => ({ status: 200, text })));
  });

  it('onto a file of the same name adds the copied version as its newest', async () => {
    await put('gamma source', 'gamma.txt', '/copy-src');
    const existing = await put('gamma existing', 'gamma.txt', '/copy-onto');
    const res = await t.gql(COPY_FILE, { src: '/copy-src/gamma.txt', dst: '/copy-onto' });
    expect(res.data?.copyFile).toMatchObject({ fileId: existing.fileId, versionInfo: { name: 'Version 2' } });
    expect(await served(existing.url)).toEqual({ status: 200, text: 'gamma source' });
    expect((await versionsOf(existing.fileId)).map((v) => v.isCurrentVersion)).toEqual([false, true]);
  });

  it('answers NOT_FOUND for a missing source', async () => {
    const res = await t.gql(COPY_FILE, { src: '/copy-src/nope.txt', dst: '/copy-dst' });
    expect(res.data).toBeNull();
    expect(first(res)).toMatchObject({
      message: 'No file found with filePath /copy-src/nope.txt',
      extensions: { code: 'NOT_FOUND', status: 404, parameter: 'sourceFilePath', details: { reason: 'SOURCE_FILE_MISSING' } },
    });
  });
});

describe('copyFolder', () => {
  it('copies a folder with its subfolders and files into another folder', async () => {
    await put('top', 'top.txt', '/cf');
    const deep = await put('deep v1', 'deep.txt', '/cf/sub');
    await put('deep v2', 'deep.txt', '/cf/sub');
    await t.gql('mutation { createFolder(folderName: "empty", parentFolderPath: "/cf") { folderId } }');

    const res = await t.gql(COPY_FOLDER, { src: '/cf', dst: '/backup' });
    expect(res.errors).toBeUndefined();
    expect(res.data?.copyFolder).toEqual({ folderPath: '/backup/cf', files: 2, folders: 3 });
    const copies = await filesUnder('/backup');
    expect(copies.map((f) => f.filePath)).toEqual(['/backup/cf/sub/deep.txt', '/backup/cf/top.txt']);
    expect(await Promise.all(copies.map((f) => served(f.url)))).toEqual([
      { status: 200, text: 'deep v2' },
      { status: 200, text: 'top' },
    ]);
    expect(copies.map((f) => f.fileId)).not.toContain(deep.fileId);
    expect(await versionsOf(copies[0]?.fileId as string)).toHaveLength(1);
    expect(await folderNames('/backup/cf')).toEqual(['empty', 'sub']);

    // The source is untouched.
    expect((await filesUnder('/cf')).map((f) => f.filePath)).toEqual(['/cf/sub/deep.txt', '/cf/top.txt']);
    expect(await served(deep.url)).toEqual({ status: 200, text: 'deep v2' });
  });

  it('with includeVersions copies every version of each file', async () => {
    await put('vv1', 'vv.txt', '/cfv/in');
    await put('vv2', 'vv.txt', '/cfv/in');
    const res = await t.gql(COPY_FOLDER, { src: '/cfv/in', dst: '/cfv-copy', all: true });
    expect(res.data?.copyFolder).toEqual({ folderPath: '/cfv-copy/in', files: 1, folders: 1 });
    const [copy] = await filesUnder('/cfv-copy');
    const versions = await versionsOf(copy?.fileId as string);
    expect(await Promise.all(versions.map((v) => served(v.url)))).toEqual(['vv1', 'vv2'].map((text) => ({ status: 200, text })));
  });

  it('refuses a missing folder, the root, and a destination inside the source', async () => {
    const missing = await t.gql(COPY_FOLDER, { src: '/no-such-folder', dst: '/backup' });
    expect(first(missing)?.extensions).toMatchObject({ code: 'NOT_FOUND', status: 404, parameter: 'sourceFolderPath' });
    await put('self', 'self.txt', '/cf-self/inner');
    for (const dst of ['/cf-self', '/cf-self/inner']) {
      const inside = await t.gql(COPY_FOLDER, { src: '/cf-self', dst });
      expect(first(inside)?.extensions).toMatchObject({ code: 'BAD_REQUEST', status: 400, parameter: 'destinationPath' });
    }
    // Into its own parent, the copy would be the folder itself.
    expect(first(await t.gql(COPY_FOLDER, { src: '/cf-self/inner', dst: '/cf-self' }))?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'destinationPath' });
    expect(first(await t.gql(COPY_FOLDER, { src: '/', dst: '/backup' }))?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'sourceFolderPath' });
    expect((await filesUnder('/cf-self')).map((f) => f.filePath)).toEqual(['/cf-self/inner/self.txt']);
  });
});

describe('moveFolder', () => {
  it('moves a folder with its files (all versions) and subfolders; the old paths are gone', async () => {
    const a = await put('move a', 'a.txt', '/mv');
    const b = await put('move b1', 'b.txt', '/mv/inner');
    await put('move b2', 'b.txt', '/mv/inner');
    const oldUrlB = (await fileById(b.fileId)).url;

    const res = await t.gql(MOVE_FOLDER, { src: '/mv', dst: '/archive/2026' });
    expect(res.errors).toBeUndefined();
    expect(res.data?.moveFolder).toEqual({ folderPath: '/archive/2026/mv', files: 2, folders: 2 });

    const movedA = await fileById(a.fileId);
    expect(movedA).toMatchObject({ fileId: a.fileId, filePath: '/archive/2026/mv/a.txt' });
    expect(await served(movedA.url)).toEqual({ status: 200, text: 'move a' });
    const versions = await versionsOf(b.fileId);
    expect(versions.map((v) => v.filePath)).toEqual(['/archive/2026/mv/inner/b.txt', '/archive/2026/mv/inner/b.txt']);
    expect(await Promise.all(versions.map((v) => served(v.url)))).toEqual(['move b1', 'move b2'].map((text) => ({ status: 200, text })));

    expect((await served(a.url)).status).toBe(404);
    expect((await served(oldUrlB)).status).toBe(404);
    expect(await filesUnder('/mv')).toEqual([]);
    expect(await folderNames('/')).not.toContain('mv');
    expect(await folderNames('/archive/2026')).toEqual(['mv']);
    expect(await folderNames('/archive/2026/mv')).toEqual(['inner']);
  });

  it('refuses moving a folder into itself or its subfolder, the root, and a missing folder', async () => {
    await put('stay', 'stay.txt', '/mv-self/sub');
    for (const dst of ['/mv-self', '/mv-self/sub', '/mv-self/sub/deeper']) {
      const res = await t.gql(MOVE_FOLDER, { src: '/mv-self', dst });
      expect(first(res)).toMatchObject({ message: expect.stringContaining('inside the source folder /mv-self'), extensions: { code: 'BAD_REQUEST', status: 400, parameter: 'destinationPath' } });
    }
    expect((await filesUnder('/mv-self')).map((f) => f.filePath)).toEqual(['/mv-self/sub/stay.txt']);
    expect(first(await t.gql(MOVE_FOLDER, { src: '/', dst: '/elsewhere' }))?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'sourceFolderPath' });
    const missing = await t.gql(MOVE_FOLDER, { src: '/no-such-folder', dst: '/archive' });
    expect(first(missing)).toMatchObject({ message: 'No folder found with folderPath /no-such-folder', extensions: { code: 'NOT_FOUND', status: 404, parameter: 'sourceFolderPath' } });
  });

  it('moves nothing when a file would land on another file (FILE_ALREADY_EXISTS)', async () => {
    const free = await put('free', 'free.txt', '/clash');
    await put('clash source', 'same.txt', '/clash');
    await put('clash target', 'same.txt', '/target/clash');
    const res = await t.gql(MOVE_FOLDER, { src: '/clash', dst: '/target' });
    expect(res.data).toBeNull();
    expect(first(res)).toMatchObject({ message: 'File with name same.txt already exists at the same location.', extensions: { code: 'FILE_ALREADY_EXISTS', status: 400 } });
    expect((await filesUnder('/clash')).map((f) => f.filePath)).toEqual(['/clash/free.txt', '/clash/same.txt']);
    expect((await filesUnder('/target')).map((f) => f.filePath)).toEqual(['/target/clash/same.txt']);
    expect(await served(free.url)).toEqual({ status: 200, text: 'free' });
  });
});

describe('renameFolder', () => {
  it('renames a folder in place; its files and subfolders follow', async () => {
    const c = await put('rename c', 'c.txt', '/parent/rn');
    const d = await put('rename d', 'd.txt', '/parent/rn/kid');
    const res = await t.gql(RENAME_FOLDER, { path: '/parent/rn', name: 'new name!' });
    expect(res.errors).toBeUndefined();
    expect(res.data?.renameFolder).toEqual({ folderPath: '/parent/new_name_', files: 2, folders: 2 });
    const moved = await filesUnder('/parent');
    expect(moved.map((f) => [f.fileId, f.filePath])).toEqual([
      [c.fileId, '/parent/new_name_/c.txt'],
      [d.fileId, '/parent/new_name_/kid/d.txt'],
    ]);
    expect(await Promise.all(moved.map((f) => served(f.url)))).toEqual([
      { status: 200, text: 'rename c' },
      { status: 200, text: 'rename d' },
    ]);
    expect((await served(c.url)).status).toBe(404);
    expect((await served(d.url)).status).toBe(404);
    expect(await folderNames('/parent')).toEqual(['new_name_']);
  });

  it('refuses a clash, the root and a missing folder', async () => {
    await put('ra', 'x.txt', '/ra');
    await put('rb', 'x.txt', '/rb');
    const clash = await t.gql(RENAME_FOLDER, { path: '/ra', name: 'rb' });
    expect(first(clash)?.extensions).toMatchObject({ code: 'FILE_ALREADY_EXISTS', status: 400 });
    expect((await filesUnder('/ra')).map((f) => f.filePath)).toEqual(['/ra/x.txt']);
    expect(first(await t.gql(RENAME_FOLDER, { path: '/', name: 'top' }))?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'folderPath' });
    const missing = await t.gql(RENAME_FOLDER, { path: '/no-such-folder', name: 'x' });
    expect(first(missing)?.extensions).toMatchObject({ code: 'NOT_FOUND', status: 404, parameter: 'folderPath' });
  });
});

describe('removeAITags', () => {
  const tagged = async (fileName: string) => {
    const res = await t.upload(
      'mutation($file: Upload!, $fileName: String!, $ext: [ExtensionInput!]) { uploadFile(file: $file, fileName: $fileName, folder: "/ai", useUniqueFileName: false, extensions: $ext) { fileId AITags { name } } }',
      { file: null, fileName, ext: [{ googleAutoTagging: { maxTags: 3, minConfidence: 30 } }] },
      { path: 'variables.file', data: await makeJpeg(32, 24, { color: '#3399ff' }), filename: fileName },
    );
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    expect(res.data?.uploadFile.AITags).toEqual([{ name: 'Sky' }, { name: 'Blue' }, { name: 'Cloud' }]);
    return res.data?.uploadFile.fileId as string;
  };
  const REMOVE = 'mutation($ids: [ID!]!, $tags: [String!]!) { removeAITags(fileIds: $ids, AITags: $tags) { successfullyUpdatedFileIds } }';
  const aiTagsOf = async (id: string) => (await t.gql('query($id: ID!) { file(fileId: $id) { AITags { name source } } }', { id })).data?.file.AITags;

  it('removes AI tags by name from many files, all or nothing', async () => {
    const a = await tagged('ai-a.jpg');
    const b = await tagged('ai-b.jpg');
    const res = await t.gql(REMOVE, { ids: [a, b, a], tags: ['Sky', 'Cloud', 'Absent'] });
    expect(res.errors).toBeUndefined();
    expect(res.data?.removeAITags.successfullyUpdatedFileIds).toEqual([a, b]);
    expect(await aiTagsOf(a)).toEqual([{ name: 'Blue', source: 'google-auto-tagging' }]);
    expect(await aiTagsOf(b)).toEqual([{ name: 'Blue', source: 'google-auto-tagging' }]);

    const missingId = '0123456789abcdef01234567';
    const partial = await t.gql(REMOVE, { ids: [a, missingId], tags: ['Blue'] });
    expect(first(partial)?.extensions).toMatchObject({ code: 'NOT_FOUND', status: 404, parameter: 'fileIds', details: { missingFileIds: [missingId] } });
    expect(await aiTagsOf(a)).toEqual([{ name: 'Blue', source: 'google-auto-tagging' }]);

    const malformed = await t.gql(REMOVE, { ids: [a, 'nope'], tags: ['Blue'] });
    expect(first(malformed)?.extensions).toMatchObject({ code: 'BAD_REQUEST', status: 400, parameter: 'fileId' });

    const last = await t.gql(REMOVE, { ids: [a], tags: ['Blue'] });
    expect(last.data?.removeAITags.successfullyUpdatedFileIds).toEqual([a]);
    expect(await aiTagsOf(a)).toBeNull();
    expect(await aiTagsOf(b)).toEqual([{ name: 'Blue', source: 'google-auto-tagging' }]);
  });
});
