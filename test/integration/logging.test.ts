import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../helpers/fixtures.js';
import { captureLogs, type LogRecord } from '../helpers/log-capture.js';
import { basicAuth, freePort, startTestApp, TEST_KEY, type TestApp } from '../helpers/test-app.js';
import { createTestModels } from '../helpers/test-models.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('logs of a running app', () => {
  const logs = captureLogs('info');
  const models = createTestModels();
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    t = await startTestApp({ STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_WEBHOOK_SECRET: 'whsec_logging' }, { logger: logs.logger, models: models.models });
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  const requestLine = (requestId: string) => logs.records().find((r) => r.requestId === requestId && typeof r.route === 'string');
  /** A GraphQL request with the caller's own headers (the helpers send none). */
  const gql = (query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(), ...headers },
      body: JSON.stringify({ query, variables }),
    });

  it('writes one JSON line per request: method, path, status, bytes, duration, request id and route class', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'lb-7f3a.42:1' } });
    expect(res.headers.get('x-request-id')).toBe('lb-7f3a.42:1');
    expect(res.headers.get('x-ik-requestid')).toBe('lb-7f3a.42:1');
    expect(await res.text()).toBe('ok');
    await expect.poll(() => requestLine('lb-7f3a.42:1')).toMatchObject({
      level: 30,
      msg: 'GET /healthz 200',
      method: 'GET',
      path: '/healthz',
      status: 200,
      bytes: 2,
      durationMs: expect.any(Number),
      route: 'health',
    });

    const api = await gql('{ folders(path: "/") { name } }', {});
    expect(api.status).toBe(200);
    const body = await api.text();
    const id = api.headers.get('x-request-id') as string;
    expect(id).toMatch(UUID);
    await expect.poll(() => requestLine(id)).toMatchObject({ method: 'POST', path: '/graphql', status: 200, bytes: Buffer.byteLength(body), route: 'graphql' });

    const missing = await fetch(`${t.url}/nothing/here.png?tr=w-10`);
    await missing.arrayBuffer();
    await expect.poll(() => requestLine(missing.headers.get('x-request-id') as string)).toMatchObject({ path: '/nothing/here.png?tr=w-10', status: 404, route: 'delivery' });

    // Every line parses on its own; the key and the Authorization header never appear.
    for (const line of logs.lines) expect(() => JSON.parse(line)).not.toThrow();
    const all = logs.lines.join('');
    expect(all).not.toContain(TEST_KEY);
    expect(all).not.toContain(basicAuth().split(' ')[1]);
  });

  it('replaces an incoming x-request-id that does not look like one', async () => {
    for (const bad of ['has space', 'a'.repeat(129), 'quote"d', '']) {
      const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': bad } });
      await res.text();
      expect(res.headers.get('x-request-id'), bad).toMatch(UUID);
    }
  });

  it('logs a signed URL without its signature', async () => {
    const jpeg = (await makeJpeg(40, 30)).toString('base64');
    const up = await t.gql('mutation($f: Upload!) { uploadFile(file: $f, fileName: "private.jpg", isPrivateFile: true) { fileId url } }', { f: jpeg });
    const fileId = up.data?.uploadFile.fileId;
    const signed = (await t.gql('query($id: ID!) { signedUrl(fileId: $id, transformation: "w-20", expireSeconds: 600) }', { id: fileId })).data?.signedUrl as string;
    const signature = new URL(signed).searchParams.get('ik-s') as string;
    expect(signature).toMatch(/^[0-9a-f]{20,}$/);
    const res = await fetch(signed.replace('localhost', '127.0.0.1'));
    expect(res.status).toBe(200);
    const bytes = (await res.arrayBuffer()).byteLength;

    const id = res.headers.get('x-request-id') as string;
    await expect.poll(() => requestLine(id)).toMatchObject({ status: 200, bytes, route: 'delivery' });
    const logged = requestLine(id) as LogRecord;
    expect(logged.path).toMatch(/^\/tr:w-20\/private_?[^?]*\.jpg\?ik-t=\[redacted\]&ik-s=\[redacted\]$/);
    expect(logs.lines.join('')).not.toContain(signature);
  });

  it('carries the request id into the jobs the request caused, and into the webhooks those jobs send', async () => {
    const jpeg = (await makeJpeg(48, 32)).toString('base64');
    const res = await gql(
      'mutation($f: Upload!, $hook: String) { uploadFile(file: $f, fileName: "cut.jpg", extensions: [{ removeBg: {} }], webhookUrl: $hook) { fileId extensionStatus } }',
      { f: jpeg, hook: receiver.url },
      { 'x-request-id': 'upload-req-1' },
    );
    expect(res.headers.get('x-request-id')).toBe('upload-req-1');
    expect((await res.json()).data.uploadFile.extensionStatus).toEqual({ 'remove-bg': 'pending' });
    await expect.poll(() => receiver.received.some((h) => h.json.service === 'remove-bg'), { timeout: 10_000 }).toBe(true);

    const jobLines = (job: string) => logs.records().filter((r) => r.job === job && r.msg === `Job ${job} done`);
    await expect.poll(() => jobLines('extension.remove-bg')).toEqual([expect.objectContaining({ requestId: 'upload-req-1', jobId: expect.any(String), durationMs: expect.any(Number) })]);
    // The remove-bg webhook is enqueued by the job, not by the request: the id still travels with it.
    await expect.poll(() => jobLines('webhook').filter((r) => r.requestId === 'upload-req-1').length).toBeGreaterThanOrEqual(1);
  });
});

describe('npm start', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  /** Starts `npm start`'s command with stderr piped (not a terminal), makes one request, and stops it. */
  async function runOnce(env: Record<string, string>): Promise<string> {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-logs-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, STOWAGE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', STOWAGE_PRIVATE_KEY: TEST_KEY, STOWAGE_LOG_LEVEL: '', STOWAGE_LOG_FORMAT: '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await expect.poll(() => stderr, { timeout: 20_000 }).toContain('Stowage listening on');
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { 'x-request-id': 'from-the-proxy' } });
    await res.text();
    await expect.poll(() => stderr).toContain('from-the-proxy');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await fs.rm(dataDir, { recursive: true, force: true });
    return stderr;
  }

  it('writes JSON lines to stderr when it is not a terminal, besides its one human listening line', async () => {
    const lines = (await runOnce({})).split('\n').filter(Boolean);
    const listening = lines.filter((line) => line.startsWith('Stowage listening on '));
    expect(listening).toHaveLength(1);
    const records = lines.filter((line) => !listening.includes(line)).map((line) => JSON.parse(line) as LogRecord);
    expect(records).toContainEqual(expect.objectContaining({ msg: 'GET /healthz 200', requestId: 'from-the-proxy', status: 200, route: 'health', time: expect.any(String) }));
  });

  it('writes readable lines with STOWAGE_LOG_FORMAT=pretty', async () => {
    const lines = (await runOnce({ STOWAGE_LOG_FORMAT: 'pretty' })).split('\n').filter(Boolean);
    const request = lines.find((line) => line.includes('GET /healthz 200')) as string;
    expect(request).toMatch(/INFO.*GET \/healthz 200/);
    expect(() => JSON.parse(request)).toThrow();
    expect(request).toContain('"requestId":"from-the-proxy"');
    for (const line of lines) expect(line.startsWith('{'), line).toBe(false);
  });
});
