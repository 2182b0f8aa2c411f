import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { randomBytesOf } from '../helpers/fixtures.js';
import { multipartEnvelope, openMultipartRequest } from '../helpers/raw-multipart.js';
import { killStartedMains, startMain } from '../helpers/spawn-main.js';
import { basicAuth, freePort, TEST_KEY, UPLOAD_MUTATION } from '../helpers/test-app.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(killStartedMains);

async function setUp(env: Record<string, string> = {}) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-shutdown-'));
  cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const fullEnv = { STOWAGE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', STOWAGE_PRIVATE_KEY: TEST_KEY, STOWAGE_URL_ENDPOINT: base, ...env };
  return { dataDir, base, start: () => startMain(fullEnv) };
}

/**
 * A multipart upload whose body the test writes at its own pace. It asks for `100 Continue`, so `accepted`
 * resolves once the server has the request in hand.
 */
function slowUpload(base: string, fileName: string) {
  const { head, tail } = multipartEnvelope(UPLOAD_MUTATION, { file: null, fileName, useUniqueFileName: false }, fileName);
  const { req, response } = openMultipartRequest(base, { expect: '100-continue' });
  const accepted = new Promise<void>((resolve) => req.once('continue', () => resolve()));
  response.catch(() => {});
  return { req, head, tail, accepted, response };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** How a new connection fares: refused, or answered with the given status. */
const tryConnect = (base: string) =>
  fetch(`${base}/healthz`).then(
    (res) => res.status,
    (error: Error) => (error.cause as NodeJS.ErrnoException).code,
  );

async function storedBlobs(dataDir: string): Promise<string[]> {
  return (await fs.readdir(path.join(dataDir, 'blobs', 'files'), { recursive: true }).catch(() => [])) as string[];
}

async function fileCount(base: string): Promise<number> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuth() },
    body: JSON.stringify({ query: '{ files { totalCount } }' }),
  });
  return (await res.json()).data.files.totalCount;
}

describe('shutdown on SIGTERM', () => {
  it('lets an upload still sending finish: the client gets its answer, the file is intact after a restart, new connections are refused', async () => {
    const { base, start } = await setUp({ STOWAGE_SHUTDOWN_TIMEOUT_MS: '20000' });
    const server = await start();
    const content = randomBytesOf(1536 * 1024);
    const upload = slowUpload(base, 'kept.bin');
    await upload.accepted;
    upload.req.write(upload.head);
    upload.req.write(content.subarray(0, 256 * 1024));

    server.child.kill('SIGTERM');
    await expect.poll(() => server.stderr()).toContain('Shutting down on SIGTERM');
    expect(['ECONNREFUSED', 503]).toContain(await tryConnect(base));
    for (let at = 256 * 1024; at < content.length; at += 256 * 1024) {
      upload.req.write(content.subarray(at, at + 256 * 1024));
      await new Promise((r) => setTimeout(r, 20));
    }
    upload.req.end(upload.tail);

    const answer = await upload.response;
    expect(answer.status).toBe(200);
    const uploaded = JSON.parse(answer.body).data.uploadFile;
    expect(uploaded).toMatchObject({ name: 'kept.bin', size: content.length });
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toMatch(/Shut down in \d+ ms: 0 requests cut/);

    const again = await start();
    const served = new Uint8Array(await (await fetch(uploaded.url)).arrayBuffer());
    expect(sha256(served)).toBe(sha256(content));
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('cuts an upload that does not finish within STOWAGE_SHUTDOWN_TIMEOUT_MS: the client is cut off, and no row and no blob remain', async () => {
    const { base, dataDir, start } = await setUp({ STOWAGE_SHUTDOWN_TIMEOUT_MS: '300' });
    const server = await start();
    const upload = slowUpload(base, 'stalled.bin');
    await upload.accepted;
    upload.req.write(upload.head);
    upload.req.write(randomBytesOf(256 * 1024));

    server.child.kill('SIGTERM');
    await expect(upload.response).rejects.toThrow(/socket hang up|ECONNRESET|EPIPE/);
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toMatch(/Shut down in \d+ ms: 1 requests cut/);

    const again = await start();
    expect(await fileCount(base)).toBe(0);
    expect(await storedBlobs(dataDir)).toEqual([]);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('releases the lease of a job still running, so the next start runs it at once rather than when the lease runs out', async () => {
    const arrivals: { id: string; at: number }[] = [];
    const receiver = http.createServer((req) => arrivals.push({ id: String(req.headers['webhook-id']), at: Date.now() }));
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    });
    const webhookTimeoutMs = 60_000;
    // The webhook job's lease (see src/webhooks/deliver-webhook.ts): without the release, no retry before it ends.
    const leaseMs = webhookTimeoutMs + 30_000;
    const { base, start } = await setUp({
      STOWAGE_WEBHOOK_URLS: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`,
      STOWAGE_URL_ALLOWLIST: '127.0.0.1/32',
      STOWAGE_WEBHOOK_TIMEOUT_MS: String(webhookTimeoutMs),
      STOWAGE_SHUTDOWN_TIMEOUT_MS: '300',
    });
    const server = await start();
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: JSON.stringify({ query: `mutation { uploadFile(file: "${Buffer.from('hello').toString('base64')}", fileName: "hook.txt") { fileId } }` }),
    });
    expect((await res.json()).data.uploadFile.fileId).toBeTruthy();
    await expect.poll(() => arrivals.length).toBe(1);
    const first = arrivals[0] as { id: string; at: number };

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toMatch(/1 jobs released to the queue/);

    const again = await start();
    await expect.poll(() => arrivals.length, { timeout: leaseMs }).toBe(2);
    expect(arrivals[1]?.id).toBe(first.id);
    expect((arrivals[1]?.at ?? Number.POSITIVE_INFINITY) - first.at).toBeLessThan(leaseMs);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('exits at once on a second signal, saying so', async () => {
    const { base, start } = await setUp({ STOWAGE_SHUTDOWN_TIMEOUT_MS: '600000' });
    const server = await start();
    const upload = slowUpload(base, 'waiting.bin');
    await upload.accepted;
    upload.req.write(upload.head);

    server.child.kill('SIGTERM');
    await expect.poll(() => server.stderr()).toContain('Shutting down on SIGTERM');
    server.child.kill('SIGTERM');
    // 128 + 15: the graceful path would exit 0, and only after the 10-minute timeout.
    expect(await server.exited).toBe(143);
    expect(server.stderr()).toContain('Received SIGTERM again while shutting down: exiting now');
  });
});
