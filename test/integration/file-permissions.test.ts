import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { KEY_FILE, WEBHOOK_SECRET_FILE } from '../../src/private-key.js';
import { randomBytesOf } from '../helpers/fixtures.js';
import { basicAuth, freePort, UPLOAD_MUTATION } from '../helpers/test-app.js';

let root: string;
let app: App | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  vi.restoreAllMocks();
  await fs.rm(root, { recursive: true, force: true });
});

/** Starts Stowage on `dataDir` with a generated key (as a fresh install does), and uploads one file. */
async function startAndUpload(dataDir: string): Promise<string> {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // the generated key's announcement
  const port = await freePort();
  const config = loadConfig({ STOWAGE_DATA_DIR: dataDir, STOWAGE_LOG_LEVEL: 'silent', STOWAGE_URL_ENDPOINT: `http://127.0.0.1:${port}` });
  app = await createApp(config);
  const url = await app.listen(port, '127.0.0.1');
  const key = (await fs.readFile(path.join(dataDir, KEY_FILE), 'utf8')).trim();
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: UPLOAD_MUTATION, variables: { file: null, fileName: 'secret.bin', isPrivateFile: true } }));
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  form.set('0', new Blob([new Uint8Array(randomBytesOf(5000))]), 'secret.bin');
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { authorization: basicAuth(key) }, body: form });
  const body = await res.json();
  expect(body.errors).toBeUndefined();
  return body.data.uploadFile.fileId;
}

/** Everything under `dir` (itself included) with its permission bits. */
async function modes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = { '.': ((await fs.stat(dir)).mode & 0o777).toString(8) };
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = ((await fs.stat(file)).mode & 0o777).toString(8);
  }
  return out;
}

const readableByOthers = (all: Record<string, string>) => Object.entries(all).filter(([, mode]) => (Number.parseInt(mode, 8) & 0o077) !== 0);

describe('files Stowage keeps are readable by its own user only', () => {
  it('a fresh data dir, its database, keys and blobs get no group or other permissions', async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-perm-'));
    const dataDir = path.join(root, 'data');
    const fileId = await startAndUpload(dataDir);
    const all = await modes(dataDir);
    expect(all).toMatchObject({
      '.': '700',
      'stowage.db': '600',
      'stowage.db-wal': '600',
      'stowage.db-shm': '600',
      [KEY_FILE]: '600',
      [WEBHOOK_SECRET_FILE]: '600',
      blobs: '700',
      [path.join('blobs', 'files', fileId)]: '600',
    });
    expect(readableByOthers(all)).toEqual([]);
  });

  it('tightens a data dir, database and key left world-readable by an earlier start', async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-perm-'));
    const dataDir = path.join(root, 'data');
    await fs.mkdir(dataDir, { mode: 0o755 });
    await fs.chmod(dataDir, 0o755);
    await fs.writeFile(path.join(dataDir, KEY_FILE), 'private_earlier_key\n', { mode: 0o644 });
    await fs.writeFile(path.join(dataDir, 'stowage.db'), '', { mode: 0o644 });
    await fs.chmod(path.join(dataDir, KEY_FILE), 0o644);
    await fs.chmod(path.join(dataDir, 'stowage.db'), 0o644);
    await startAndUpload(dataDir);
    const all = await modes(dataDir);
    expect(all).toMatchObject({ '.': '700', 'stowage.db': '600', [KEY_FILE]: '600' });
    expect(readableByOthers(all)).toEqual([]);
  });
});
