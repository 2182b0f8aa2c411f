import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killStartedMains, startMain } from '../helpers/spawn-main.js';
import { basicAuth, freePort } from '../helpers/test-app.js';

afterAll(killStartedMains);

describe('npm start', () => {
  it('generates a key on first start, prints it once, and serves GraphiQL and uploads', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-main-'));
    const port = String(await freePort());
    const env = { STOWAGE_DATA_DIR: dataDir, PORT: port, HOST: '127.0.0.1', STOWAGE_PRIVATE_KEY: '' };
    const first = await startMain(env);
    const key = (await fs.readFile(path.join(dataDir, 'private-key'), 'utf8')).trim();
    expect(key).toMatch(/^private_[A-Za-z0-9_-]{32}$/);
    expect(first.stdout()).toContain(key);
    expect((await fs.stat(path.join(dataDir, 'private-key'))).mode & 0o777).toBe(0o600);

    const base = `http://127.0.0.1:${port}`;
    const page = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(key) },
      body: JSON.stringify({ query: `mutation { uploadFile(file: "${Buffer.from('hi').toString('base64')}", fileName: "hi.txt") { url } }` }),
    });
    const url = (await res.json()).data.uploadFile.url as string;
    expect(url.startsWith(`http://localhost:${port}/hi_`)).toBe(true);
    expect(await (await fetch(url.replace('localhost', '127.0.0.1'))).text()).toBe('hi');

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = await startMain(env);
    expect(second.stdout()).not.toContain(key);
    second.child.kill('SIGTERM');
    await second.exited;
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to start on bad configuration, naming each variable', async () => {
    const bad = await startMain({ PORT: 'eighty', STOWAGE_PLAN: 'gold' });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toMatch(/PORT/);
    expect(bad.stderr()).toMatch(/STOWAGE_PLAN must be "free" or "paid"/);
  });

  it('says in one line that the port is taken, and exits 1', async () => {
    const port = await freePort();
    const taken = net.createServer().listen(port, '127.0.0.1');
    await once(taken, 'listening');
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-main-'));
    try {
      const second = await startMain({ STOWAGE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', STOWAGE_PRIVATE_KEY: 'private_k' });
      expect(await second.exited).toBe(1);
      expect(second.stderr()).toContain(`Port ${port} on 127.0.0.1 is already in use; set PORT to another port.\n`);
      // No stack traces, and nothing blaming WebSocket.
      expect(second.stderr()).not.toMatch(/^\s+at /m);
      expect(second.stderr()).not.toMatch(/websocket/i);
    } finally {
      taken.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
