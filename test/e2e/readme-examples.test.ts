import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../helpers/fixtures.js';
import { startTestApp, type TestApp, TEST_KEY } from '../helpers/test-app.js';

const root = path.resolve(import.meta.dirname, '../..');

/** The README's fenced blocks of one language, in order. */
async function readmeBlocks(lang: string): Promise<string[]> {
  const readme = await fs.readFile(path.join(root, 'README.md'), 'utf8');
  return [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] as string);
}

/** The JSON bodies of the README's `curl … -d '…'` GraphQL examples that contain `needle`. */
async function curlBodies(needle: string): Promise<string[]> {
  const bodies = (await readmeBlocks('sh')).flatMap((block) => [...block.matchAll(/-d '([^']*)'/g)].map((m) => m[1] as string));
  return bodies.filter((body) => body.includes(needle));
}

describe('README examples, run as a new user would', () => {
  let t: TestApp;
  const children: ChildProcess[] = [];
  const scripts: string[] = [];
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const script of scripts) await fs.rm(script, { force: true });
    await t.close();
  });

  it('creates every custom metadata field that the upload example then uses', async () => {
    const creations = await curlBodies('createCustomMetadataField');
    expect(creations.length).toBeGreaterThan(0);
    for (const body of creations) {
      const { query } = JSON.parse(body) as { query: string };
      const res = await t.gql(query);
      expect(res.errors).toBeUndefined();
    }
    const upload = (await readmeBlocks('graphql')).find((block) => block.startsWith('mutation') && block.includes('colours'));
    expect(upload).toBeDefined();
    const dataUri = `data:image/jpeg;base64,${(await makeJpeg(40, 30)).toString('base64')}`;
    const res = await t.gql((upload as string).replace(/file: "https?:\/\/[^"]+"/, `file: "${dataUri}"`));
    expect(res.errors).toBeUndefined();
    expect(res.data?.uploadFile.customMetadata).toMatchObject({ colours: ['red'], price: 120 });
  });

  it('the graphql-ws snippet runs on Node and hears an upload', async () => {
    const snippet = (await readmeBlocks('js')).find((block) => block.includes("from 'graphql-ws'"));
    expect(snippet).toBeDefined();
    // Run it where a user would (beside node_modules), pointed at this test's server.
    const script = path.join(root, `.readme-graphql-ws-${process.pid}.mjs`);
    scripts.push(script);
    await fs.writeFile(script, (snippet as string).replace('ws://localhost:3000', t.url.replace('http://', 'ws://')));
    const child = spawn(process.execPath, [script], { cwd: root, env: { ...process.env, STOWAGE_PRIVATE_KEY: TEST_KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk) => (out += chunk));
    child.stderr?.on('data', (chunk) => (err += chunk));
    const jpeg = await makeJpeg(20, 20);
    const heard = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the snippet exited with ${code}: ${err}`)));
      const poll = setInterval(() => {
        if (out.includes('/readme/heard.jpg')) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    // The socket connects asynchronously: upload until the snippet prints the event.
    for (let i = 0; i < 40 && !out.includes('/readme/heard.jpg') && child.exitCode === null; i++) {
      await t.gql('mutation($f: Upload!) { uploadFile(file: $f, fileName: "heard.jpg", folder: "/readme", useUniqueFileName: false) { fileId } }', { f: `data:image/jpeg;base64,${jpeg.toString('base64')}` });
      await Promise.race([heard, new Promise((r) => setTimeout(r, 250))]);
    }
    await heard.catch((error) => {
      throw new Error(`${error.message}\nstdout: ${out}\nstderr: ${err}`);
    });
    expect(err).not.toMatch(/WebSocket implementation missing/);
    expect(JSON.parse(out.split('\n').find((line) => line.includes('heard.jpg')) as string).data.fileEvents.filePath).toBe('/readme/heard.jpg');
  });
});
