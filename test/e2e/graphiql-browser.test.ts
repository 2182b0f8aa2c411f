import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_KEY, type TestApp } from '../helpers/test-app.js';

// Debian's package (`apt-get install -y chromium`); playwright-core never downloads a browser of its own.
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`SKIPPED the GraphiQL browser tests: no browser at ${CHROMIUM} (install it with: apt-get install -y chromium)`);
}

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** Monaco renders spaces as no-break spaces; compare text with all whitespace as single spaces. */
const textOf = async (locator: Locator) => (await locator.innerText()).replace(/\s+/g, ' ');

const fetchPage = () => fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });

/** Every `src`/`href` in the page, plus the worker URLs handed to Monaco through the page's config block. */
function referencedUrls(html: string): string[] {
  const attributes = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);
  const config = JSON.parse(/<script id="graphiql-config" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? '{}');
  return [...attributes, ...Object.values<string>(config.workers ?? {})];
}

describe('the GraphiQL page over HTTP', () => {
  it('references only this server, and forbids framing and foreign code', async () => {
    const page = await fetchPage();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toMatch(/unpkg|<script>/);
    const urls = referencedUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(7);
    for (const url of urls) expect(url).toMatch(/^\/graphql\/assets\/[\w.-]+$/);
  });

  it('serves every asset it references, typed and cacheable for good', async () => {
    const urls = referencedUrls(await (await fetchPage()).text());
    expect(urls.length).toBeGreaterThanOrEqual(7);
    for (const url of urls) {
      const asset = await fetch(`${t.url}${url}`);
      expect(asset.status, url).toBe(200);
      expect(asset.headers.get('content-type'), url).toMatch(url.endsWith('.css') ? /^text\/css/ : url.endsWith('.js') ? /^text\/javascript/ : /^image\//);
      expect(asset.headers.get('cache-control'), url).toContain('immutable');
      expect(asset.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect((await asset.arrayBuffer()).byteLength, url).toBeGreaterThan(100);
    }
    expect((await fetch(`${t.url}/graphql/assets/nothing.js`)).status).toBe(404);
  });
});

describe.skipIf(!hasChromium)('GraphiQL in headless Chromium, with no internet', () => {
  let browser: Browser;
  let context: BrowserContext;
  const foreignRequests: string[] = [];
  const pageProblems: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ httpCredentials: { username: TEST_KEY, password: '', origin: t.url } });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${t.url}/`)) return route.continue();
      foreignRequests.push(url);
      return route.abort('internetdisconnected');
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders, loads the schema, and runs a query typed into the editor', async () => {
    const seeded = await t.gql(`mutation { uploadFile(file: "${Buffer.from('hello').toString('base64')}", fileName: "hello.txt") { fileId } }`);
    expect(seeded.errors).toBeUndefined();

    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') pageProblems.push(message.text());
    });
    page.on('pageerror', (error) => pageProblems.push(error.message));
    const introspection = page.waitForResponse(
      (response) => response.request().method() === 'POST' && (response.request().postData() ?? '').includes('__schema') && response.status() === 200,
    );

    await page.goto(`${t.url}/graphql`);
    expect(await page.title()).toBe('Stowage');
    const queryEditor = page.locator('.graphiql-query-editor');
    await expect.poll(() => textOf(queryEditor), { timeout: 20_000 }).toContain('mutation UploadFromUrl');

    const schema = await (await introspection).json();
    expect(schema.data.__schema.mutationType.name).toBe('Mutation');
    await page.getByRole('button', { name: /documentation explorer/i }).click();
    await page.locator('.graphiql-doc-explorer').getByText('Mutation', { exact: true }).click();
    await expect.poll(() => textOf(page.locator('.graphiql-doc-explorer'))).toContain('uploadFile');

    await queryEditor.locator('.monaco-editor').first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('query Count { files(first: 1) { totalCount } }');
    // GraphiQL picks up the operation name after a debounce; its tab shows it once it has.
    await expect.poll(() => textOf(page.locator('.graphiql-tab'))).toBe('Count');
    await page.getByRole('button', { name: /execute query/i }).click();
    await expect.poll(() => textOf(page.locator('.graphiql-response')), { timeout: 10_000 }).toContain('"totalCount": 1 }');

    expect(foreignRequests).toEqual([]);
    expect(pageProblems).toEqual([]);
  }, 60_000);
});
