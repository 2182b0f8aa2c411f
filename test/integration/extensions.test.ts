import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeJpeg } from '../helpers/fixtures.js';
import { basicAuth, startTestApp, type TestApp } from '../helpers/test-app.js';
import { createTestModels } from '../helpers/test-models.js';
import { startWebhookReceiver, verifySignatures } from '../helpers/webhook-receiver.js';

const SECRET = 'whsec_test_secret';
const UPLOAD = `mutation($file: Upload!, $fileName: String!, $extensions: [ExtensionInput!], $webhookUrl: String, $useUniqueFileName: Boolean) {
  uploadFile(file: $file, fileName: $fileName, extensions: $extensions, webhookUrl: $webhookUrl, useUniqueFileName: $useUniqueFileName) {
    fileId versionInfo { id name } extensionStatus AITags { name confidence source } } }`;

let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let account: Awaited<ReturnType<typeof startWebhookReceiver>>;
let t: TestApp;
const test = createTestModels();

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  account = await startWebhookReceiver();
  t = await startTestApp(
    { STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_WEBHOOK_SECRET: SECRET, STOWAGE_WEBHOOK_URLS: account.url, STOWAGE_AUTO_TAG_SYNC_MS: '300', STOWAGE_WEBHOOK_RETRY_BASE_MS: '50' },
    { models: test.models },
  );
});
afterAll(async () => {
  await t.close();
  await receiver.close();
  await account.close();
});

const upload = async (vars: Record<string, unknown>) =>
  t.upload(UPLOAD, { file: null, fileName: 'sky.jpg', ...vars }, { path: 'variables.file', data: await makeJpeg(64, 48, { color: '#3399ff' }), filename: 'sky.jpg' });

describe('extensions', () => {
  it('validates extension options', async () => {
    for (const [extensions, message] of [
      [[{ googleAutoTagging: { maxTags: 31, minConfidence: 50 } }], /maxTags must be a whole number from 0 to 30/],
      [[{ awsAutoTagging: { maxTags: 5, minConfidence: 101 } }], /minConfidence must be from 0 to 100/],
      [[{ removeBg: { options: { bg_color: 'fff', bg_image_url: 'https://x.test/a.png' } } }], /mutually exclusive/],
      [[{ removeBg: { options: { bg_color: 'not a colour!' } } }], /bg_color must be a hex colour/],
      [[{ removeBg: {} }, { removeBg: {} }], /listed twice/],
    ] as const) {
      const res = await upload({ extensions });
      expect(res.errors?.[0]).toMatchObject({ message: expect.stringMatching(message), extensions: { code: 'BAD_REQUEST', parameter: 'extensions' } });
    }
    const both = await upload({ extensions: [{ googleAutoTagging: { maxTags: 1, minConfidence: 1 }, removeBg: {} }] });
    expect(both.errors?.[0]?.message).toMatch(/exactly one/i);
  });

  it('tags synchronously within the budget: success in the response, signed webhooks to the account', async () => {
    const res = await upload({ extensions: [{ googleAutoTagging: { maxTags: 5, minConfidence: 50 } }] });
    expect(res.errors).toBeUndefined();
    const file = res.data?.uploadFile;
    expect(file.extensionStatus).toEqual({ 'google-auto-tagging': 'success' });
    expect(file.AITags).toEqual([
      { name: 'Sky', confidence: 95.5, source: 'google-auto-tagging' },
      { name: 'Blue', confidence: 80, source: 'google-auto-tagging' },
    ]);
    await expect.poll(() => account.received.filter((h) => h.json.data?.fileId === file.fileId).map((h) => h.json.type).sort(), { timeout: 10_000 }).toEqual(['file.created', 'file.updated']);
    for (const hook of account.received) expect(verifySignatures(SECRET, hook)).toEqual({ legacy: true, standard: true });
    expect(verifySignatures('whsec_wrong', account.received[0] as never)).toEqual({ legacy: false, standard: false });
  });

  it('answers pending when tagging is slow, then finishes it as a job and calls webhookUrl', async () => {
    test.hold();
    const res = await upload({ extensions: [{ awsAutoTagging: { maxTags: 1, minConfidence: 10 } }], webhookUrl: receiver.url });
    expect(res.data?.uploadFile.extensionStatus).toEqual({ 'aws-auto-tagging': 'pending' });
    test.release();
    await expect.poll(() => receiver.received.find((h) => h.json.service === 'aws-auto-tagging')?.json, { timeout: 10_000 }).toMatchObject({
      service: 'aws-auto-tagging',
      status: 'SUCCESS',
      fileObject: { fileId: res.data?.uploadFile.fileId, AITags: [{ name: 'Sky', confidence: 95.5, source: 'aws-auto-tagging' }], extensionStatus: { 'aws-auto-tagging': 'success' } },
    });
    const hook = receiver.received.find((h) => h.json.service === 'aws-auto-tagging');
    expect(verifySignatures(SECRET, hook as never)).toEqual({ legacy: true, standard: true });
  });

  it('removes the background as a new version; the old version stays', async () => {
    const res = await upload({ fileName: 'cutout.jpg', useUniqueFileName: false, extensions: [{ removeBg: { options: { bg_colour: '81d4fa' } } }], webhookUrl: receiver.url });
    const file = res.data?.uploadFile;
    expect(file.extensionStatus).toEqual({ 'remove-bg': 'pending' });
    await expect.poll(() => receiver.received.find((h) => h.json.service === 'remove-bg' && h.json.fileObject?.fileId === file.fileId)?.json.status, { timeout: 10_000 }).toBe('SUCCESS');
    const versions = await t.gql('query($id: ID!) { fileVersions(fileId: $id) { versionInfo { name } mime isCurrentVersion extensionStatus } }', { id: file.fileId });
    expect(versions.data?.fileVersions).toEqual([
      { versionInfo: { name: 'Version 1' }, mime: 'image/jpeg', isCurrentVersion: false, extensionStatus: { 'remove-bg': 'success' } },
      { versionInfo: { name: 'Version 2' }, mime: 'image/png', isCurrentVersion: true, extensionStatus: { 'remove-bg': 'success' } },
    ]);
    await expect.poll(() => account.received.some((h) => h.json.type === 'file-version.created' && h.json.data.fileId === file.fileId)).toBe(true);
  });

  it('runs extensions and removes AI tags through updateFileDetails', async () => {
    const up = await upload({ fileName: 'later.jpg' });
    const fileId = up.data?.uploadFile.fileId;
    const UPDATE = 'mutation($id: ID!, $ext: [ExtensionInput!], $rm: [String!]) { updateFileDetails(fileId: $id, extensions: $ext, removeAITags: $rm) { extensionStatus AITags { name source } } }';
    const tagged = await t.gql(UPDATE, { id: fileId, ext: [{ googleAutoTagging: { maxTags: 3, minConfidence: 30 } }] });
    expect(tagged.data?.updateFileDetails).toEqual({
      extensionStatus: { 'google-auto-tagging': 'success' },
      AITags: [
        { name: 'Sky', source: 'google-auto-tagging' },
        { name: 'Blue', source: 'google-auto-tagging' },
        { name: 'Cloud', source: 'google-auto-tagging' },
      ],
    });
    const removed = await t.gql(UPDATE, { id: fileId, rm: ['Blue'] });
    expect(removed.data?.updateFileDetails.AITags.map((tag: { name: string }) => tag.name)).toEqual(['Sky', 'Cloud']);
    const all = await t.gql(UPDATE, { id: fileId, rm: ['all'] });
    expect(all.data?.updateFileDetails.AITags).toBeNull();
  });

  it('lists deliveries with their attempts', async () => {
    const res = await t.gql('{ webhookDeliveries(limit: 50) { eventType url status attempts { statusCode error } payload } }');
    const delivered = res.data?.webhookDeliveries.filter((d: { status: string }) => d.status === 'delivered');
    expect(delivered.length).toBeGreaterThan(3);
    expect(delivered[0].attempts[0].statusCode).toBe(200);
    expect(JSON.parse(delivered[0].payload)).toBeTypeOf('object');
  });
});

describe('webhook retries and failures', () => {
  it('retries a receiver that fails twice; exactly one delivery is accepted', async () => {
    const flaky = await startWebhookReceiver((_hook, count) => (count < 2 ? 503 : 200));
    const app = await startTestApp({ STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_WEBHOOK_SECRET: SECRET, STOWAGE_WEBHOOK_URLS: flaky.url, STOWAGE_WEBHOOK_RETRY_BASE_MS: '50' }, { models: test.models });
    try {
      await app.upload('mutation($file: Upload!) { uploadFile(file: $file, fileName: "a.txt") { fileId } }', { file: null }, { path: 'variables.file', data: Buffer.from('hello'), filename: 'a.txt' });
      await expect.poll(() => flaky.accepted().length, { timeout: 10_000 }).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(flaky.received.map((r) => r.status)).toEqual([503, 503, 200]);
      expect(new Set(flaky.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
      const deliveries = await app.gql('{ webhookDeliveries { status attempts { statusCode } } }');
      expect(deliveries.data?.webhookDeliveries[0]).toEqual({ status: 'delivered', attempts: [{ statusCode: 503 }, { statusCode: 503 }, { statusCode: 200 }] });
    } finally {
      await app.close();
      await flaky.close();
    }
  });

  it('reports a failed extension as failed, to the response, the status and the webhook', async () => {
    const failing = createTestModels({ failRemoval: true });
    const app = await startTestApp({ STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_WEBHOOK_SECRET: SECRET, STOWAGE_WEBHOOK_RETRY_BASE_MS: '50' }, { models: failing.models });
    try {
      const res = await app.upload(UPLOAD, { file: null, fileName: 'x.jpg', extensions: [{ removeBg: {} }], webhookUrl: receiver.url }, { path: 'variables.file', data: await makeJpeg(20, 20), filename: 'x.jpg' });
      const fileId = res.data?.uploadFile.fileId;
      await expect.poll(() => receiver.received.find((h) => h.json.fileId === fileId)?.json, { timeout: 20_000 }).toMatchObject({ service: 'remove-bg', status: 'FAILURE', fileId, error: { reason: 'segmentation failed' } });
      const after = await app.gql('query($id: ID!) { file(fileId: $id) { extensionStatus versionInfo { name } } }', { id: fileId });
      expect(after.data?.file).toEqual({ extensionStatus: { 'remove-bg': 'failed' }, versionInfo: { name: 'Version 1' } });
      expect(failing.calls.remove).toBe(3);
    } finally {
      await app.close();
    }
  });

  it('finishes a pending job after a restart and delivers its webhook', async () => {
    const slow = createTestModels();
    slow.hold();
    const app = await startTestApp({ STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_WEBHOOK_SECRET: SECRET, STOWAGE_AUTO_TAG_SYNC_MS: '100' }, { models: slow.models });
    try {
      const res = await app.upload(UPLOAD, { file: null, fileName: 'r.jpg', extensions: [{ googleAutoTagging: { maxTags: 3, minConfidence: 0 } }], webhookUrl: receiver.url }, { path: 'variables.file', data: await makeJpeg(20, 20), filename: 'r.jpg' });
      const fileId = res.data?.uploadFile.fileId;
      expect(res.data?.uploadFile.extensionStatus).toEqual({ 'google-auto-tagging': 'pending' });
      await app.restart();
      slow.release();
      await expect.poll(() => receiver.received.find((h) => h.json.fileObject?.fileId === fileId)?.json.status, { timeout: 20_000 }).toBe('SUCCESS');
      const after = await app.gql('query($id: ID!) { file(fileId: $id) { extensionStatus AITags { name } } }', { id: fileId });
      expect(after.data?.file).toEqual({ extensionStatus: { 'google-auto-tagging': 'success' }, AITags: [{ name: 'Sky' }, { name: 'Blue' }, { name: 'Cloud' }] });
    } finally {
      await app.close();
    }
  });
});

describe('remove-bg together with auto-tagging', () => {
  const both = createTestModels();
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_WEBHOOK_SECRET: SECRET, STOWAGE_AUTO_TAG_SYNC_MS: '100', STOWAGE_WEBHOOK_RETRY_BASE_MS: '50' }, { models: both.models });
  });
  afterAll(() => app.close());

  const EXTENSIONS = [{ removeBg: {} }, { googleAutoTagging: { maxTags: 2, minConfidence: 50 } }];
  const FINAL = { 'remove-bg': 'success', 'google-auto-tagging': 'success' };

  async function uploadBoth(fileName: string) {
    const res = await app.upload(UPLOAD, { file: null, fileName, extensions: EXTENSIONS, webhookUrl: receiver.url }, { path: 'variables.file', data: await makeJpeg(40, 30), filename: fileName });
    expect(res.errors).toBeUndefined();
    expect(res.data?.uploadFile.extensionStatus['google-auto-tagging']).toBe('pending');
    return res.data?.uploadFile.fileId as string;
  }

  /** The extensionStatus subscription over graphql-ws, collected until it completes. */
  function watch(fileId: string) {
    const client = createWsClient({ url: `${app.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: basicAuth() }, retryAttempts: 0, lazy: true });
    const values: { status: Record<string, string>; done: boolean }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ extensionStatus: (typeof values)[number] }>(
        { query: 'subscription($id: ID!) { extensionStatus(fileId: $id) { status done } }', variables: { id: fileId } },
        { next: (v) => values.push(v.data?.extensionStatus as (typeof values)[number]), error: reject, complete: resolve },
      );
    });
    return { values, done: done.finally(() => client.dispose()) };
  }

  const current = async (fileId: string) =>
    (await app.gql('query($id: ID!) { file(fileId: $id) { versionInfo { name } mime extensionStatus AITags { name source } } }', { id: fileId })).data?.file;
  const hooksFor = (fileId: string, service: string) => receiver.received.filter((h) => h.json.service === service && (h.json.fileObject?.fileId ?? h.json.fileId) === fileId).map((h) => h.json);

  async function expectAllFinal(fileId: string, sub: ReturnType<typeof watch>) {
    const stuck = new Promise((_, reject) => setTimeout(() => reject(new Error(`extensionStatus did not complete; last: ${JSON.stringify(sub.values.at(-1))}`)), 8000).unref());
    await Promise.race([sub.done, stuck]);
    expect(sub.values.at(-1)).toEqual({ status: FINAL, done: true });
    expect(await current(fileId)).toEqual({ versionInfo: { name: 'Version 2' }, mime: 'image/png', extensionStatus: FINAL, AITags: [{ name: 'Sky', source: 'google-auto-tagging' }, { name: 'Blue', source: 'google-auto-tagging' }] });
    await expect.poll(() => hooksFor(fileId, 'google-auto-tagging').map((h) => h.status)).toEqual(['SUCCESS']);
    await expect.poll(() => hooksFor(fileId, 'remove-bg').map((h) => h.status)).toEqual(['SUCCESS']);
  }

  it('tagging finishes first, while the model runs: the cut-out gets its status and tags', async () => {
    const removals = both.calls.remove;
    both.hold();
    both.holdRemoval();
    const fileId = await uploadBoth('first-tags.jpg');
    const sub = watch(fileId);
    await expect.poll(() => both.calls.remove).toBe(removals + 1); // remove-bg has read Version 1 and runs
    both.release();
    await expect.poll(() => hooksFor(fileId, 'google-auto-tagging').length, { timeout: 10_000 }).toBe(1);
    both.releaseRemoval();
    await expectAllFinal(fileId, sub);
    expect(hooksFor(fileId, 'remove-bg')[0]?.fileObject.extensionStatus).toEqual(FINAL);
  }, 20_000);

  it('tagging finishes after the cut-out is stored: its outcome reaches the cut-out', async () => {
    both.hold();
    const fileId = await uploadBoth('last-tags.jpg');
    const sub = watch(fileId);
    await expect.poll(async () => (await current(fileId))?.versionInfo.name, { timeout: 10_000 }).toBe('Version 2');
    expect((await current(fileId))?.extensionStatus).toEqual({ 'remove-bg': 'success', 'google-auto-tagging': 'pending' });
    both.release();
    await expectAllFinal(fileId, sub);
    expect(hooksFor(fileId, 'google-auto-tagging')[0]?.fileObject.extensionStatus).toEqual(FINAL);
  }, 20_000);
});
