import ImageKit, { AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError } from '@imagekit/nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../helpers/fixtures.js';
import { basicAuth, startTestApp, TEST_KEY, type TestApp } from '../helpers/test-app.js';
import { createTestModels } from '../helpers/test-models.js';

// ImageKit's own Node SDK, pointed at Stowage with `baseURL`, calling the Media API as an ImageKit user's code
// would. Files are seeded through GraphQL uploads, so these tests stand on their own.

let t: TestApp;
let ik: ImageKit;

beforeAll(async () => {
  t = await startTestApp({}, { models: createTestModels().models });
  ik = new ImageKit({ privateKey: TEST_KEY, baseURL: t.url, maxRetries: 0 });
});
afterAll(() => t.close());

interface Seeded {
  fileId: string;
  name: string;
  filePath: string;
  url: string;
  versionInfo: { id: string; name: string };
}

/** Uploads a JPEG through GraphQL at `folder`/`fileName` (a new version when the path exists). */
async function seed(fileName: string, folder = '/', options: { tags?: string[]; width?: number; color?: string } = {}): Promise<Seeded> {
  const res = await t.upload(
    `mutation($file: Upload!, $fileName: String!, $folder: String, $tags: [String!]) {
      uploadFile(file: $file, fileName: $fileName, folder: $folder, tags: $tags, useUniqueFileName: false) { fileId name filePath url versionInfo { id name } } }`,
    { file: null, fileName, folder, tags: options.tags ?? null },
    { path: 'variables.file', data: await makeJpeg(options.width ?? 64, 48, { color: options.color }), filename: fileName, type: 'image/jpeg' },
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data?.uploadFile as Seeded;
}

/** The rejection of `promise`, which must fail. */
async function failure(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const names = (rows: { name?: string }[]) => rows.map((r) => r.name);

describe('authentication', () => {
  it('refuses a wrong private key with the SDK\'s permission error (403) and a missing one with its authentication error (401)', async () => {
    const f = await seed('auth.jpg', '/sdk-auth');
    const wrong = new ImageKit({ privateKey: 'private_wrong_key', baseURL: t.url, maxRetries: 0 });
    const denied = await failure(wrong.files.get(f.fileId));
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect(denied.status).toBe(403);
    expect(denied.error).toMatchObject({ message: 'Your account cannot be authenticated.' });

    const missing = await failure(ik.files.get(f.fileId, { headers: { Authorization: basicAuth('', 'do_not_set') } }));
    expect(missing).toBeInstanceOf(AuthenticationError);
    expect(missing.error).toMatchObject({ message: 'Your request does not contain private API key.' });
  });

  it('answers an unknown /v1 path with a 404 JSON error', async () => {
    const res = await fetch(`${t.url}/v1/nothing/here`, { headers: { authorization: basicAuth() } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ message: expect.stringContaining('/v1/nothing/here'), help: expect.any(String) });
  });
});

describe('file details', () => {
  it('gets a file as ImageKit\'s file object', async () => {
    const f = await seed('details.jpg', '/sdk-details');
    const file = await ik.files.get(f.fileId);
    expect(file).toMatchObject({
      type: 'file',
      fileId: f.fileId,
      name: 'details.jpg',
      filePath: '/sdk-details/details.jpg',
      url: f.url,
      fileType: 'image',
      mime: 'image/jpeg',
      width: 64,
      height: 48,
      tags: null,
      AITags: null,
      customCoordinates: null,
      customMetadata: {},
      isPrivateFile: false,
      isPublished: true,
      versionInfo: { id: f.fileId, name: 'Version 1' },
    });
    expect(new Date(file.createdAt as string).toISOString()).toBe(file.createdAt);

    const unknown = await failure(ik.files.get('0123456789abcdef01234567'));
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown.error).toMatchObject({ message: 'The requested file does not exist.' });
    const malformed = await failure(ik.files.get('not-an-id'));
    expect(malformed).toBeInstanceOf(BadRequestError);
    expect(malformed.error).toMatchObject({ message: 'Your request contains invalid fileId parameter.' });
  });

  it('updates tags, custom coordinates, description and custom metadata (with a field made through the SDK), and removes with null', async () => {
    await ik.customMetadataFields.create({ name: 'brand', label: 'Brand', schema: { type: 'Text', maxLength: 20 } });
    const f = await seed('update.jpg', '/sdk-update');
    const updated = await ik.files.update(f.fileId, { tags: ['summer', 'sale'], customCoordinates: '1,2,10,10', description: 'A blue square', customMetadata: { brand: 'Acme' } });
    expect(updated).toMatchObject({ fileId: f.fileId, tags: ['summer', 'sale'], customCoordinates: '1,2,10,10', description: 'A blue square', customMetadata: { brand: 'Acme' } });
    expect(await ik.files.get(f.fileId)).toMatchObject({ tags: ['summer', 'sale'], customMetadata: { brand: 'Acme' } });

    const cleared = await ik.files.update(f.fileId, { tags: null, customCoordinates: null, customMetadata: { brand: null } });
    expect(cleared).toMatchObject({ tags: null, customCoordinates: null, customMetadata: {}, description: 'A blue square' });

    const tooLong = await failure(ik.files.update(f.fileId, { customMetadata: { brand: 'x'.repeat(21) } }));
    expect(tooLong).toBeInstanceOf(BadRequestError);
    expect(tooLong.error.message).toMatch(/brand/);
    const unknownField = await failure(ik.files.update(f.fileId, { customMetadata: { nope: 1 } }));
    expect(unknownField).toBeInstanceOf(BadRequestError);
  });

  it('publishes and unpublishes, and refuses publish mixed with other changes', async () => {
    const f = await seed('draft.jpg', '/sdk-publish');
    const off = await ik.files.update(f.fileId, { publish: { isPublished: false } });
    expect(off).toMatchObject({ isPublished: false });
    expect((await fetch(f.url)).status).toBe(404);
    const on = await ik.files.update(f.fileId, { publish: { isPublished: true, includeFileVersions: true } });
    expect(on).toMatchObject({ isPublished: true });
    expect((await fetch(f.url)).status).toBe(200);

    const mixed = await failure(ik.files.update(f.fileId, { tags: ['x'], publish: { isPublished: false } } as never));
    expect(mixed).toBeInstanceOf(BadRequestError);
    expect(mixed.error).toMatchObject({ message: 'Your request cannot contain any other parameters when publish is present' });
  });
});

describe('list and search', () => {
  beforeAll(async () => {
    await seed('b-red.jpg', '/sdk-list', { tags: ['red'], width: 30 });
    await seed('a-blue.jpg', '/sdk-list', { tags: ['blue'], width: 20 });
    await seed('c-red.jpg', '/sdk-list', { tags: ['red', 'big'], width: 10 });
    await seed('inner.jpg', '/sdk-list/inner', { tags: ['red'] });
  });

  it('lists one folder (not its subfolders), sorted, with skip and limit', async () => {
    expect(names(await ik.assets.list({ path: '/sdk-list', sort: 'ASC_NAME' }))).toEqual(['a-blue.jpg', 'b-red.jpg', 'c-red.jpg']);
    expect(names(await ik.assets.list({ path: '/sdk-list/', sort: 'DESC_NAME', skip: 1, limit: 1 }))).toEqual(['b-red.jpg']);
    expect(names(await ik.assets.list({ path: '/sdk-list', sort: 'ASC_WIDTH', skip: 5 }))).toEqual([]);
    expect(names(await ik.assets.list({ path: '/sdk-list', sort: 'ASC_WIDTH' }))).toEqual(['c-red.jpg', 'a-blue.jpg', 'b-red.jpg']);
  });

  it('searches with searchQuery', async () => {
    const red = await ik.assets.list({ searchQuery: 'tags IN ["red"] AND name : "c-"', sort: 'ASC_NAME' });
    expect(names(red)).toEqual(['c-red.jpg']);
    const inFolder = await ik.assets.list({ path: '/sdk-list', searchQuery: 'tags IN ["red"]', sort: 'ASC_NAME' });
    expect(names(inFolder)).toEqual(['b-red.jpg', 'c-red.jpg']);
    expect(inFolder[0]).toMatchObject({ type: 'file', filePath: '/sdk-list/b-red.jpg', tags: ['red'] });
  });

  it('lists folders as ImageKit\'s folder objects', async () => {
    const folders = await ik.assets.list({ path: '/sdk-list', type: 'folder' });
    expect(folders).toEqual([
      { type: 'folder', folderId: expect.stringMatching(/^[0-9a-f]{24}$/), name: 'inner', folderPath: '/sdk-list/inner', createdAt: expect.any(String), updatedAt: expect.any(String), customMetadata: {} },
    ]);
    expect(names(await ik.assets.list({ path: '/sdk-list', type: 'all', sort: 'ASC_NAME' }))).toEqual(['a-blue.jpg', 'b-red.jpg', 'c-red.jpg', 'inner']);
  });

  it('answers bad parameters with ImageKit\'s messages', async () => {
    const limit = await failure(ik.assets.list({ limit: 2000 }));
    expect(limit).toBeInstanceOf(BadRequestError);
    expect(limit.error.message).toBe('Maximum value of limit parameter is 1000. Value sent is 2000.');
    expect((await failure(ik.assets.list({ skip: -1 }))).error.message).toBe('The value of skip parameter should be greater than or equal to 0. Value sent is -1.');
    expect((await failure(ik.assets.list({ sort: 'ASC_COLOUR' as never }))).error.message).toBe('Your request contains invalid value for sort parameters.');
    expect((await failure(ik.assets.list({ type: 'everything' as never }))).error.message).toBe(
      'Your request contains invalid value for type parameter. Please provide one of the following: file, file-version, folder, all.',
    );
    expect(await failure(ik.assets.list({ searchQuery: 'name = ' }))).toBeInstanceOf(BadRequestError);
  });
});

describe('versions', () => {
  it('lists, gets, restores and deletes versions', async () => {
    const v1 = await seed('versioned.jpg', '/sdk-versions', { color: '#ff0000' });
    const v2 = await seed('versioned.jpg', '/sdk-versions', { color: '#00ff00' });
    expect(v2.fileId).toBe(v1.fileId);
    const fileId = v1.fileId;

    const versions = await ik.files.versions.list(fileId);
    expect(versions.map((v) => [v.type, v.versionInfo?.name])).toEqual([
      ['file-version', 'Version 1'],
      ['file', 'Version 2'],
    ]);
    expect(versions[0]?.url).toContain('ik-obj-version=');

    const first = await ik.files.versions.get(v1.versionInfo.id, { fileId });
    expect(first).toMatchObject({ type: 'file-version', fileId, versionInfo: { id: v1.versionInfo.id, name: 'Version 1' } });
    const unknownVersion = await failure(ik.files.versions.get('0123456789abcdef01234567', { fileId }));
    expect(unknownVersion).toBeInstanceOf(NotFoundError);
    expect(unknownVersion.error.message).toBe('The requested file version does not exist.');

    const restored = await ik.files.versions.restore(v1.versionInfo.id, { fileId });
    expect(restored).toMatchObject({ type: 'file', fileId, versionInfo: { id: v1.versionInfo.id } });
    expect((await ik.files.get(fileId)).versionInfo?.id).toBe(v1.versionInfo.id);

    const current = await failure(ik.files.versions.delete(v1.versionInfo.id, { fileId }));
    expect(current).toBeInstanceOf(BadRequestError);
    expect(current.error.message).toBe('You cannot delete current version of a file.');
    await ik.files.versions.delete(v2.versionInfo.id, { fileId });
    expect((await ik.files.versions.list(fileId)).map((v) => v.versionInfo?.id)).toEqual([v1.versionInfo.id]);
  });
});

describe('deleting', () => {
  it('deletes one file', async () => {
    const f = await seed('gone.jpg', '/sdk-delete');
    await ik.files.delete(f.fileId);
    expect(await failure(ik.files.get(f.fileId))).toBeInstanceOf(NotFoundError);
    expect((await fetch(f.url)).status).toBe(404);
    expect(await failure(ik.files.delete(f.fileId))).toBeInstanceOf(NotFoundError);
  });

  it('bulk-deletes, reports missing ids (207), and answers 404 when none exist', async () => {
    const a = await seed('bulk-a.jpg', '/sdk-delete');
    const b = await seed('bulk-b.jpg', '/sdk-delete');
    const c = await seed('bulk-c.jpg', '/sdk-delete');
    const both = await ik.files.bulk.delete({ fileIds: [a.fileId, b.fileId] });
    expect(both.successfullyDeletedFileIds?.sort()).toEqual([a.fileId, b.fileId].sort());
    expect(await failure(ik.files.get(b.fileId))).toBeInstanceOf(NotFoundError);
    const missing = '0123456789abcdef01234567';
    const { data, response } = await ik.files.bulk.delete({ fileIds: [c.fileId, missing] }).withResponse();
    expect(response.status).toBe(207);
    expect(data).toEqual({ successfullyDeletedFileIds: [c.fileId], errors: [{ fileId: missing, error: 'The requested file does not exist.' }] });
    const none = await failure(ik.files.bulk.delete({ fileIds: [missing] }));
    expect(none).toBeInstanceOf(NotFoundError);
    expect(none.error).toMatchObject({ message: 'The requested file(s) does not exist.', missingFileIds: [missing] });
  });
});

describe('tags in bulk', () => {
  it('adds and removes tags on several files, all or nothing', async () => {
    const a = await seed('tag-a.jpg', '/sdk-tags', { tags: ['old'] });
    const b = await seed('tag-b.jpg', '/sdk-tags');
    expect(await ik.files.bulk.addTags({ fileIds: [a.fileId, b.fileId], tags: ['new', 'shiny'] })).toEqual({ successfullyUpdatedFileIds: [a.fileId, b.fileId] });
    expect((await ik.files.get(a.fileId)).tags).toEqual(['old', 'new', 'shiny']);
    expect((await ik.files.get(b.fileId)).tags).toEqual(['new', 'shiny']);
    expect(await ik.files.bulk.removeTags({ fileIds: [a.fileId, b.fileId], tags: ['old', 'shiny'] })).toEqual({ successfullyUpdatedFileIds: [a.fileId, b.fileId] });
    expect((await ik.files.get(a.fileId)).tags).toEqual(['new']);

    const missing = await failure(ik.files.bulk.addTags({ fileIds: [a.fileId, '0123456789abcdef01234567'], tags: ['never'] }));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.error.missingFileIds).toEqual(['0123456789abcdef01234567']);
    expect((await ik.files.get(a.fileId)).tags).toEqual(['new']);

  });

  it('runs extensions on update, and removes AI tags in bulk and on update', async () => {
    const a = await seed('ai-a.jpg', '/sdk-ai');
    const b = await seed('ai-b.jpg', '/sdk-ai');
    for (const f of [a, b]) {
      const tagged = await ik.files.update(f.fileId, { extensions: [{ name: 'google-auto-tagging', maxTags: 5, minConfidence: 50 }] });
      expect(tagged).toMatchObject({ extensionStatus: { 'google-auto-tagging': 'success' }, AITags: [{ name: 'Sky', source: 'google-auto-tagging' }, { name: 'Blue' }] });
    }
    expect(await ik.files.bulk.removeAITags({ fileIds: [a.fileId, b.fileId], AITags: ['Sky'] })).toEqual({ successfullyUpdatedFileIds: [a.fileId, b.fileId] });
    expect((await ik.files.get(a.fileId)).AITags?.map((tag) => tag.name)).toEqual(['Blue']);
    expect((await ik.files.get(b.fileId)).AITags?.map((tag) => tag.name)).toEqual(['Blue']);
    expect(await ik.files.update(a.fileId, { removeAITags: 'all' })).toMatchObject({ AITags: null });
    const bad = await failure(ik.files.update(a.fileId, { extensions: [{ name: 'google-auto-tagging', maxTags: 50, minConfidence: 50 }] }));
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad.error.message).toMatch(/maxTags/);
  });
});

describe('copy, move and rename', () => {
  it('copies a file to a new file with its own bytes, and onto a file of the same name as a new version', async () => {
    const source = await seed('copy-me.jpg', '/sdk-copy/src', { tags: ['kept'] });
    await seed('copy-me.jpg', '/sdk-copy/src', { color: '#000000' });
    await ik.files.copy({ sourceFilePath: '/sdk-copy/src/copy-me.jpg', destinationPath: '/sdk-copy/dst' });
    const [copy] = await ik.assets.list({ path: '/sdk-copy/dst' });
    expect(copy).toMatchObject({ name: 'copy-me.jpg', filePath: '/sdk-copy/dst/copy-me.jpg', versionInfo: { name: 'Version 1' } });
    expect((copy as { fileId: string }).fileId).not.toBe(source.fileId);
    const original = await fetch((await ik.files.get(source.fileId)).url as string);
    const copied = await fetch((copy as { url: string }).url);
    expect(Buffer.from(await copied.arrayBuffer())).toEqual(Buffer.from(await original.arrayBuffer()));

    await ik.files.copy({ sourceFilePath: '/sdk-copy/src/copy-me.jpg', destinationPath: '/sdk-copy/all', includeFileVersions: true });
    const [all] = await ik.assets.list({ path: '/sdk-copy/all' });
    expect((await ik.files.versions.list((all as { fileId: string }).fileId)).map((v) => v.versionInfo?.name)).toEqual(['Version 1', 'Version 2']);

    await ik.files.copy({ sourceFilePath: '/sdk-copy/src/copy-me.jpg', destinationPath: '/sdk-copy/dst' });
    const again = await ik.files.versions.list((copy as { fileId: string }).fileId);
    expect(again.map((v) => [v.type, v.versionInfo?.name])).toEqual([
      ['file-version', 'Version 1'],
      ['file', 'Version 2'],
    ]);

    const missing = await failure(ik.files.copy({ sourceFilePath: '/sdk-copy/nothing.jpg', destinationPath: '/sdk-copy/dst' }));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.error).toMatchObject({ message: 'No file found with filePath /sdk-copy/nothing.jpg', reason: 'SOURCE_FILE_MISSING' });
  });

  it('moves a file into another folder', async () => {
    const f = await seed('move-me.jpg', '/sdk-move/from');
    await ik.files.move({ sourceFilePath: '/sdk-move/from/move-me.jpg', destinationPath: '/sdk-move/to/' });
    expect(await ik.files.get(f.fileId)).toMatchObject({ filePath: '/sdk-move/to/move-me.jpg' });
    expect(await ik.assets.list({ path: '/sdk-move/from' })).toEqual([]);
  });

  it('renames a file, refusing a name that is taken', async () => {
    const f = await seed('before.jpg', '/sdk-rename');
    await seed('taken.jpg', '/sdk-rename');
    expect(await ik.files.rename({ filePath: '/sdk-rename/before.jpg', newFileName: 'after name.jpg' })).toEqual({});
    expect(await ik.files.get(f.fileId)).toMatchObject({ name: 'after_name.jpg', filePath: '/sdk-rename/after_name.jpg' });
    const taken = await failure(ik.files.rename({ filePath: '/sdk-rename/after_name.jpg', newFileName: 'taken.jpg' }));
    expect(taken).toBeInstanceOf(BadRequestError);
    expect(taken.error).toMatchObject({ message: 'File with name taken.jpg already exists at the same location.', reason: 'FILE_ALREADY_EXISTS' });
  });
});

describe('folders', () => {
  it('creates and deletes folders (with everything in them)', async () => {
    expect(await ik.folders.create({ folderName: 'made', parentFolderPath: '/sdk-folders/parent/' })).toEqual({});
    expect(await ik.folders.create({ folderName: 'summer sale!', parentFolderPath: '/sdk-folders/parent/' })).toEqual({});
    expect(names(await ik.assets.list({ path: '/sdk-folders/parent', type: 'folder', sort: 'ASC_NAME' }))).toEqual(['made', 'summer_sale_']);
    await ik.folders.delete({ folderPath: '/sdk-folders/parent/summer_sale_' });
    const inside = await seed('inside.jpg', '/sdk-folders/parent/made');
    await ik.folders.delete({ folderPath: '/sdk-folders/parent/made/' });
    expect(await ik.assets.list({ path: '/sdk-folders/parent', type: 'all' })).toEqual([]);
    expect(await failure(ik.files.get(inside.fileId))).toBeInstanceOf(NotFoundError);
    const missing = await failure(ik.folders.delete({ folderPath: '/sdk-folders/never' }));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.error.message).toBe('No folder found with folderPath /sdk-folders/never');
  });

  it('copies and moves folders as bulk jobs that have completed when the call returns', async () => {
    const top = await seed('top.jpg', '/sdk-jobs/src');
    await seed('deep.jpg', '/sdk-jobs/src/sub');
    await ik.folders.create({ folderName: 'empty', parentFolderPath: '/sdk-jobs/src' });

    const copyJob = await ik.folders.copy({ sourceFolderPath: '/sdk-jobs/src', destinationPath: '/sdk-jobs/copies' });
    expect(await ik.folders.job.get(copyJob.jobId)).toEqual({ jobId: copyJob.jobId, type: 'COPY_FOLDER', status: 'Completed' });
    expect(names(await ik.assets.list({ path: '/sdk-jobs/copies/src', type: 'all', sort: 'ASC_NAME' }))).toEqual(['empty', 'sub', 'top.jpg']);
    expect(names(await ik.assets.list({ path: '/sdk-jobs/copies/src/sub' }))).toEqual(['deep.jpg']);
    expect(names(await ik.assets.list({ path: '/sdk-jobs/src', sort: 'ASC_NAME' }))).toEqual(['top.jpg']);

    const moveJob = await ik.folders.move({ sourceFolderPath: '/sdk-jobs/src', destinationPath: '/sdk-jobs/moved' });
    expect(await ik.folders.job.get(moveJob.jobId)).toEqual({ jobId: moveJob.jobId, type: 'MOVE_FOLDER', status: 'Completed' });
    expect(await ik.files.get(top.fileId)).toMatchObject({ filePath: '/sdk-jobs/moved/src/top.jpg' });
    expect(names(await ik.assets.list({ path: '/sdk-jobs/moved/src/sub' }))).toEqual(['deep.jpg']);
    expect(names(await ik.assets.list({ path: '/sdk-jobs', type: 'folder', sort: 'ASC_NAME' }))).toEqual(['copies', 'moved']);

    const renameJob = await ik.folders.rename({ folderPath: '/sdk-jobs/moved/src', newFolderName: 'renamed src' });
    expect(await ik.folders.job.get(renameJob.jobId)).toEqual({ jobId: renameJob.jobId, type: 'RENAME_FOLDER', status: 'Completed' });
    expect(await ik.files.get(top.fileId)).toMatchObject({ filePath: '/sdk-jobs/moved/renamed_src/top.jpg' });

    const unknown = await failure(ik.folders.job.get(`${copyJob.jobId.slice(0, -1)}${copyJob.jobId.endsWith('0') ? '1' : '0'}`));
    expect(unknown).toBeInstanceOf(NotFoundError);
    const intoItself = await failure(ik.folders.move({ sourceFolderPath: '/sdk-jobs/moved', destinationPath: '/sdk-jobs/moved/src' }));
    expect(intoItself).toBeInstanceOf(BadRequestError);
  });
});

describe('custom metadata fields', () => {
  it('creates, lists, updates and deletes fields', async () => {
    const field = await ik.customMetadataFields.create({ name: 'price', label: 'Price', schema: { type: 'Number', minValue: 1, maxValue: 3000 }, description: 'In euros' });
    expect(field).toEqual({ id: expect.stringMatching(/^[0-9a-f]{24}$/), name: 'price', label: 'Price', schema: { type: 'Number', minValue: 1, maxValue: 3000 }, description: 'In euros' });
    expect((await ik.customMetadataFields.list()).map((f) => f.name)).toContain('price');

    const updated = await ik.customMetadataFields.update(field.id, { label: 'Unit price', schema: { minValue: 10, maxValue: 5000 } });
    expect(updated).toMatchObject({ id: field.id, name: 'price', label: 'Unit price', schema: { type: 'Number', minValue: 10, maxValue: 5000 } });

    const invalid = await failure(ik.customMetadataFields.create({ name: 'size', label: 'Size', schema: { type: 'Text', minValue: 3 } }));
    expect(invalid).toBeInstanceOf(BadRequestError);
    expect(invalid.error.errors).toEqual({ minValue: 'not allowed for this type' });

    await ik.customMetadataFields.delete(field.id);
    expect((await ik.customMetadataFields.list()).map((f) => f.name)).not.toContain('price');
    expect((await ik.customMetadataFields.list({ includeDeleted: true })).map((f) => f.name)).toContain('price');
    const reused = await failure(ik.customMetadataFields.create({ name: 'price', label: 'Price again', schema: { type: 'Number' } }));
    expect(reused).toBeInstanceOf(BadRequestError);
    expect(reused.error.message).toBe('A custom metadata field with this name already exists.');
    const gone = await failure(ik.customMetadataFields.delete('0123456789abcdef01234567'));
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone.error.message).toBe('No such custom metadata field exists.');
  });
});

describe('metadata', () => {
  it('gives a file\'s legacy metadata by fileId and by its URL', async () => {
    const f = await seed('meta.jpg', '/sdk-metadata');
    const byId = await ik.files.metadata.get(f.fileId);
    expect(byId).toMatchObject({ width: 64, height: 48, format: 'jpg', hasTransparency: false, pHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(byId.exif).toMatchObject({ image: expect.any(Object), exif: expect.any(Object), gps: expect.any(Object) });
    expect(await ik.files.metadata.getFromURL({ url: f.url })).toEqual(byId);

    const foreign = await failure(ik.files.metadata.getFromURL({ url: 'https://example.com/meta.jpg' }));
    expect(foreign).toBeInstanceOf(BadRequestError);
    expect(foreign.error.message).toMatch(/^https:\/\/example\.com\/meta\.jpg should be accessible/);
    expect(await failure(ik.files.metadata.getFromURL({ url: `${t.url}/sdk-metadata/none.jpg` }))).toBeInstanceOf(NotFoundError);
  });
});
