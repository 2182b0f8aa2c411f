import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

// The real local models end to end through uploadFile: no test doubles.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ STOWAGE_AUTO_TAG_SYNC_MS: '60000' });
});
afterAll(() => t.close());

const UPLOAD = `mutation($file: Upload!, $extensions: [ExtensionInput!]) {
  uploadFile(file: $file, fileName: "photo.jpg", useUniqueFileName: false, extensions: $extensions) { fileId extensionStatus AITags { name confidence source } } }`;

describe('extensions with the local models', () => {
  it('auto-tags a photo of a person: the label comes from the detector', async () => {
    const photo = await fs.readFile(path.resolve('test/fixtures/person-at-table.jpg'));
    const res = await t.upload(UPLOAD, { file: null, extensions: [{ awsAutoTagging: { maxTags: 10, minConfidence: 20 } }] }, { path: 'variables.file', data: photo, filename: 'photo.jpg' });
    expect(res.errors).toBeUndefined();
    const file = res.data?.uploadFile;
    expect(file.extensionStatus).toEqual({ 'aws-auto-tagging': 'success' });
    const person = file.AITags.find((tag: { name: string }) => tag.name.toLowerCase() === 'person');
    expect(person).toMatchObject({ source: 'aws-auto-tagging' });
    expect(person.confidence).toBeGreaterThanOrEqual(20);
    for (const tag of file.AITags) expect(tag.confidence).toBeGreaterThanOrEqual(20);
  });

  it('removes the background into a new PNG version with transparent corners', async () => {
    const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#d8e4ef' } })
      .composite([{ input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><circle cx="160" cy="120" r="70" fill="#c62828"/></svg>') }])
      .jpeg()
      .toBuffer();
    const res = await t.upload(UPLOAD.replace('"photo.jpg"', '"disc.jpg"'), { file: null, extensions: [{ removeBg: {} }] }, { path: 'variables.file', data: photo, filename: 'disc.jpg' });
    const fileId = res.data?.uploadFile.fileId;
    expect(res.data?.uploadFile.extensionStatus).toEqual({ 'remove-bg': 'pending' });
    await expect
      .poll(async () => (await t.gql('query($id: ID!) { file(fileId: $id) { extensionStatus } }', { id: fileId })).data?.file.extensionStatus['remove-bg'], { timeout: 90_000, interval: 500 })
      .toBe('success');
    const current = (await t.gql('query($id: ID!) { file(fileId: $id) { url mime versionInfo { name } } }', { id: fileId })).data?.file;
    expect(current).toMatchObject({ mime: 'image/png', versionInfo: { name: 'Version 2' } });
    const { data, info } = await sharp(Buffer.from(await (await fetch(current.url)).arrayBuffer())).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const alphaAt = (x: number, y: number) => data[(y * info.width + x) * 4 + 3] as number;
    expect(alphaAt(2, 2)).toBeLessThan(30);
    expect(alphaAt(info.width - 3, info.height - 3)).toBeLessThan(30);
    expect(alphaAt(160, 120)).toBeGreaterThan(200);
  }, 120_000);
});
