import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.gql('mutation { createCustomMetadataField(name: "brand", label: "Brand", schema: { type: Text }) { id } }');
  await t.gql('mutation { createCustomMetadataField(name: "sku", label: "SKU", schema: { type: Text, isValueRequired: true, defaultValue: "none" }) { id } }');
});
afterAll(() => t.close());

const FIELDS = 'fileId name filePath tags customCoordinates customMetadata description isPublished isCurrentVersion url versionInfo { id name }';
const put = async (fileName: string, folder = '/', data?: Buffer) => {
  const res = await t.upload(
    `mutation($file: Upload!, $fileName: String!, $folder: String) { uploadFile(file: $file, fileName: $fileName, folder: $folder, useUniqueFileName: false) { ${FIELDS} } }`,
    { file: null, fileName, folder },
    { path: 'variables.file', data: data ?? (await makeJpeg(100, 80)), filename: fileName },
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data?.uploadFile;
};
const blobCount = async () => (await fs.readdir(path.join(t.dataDir, 'blobs', 'files')).catch(() => [])).length;
const first = (r: { errors?: { message: string; extensions: Record<string, unknown> }[] }) => r.errors?.[0];

describe('updateFileDetails', () => {
  const UPDATE = `mutation($id: ID!, $tags: [String!], $cc: String, $cm: JSONObject, $d: String, $publish: PublishInput) {
    updateFileDetails(fileId: $id, tags: $tags, customCoordinates: $cc, customMetadata: $cm, description: $d, publish: $publish) { ${FIELDS} } }`;

  it('changes what is sent, leaves the rest, and removes with null', async () => {
    const f = await put('details.jpg');
    const a = await t.gql(UPDATE, { id: f.fileId, tags: ['x', 'y'], cc: '1,1,10,10', cm: { brand: 'Acme' }, d: 'hello' });
    expect(a.data?.updateFileDetails).toMatchObject({ tags: ['x', 'y'], customCoordinates: '1,1,10,10', customMetadata: { brand: 'Acme', sku: 'none' }, description: 'hello' });
    const b = await t.gql('mutation($id: ID!) { updateFileDetails(fileId: $id, tags: null, customMetadata: { brand: null }) { tags customMetadata customCoordinates description } }', { id: f.fileId });
    expect(b.data?.updateFileDetails).toEqual({ tags: null, customMetadata: { sku: 'none' }, customCoordinates: '1,1,10,10', description: 'hello' });
  });

  it('validates like uploads and changes nothing on failure', async () => {
    const f = await put('strict.jpg');
    expect(first(await t.gql(UPDATE, { id: f.fileId, tags: ['ok'], cc: '90,0,20,20' }))?.extensions).toMatchObject({ parameter: 'customCoordinates' });
    expect(first(await t.gql(UPDATE, { id: f.fileId, cm: { nope: 1 } }))?.extensions).toMatchObject({ parameter: 'customMetadata' });
    expect(first(await t.gql(UPDATE, { id: f.fileId, cm: { sku: null } }))?.message).toMatch(/sku is required and cannot be removed/);
    expect(first(await t.gql(UPDATE, { id: f.fileId, tags: ['50%'] }))?.extensions).toMatchObject({ parameter: 'tags' });
    const after = await t.gql(`query($id: ID!) { file(fileId: $id) { tags customCoordinates } }`, { id: f.fileId });
    expect(after.data?.file).toEqual({ tags: null, customCoordinates: null });
    expect(first(await t.gql(UPDATE, { id: '0123456789abcdef01234567', tags: ['a'] }))?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('publishes and unpublishes, alone', async () => {
    const f = await put('draft.jpg');
    await put('draft.jpg');
    const mixed = await t.gql(UPDATE, { id: f.fileId, tags: ['a'], publish: { isPublished: false } });
    expect(first(mixed)?.message).toBe('Your request cannot contain any other parameters when publish is present');
    const off = await t.gql(UPDATE, { id: f.fileId, publish: { isPublished: false, includeFileVersions: true } });
    expect(off.data?.updateFileDetails.isPublished).toBe(false);
    expect((await fetch(f.url)).status).toBe(404);
    const versions = await t.gql('query($id: ID!) { fileVersions(fileId: $id) { isPublished } }', { id: f.fileId });
    expect(versions.data?.fileVersions).toEqual([{ isPublished: false }, { isPublished: false }]);
    await t.gql(UPDATE, { id: f.fileId, publish: { isPublished: true } });
    expect((await fetch(f.url)).status).toBe(200);
  });
});

describe('deleting files and versions', () => {
  it('deletes a file with every version and blob', async () => {
    const before = await blobCount();
    const f = await put('gone.jpg');
    await put('gone.jpg');
    expect(await blobCount()).toBe(before + 2);
    expect((await t.gql('mutation($id: ID!) { deleteFile(fileId: $id) }', { id: f.fileId })).data?.deleteFile).toBe(f.fileId);
    expect(await blobCount()).toBe(before);
    expect((await fetch(f.url)).status).toBe(404);
    expect(first(await t.gql('mutation($id: ID!) { deleteFile(fileId: $id) }', { id: f.fileId }))?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('bulk-deletes what exists and reports the rest', async () => {
    const a = await put('bulk-a.jpg');
    const b = await put('bulk-b.jpg');
    const missing = '0123456789abcdef01234567';
    const res = await t.gql('mutation($ids: [ID!]!) { deleteFiles(fileIds: $ids) { successfullyDeletedFileIds missingFileIds } }', { ids: [a.fileId, missing, b.fileId] });
    expect(res.data?.deleteFiles).toEqual({ successfullyDeletedFileIds: expect.arrayContaining([a.fileId, b.fileId]), missingFileIds: [missing] });
  });

  it('restores an old version and deletes only non-current versions', async () => {
    const v1 = await put('history.txt', '/h', Buffer.from('one'));
    const v2 = await put('history.txt', '/h', Buffer.from('two'));
    const restored = await t.gql('mutation($f: ID!, $v: ID!) { restoreFileVersion(fileId: $f, versionId: $v) { versionInfo { name } url } }', { f: v1.fileId, v: v1.versionInfo.id });
    expect(restored.data?.restoreFileVersion.versionInfo.name).toBe('Version 1');
    expect(await (await fetch(restored.data?.restoreFileVersion.url)).text()).toBe('one');
    const refuse = await t.gql('mutation($f: ID!, $v: ID!) { deleteFileVersion(fileId: $f, versionId: $v) }', { f: v1.fileId, v: v1.versionInfo.id });
    expect(first(refuse)).toMatchObject({ message: 'You cannot delete current version of a file.', extensions: { code: 'BAD_REQUEST' } });
    const del = await t.gql('mutation($f: ID!, $v: ID!) { deleteFileVersion(fileId: $f, versionId: $v) }', { f: v1.fileId, v: v2.versionInfo.id });
    expect(del.data?.deleteFileVersion).toBe(v2.versionInfo.id);
    const versions = await t.gql('query($id: ID!) { fileVersions(fileId: $id) { versionInfo { name } } }', { id: v1.fileId });
    expect(versions.data?.fileVersions).toEqual([{ versionInfo: { name: 'Version 1' } }]);
    const v3 = await put('history.txt', '/h', Buffer.from('three'));
    expect(v3.versionInfo.name).toBe('Version 3');
  });
});

describe('rename and move', () => {
  it('renames and moves, keeping versions, refusing clashes', async () => {
    const f = await put('old-name.jpg', '/r');
    await put('old-name.jpg', '/r');
    await put('taken.jpg', '/r');
    const clash = await t.gql('mutation { renameFile(filePath: "/r/old-name.jpg", newFileName: "taken.jpg") { name } }');
    expect(first(clash)).toMatchObject({ message: 'File with name taken.jpg already exists at the same location.', extensions: { code: 'FILE_ALREADY_EXISTS', details: { reason: 'FILE_ALREADY_EXISTS' } } });
    const renamed = await t.gql('mutation { renameFile(filePath: "/r/old-name.jpg", newFileName: "new name.jpg") { fileId name filePath url } }');
    expect(renamed.data?.renameFile).toMatchObject({ fileId: f.fileId, name: 'new_name.jpg', filePath: '/r/new_name.jpg' });
    expect((await fetch(renamed.data?.renameFile.url)).status).toBe(200);
    expect((await fetch(f.url)).status).toBe(404);
    const moved = await t.gql('mutation { moveFile(sourceFilePath: "/r/new_name.jpg", destinationPath: "/archive/2026") { filePath } }');
    expect(moved.data?.moveFile.filePath).toBe('/archive/2026/new_name.jpg');
    const versions = await t.gql('query($id: ID!) { fileVersions(fileId: $id) { filePath } }', { id: f.fileId });
    expect(versions.data?.fileVersions).toEqual([{ filePath: '/archive/2026/new_name.jpg' }, { filePath: '/archive/2026/new_name.jpg' }]);
    expect((await t.gql('{ folders(path: "/archive") { name folderPath } }')).data?.folders).toEqual([{ name: '2026', folderPath: '/archive/2026' }]);
    await put('new_name.jpg', '/r');
    const back = await t.gql('mutation { moveFile(sourceFilePath: "/archive/2026/new_name.jpg", destinationPath: "/r") { filePath } }');
    expect(first(back)?.extensions).toMatchObject({ code: 'FILE_ALREADY_EXISTS' });
    const nowhere = await t.gql('mutation { moveFile(sourceFilePath: "/nope.jpg", destinationPath: "/r") { filePath } }');
    expect(first(nowhere)?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('bulk tags', () => {
  it('adds and removes on many files, all or nothing', async () => {
    const a = await put('t-a.jpg', '/tags');
    const b = await put('t-b.jpg', '/tags');
    const add = await t.gql('mutation($ids: [ID!]!) { addTags(fileIds: $ids, tags: ["new", "sale"]) { successfullyUpdatedFileIds } }', { ids: [a.fileId, b.fileId] });
    expect(add.data?.addTags.successfullyUpdatedFileIds).toEqual([a.fileId, b.fileId]);
    const rm = await t.gql('mutation($ids: [ID!]!) { removeTags(fileIds: $ids, tags: ["sale"]) { successfullyUpdatedFileIds } }', { ids: [a.fileId] });
    expect(rm.errors).toBeUndefined();
    const tagsOf = async (id: string) => (await t.gql('query($id: ID!) { file(fileId: $id) { tags } }', { id })).data?.file.tags;
    expect(await tagsOf(a.fileId)).toEqual(['new']);
    expect(await tagsOf(b.fileId)).toEqual(['new', 'sale']);
    const partial = await t.gql('mutation($ids: [ID!]!) { addTags(fileIds: $ids, tags: ["x"]) { successfullyUpdatedFileIds } }', { ids: [a.fileId, '0123456789abcdef01234567'] });
    expect(first(partial)?.extensions).toMatchObject({ code: 'NOT_FOUND', details: { missingFileIds: ['0123456789abcdef01234567'] } });
    expect(await tagsOf(a.fileId)).toEqual(['new']);
  });
});

describe('folders', () => {
  it('creates, lists and deletes folders; non-empty only recursively', async () => {
    const made = await t.gql('mutation { createFolder(folderName: "shoes", parentFolderPath: "/products") { folderId name folderPath type } }');
    expect(made.data?.createFolder).toMatchObject({ name: 'shoes', folderPath: '/products/shoes', type: 'FOLDER' });
    expect((await t.gql('{ folders(path: "/products") { name } }')).data?.folders).toEqual([{ name: 'shoes' }]);
    const again = await t.gql('mutation { createFolder(folderName: "shoes", parentFolderPath: "/products") { folderId } }');
    expect(again.data?.createFolder.folderId).toBe(made.data?.createFolder.folderId);
    expect(first(await t.gql('mutation { createFolder(folderName: "a b") { folderId } }'))?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'folder' });

    const before = await blobCount();
    await put('boot.jpg', '/products/shoes');
    await put('sock.jpg', '/products');
    const refused = await t.gql('mutation { deleteFolder(folderPath: "/products") { deletedFiles } }');
    expect(first(refused)?.extensions).toMatchObject({ code: 'FOLDER_NOT_EMPTY', details: { files: 2, subfolders: 1 } });
    const done = await t.gql('mutation { deleteFolder(folderPath: "/products", recursive: true) { deletedFiles deletedFolders } }');
    expect(done.data?.deleteFolder).toEqual({ deletedFiles: 2, deletedFolders: 2 });
    expect(await blobCount()).toBe(before);
    expect((await t.gql('{ files(path: "/products", recursive: true) { totalCount } }')).data?.files.totalCount).toBe(0);
    expect(first(await t.gql('mutation { deleteFolder(folderPath: "/products") { deletedFiles } }'))?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    await t.gql('mutation { createFolder(folderName: "empty") { folderId } }');
    expect((await t.gql('mutation { deleteFolder(folderPath: "/empty") { deletedFolders } }')).data?.deleteFolder.deletedFolders).toBe(1);
  });
});
