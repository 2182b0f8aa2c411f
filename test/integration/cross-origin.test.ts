import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { basicAuth, startTestApp, type TestApp } from '../helpers/test-app.js';

const EVIL = 'https://evil.example';
const APP = 'https://app.example.com';

let t: TestApp;
/** The same server, with STOWAGE_CORS_ORIGINS opting one origin in and a public endpoint behind a "proxy". */
let opted: TestApp;
beforeAll(async () => {
  [t, opted] = await Promise.all([startTestApp(), startTestApp({ STOWAGE_CORS_ORIGINS: `${APP}, http://localhost:5173`, STOWAGE_URL_ENDPOINT: 'https://media.example.com/files' })]);
});
afterAll(async () => {
  await Promise.all([t.close(), opted.close()]);
});

const post = (app: TestApp, headers: Record<string, string>, body: BodyInit) =>
  fetch(`${app.url}/graphql`, { method: 'POST', headers: { authorization: basicAuth(), ...headers }, body });

const jsonPost = (app: TestApp, query: string, headers: Record<string, string> = {}) =>
  post(app, { 'content-type': 'application/json', ...headers }, JSON.stringify({ query }));

const countNamed = async (name: string) => (await t.gql(`{ files(searchQuery: ${JSON.stringify(`name = "${name}"`)}) { totalCount } }`)).data?.files.totalCount as number;

const folderNames = async (app: TestApp) => ((await app.gql('{ folders { name } }')).data?.folders as { name: string }[]).map((f) => f.name);

/** A multipart upload as an HTML form (or GraphiQL) would post it, with a given Origin. */
function uploadForm(name: string): FormData {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: 'mutation($f: Upload!) { uploadFile(file: $f, fileName: "' + name + '", useUniqueFileName: false) { name } }', variables: { f: null } }));
  form.set('map', JSON.stringify({ 0: ['variables.f'] }));
  form.set('0', new Blob(['planted']), name);
  return form;
}

async function errorOf(response: Response) {
  const body = await response.json();
  return body.errors[0] as { message: string; extensions: { code: string; parameter?: string } };
}

describe('cross-site requests to /graphql', () => {
  it('refuses a form-urlencoded post (what a cross-site HTML form sends), from any origin and without one, and runs nothing', async () => {
    const form = new URLSearchParams({ query: 'mutation { createFolder(folderName: "csrf") { name } }' }).toString();
    const withoutOrigin = await post(t, { 'content-type': 'application/x-www-form-urlencoded' }, form);
    expect(withoutOrigin.status).toBe(415);
    expect(await errorOf(withoutOrigin)).toMatchObject({ extensions: { code: 'UNSUPPORTED_MEDIA_TYPE', parameter: 'Content-Type' } });

    const crossSite = await post(t, { 'content-type': 'application/x-www-form-urlencoded', origin: EVIL }, form);
    expect(crossSite.status).toBe(403);
    expect(await folderNames(t)).not.toContain('csrf');
  });

  it('refuses a multipart upload from a foreign Origin before it runs, naming the header', async () => {
    const res = await post(t, { origin: EVIL }, uploadForm('planted.txt'));
    expect(res.status).toBe(403);
    const error = await errorOf(res);
    expect(error.extensions).toMatchObject({ code: 'CROSS_ORIGIN_REQUEST_REFUSED', parameter: 'Origin' });
    expect(error.message).toContain(EVIL);
    expect(error.message).toContain('STOWAGE_CORS_ORIGINS');
    expect(await countNamed('planted.txt')).toBe(0);
  });

  it('refuses JSON posts from a foreign or opaque origin and no-cors requests marked cross-site', async () => {
    const mutation = 'mutation { createFolder(folderName: "csrf-json") { name } }';
    for (const origin of [EVIL, 'null', `${t.url.replace('127.0.0.1', 'localhost')}`]) {
      const res = await jsonPost(t, mutation, { origin });
      expect(res.status, origin).toBe(403);
      expect((await errorOf(res)).extensions.code).toBe('CROSS_ORIGIN_REQUEST_REFUSED');
    }
    const noCors = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ folders { name } }')}`, { headers: { authorization: basicAuth(), 'sec-fetch-site': 'cross-site' } });
    expect(noCors.status).toBe(403);
    expect((await errorOf(noCors)).extensions).toMatchObject({ code: 'CROSS_ORIGIN_REQUEST_REFUSED', parameter: 'Sec-Fetch-Site' });
    expect(await folderNames(t)).not.toContain('csrf-json');
  });

  it("keeps working for the server's own origin (GraphiQL), its URL endpoint behind a proxy, and clients that send no Origin", async () => {
    // GraphiQL posts JSON and multipart from the page's own origin, marked same-origin.
    const own = { origin: t.url, 'sec-fetch-site': 'same-origin' };
    expect((await (await jsonPost(t, 'mutation { createFolder(folderName: "from-graphiql") { name } }', own)).json()).data.createFolder.name).toBe('from-graphiql');
    const upload = await post(t, own, uploadForm('graphiql.txt'));
    expect(upload.status).toBe(200);
    expect((await upload.json()).data.uploadFile.name).toBe('graphiql.txt');
    expect(await countNamed('graphiql.txt')).toBe(1);

    const curl = await post(t, {}, uploadForm('curl.txt'));
    expect((await curl.json()).data.uploadFile.name).toBe('curl.txt');
    expect((await (await jsonPost(t, '{ folders { name } }', { 'sec-fetch-site': 'none' })).json()).data.folders.map((f: { name: string }) => f.name)).toContain('from-graphiql');

    // Behind a proxy the Host header is the internal one; the public origin is STOWAGE_URL_ENDPOINT's.
    const proxied = await jsonPost(opted, '{ folders { name } }', { origin: 'https://media.example.com' });
    expect(proxied.status).toBe(200);
    // And the origin the Host header names is the server's own whatever the endpoint says.
    expect((await jsonPost(opted, '{ folders { name } }', { origin: opted.url })).status).toBe(200);
  });
});

describe('CORS', () => {
  const preflight = (app: TestApp, origin: string) =>
    fetch(`${app.url}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });

  it('grants no cross-origin access by default: no Access-Control-Allow-Origin, no credentials', async () => {
    const res = await preflight(t, EVIL);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const fromOwnPage = await jsonPost(t, '{ folders { name } }', { origin: t.url });
    expect(fromOwnPage.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets the origins in STOWAGE_CORS_ORIGINS call the API with credentials, and only them', async () => {
    const res = await preflight(opted, APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');

    const call = await jsonPost(opted, 'mutation { createFolder(folderName: "from-app") { name } }', { origin: APP });
    expect(call.headers.get('access-control-allow-origin')).toBe(APP);
    expect((await call.json()).data.createFolder.name).toBe('from-app');

    const other = await preflight(opted, EVIL);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await jsonPost(opted, '{ folders { name } }', { origin: EVIL })).status).toBe(403);
  });
});

describe('GraphQL over WebSocket from a browser page', () => {
  const wsUrl = (app: TestApp) => `${app.url.replace('http', 'ws')}/graphql`;

  /** Opens a raw socket as a browser would (the page cannot choose Origin); resolves with the handshake's outcome. */
  function handshake(app: TestApp, origin: string, headers: Record<string, string> = {}): Promise<{ opened: boolean; status?: number; body?: string }> {
    return new Promise((resolve) => {
      const socket = new WebSocket(wsUrl(app), 'graphql-transport-ws', { origin, headers });
      socket.once('open', () => {
        socket.close();
        resolve({ opened: true });
      });
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ opened: false, status: res.statusCode, body }));
      });
      socket.once('error', () => resolve({ opened: false }));
    });
  }

  /** A graphql-ws client whose upgrade carries `origin`. */
  const clientFrom = (app: TestApp, origin: string | undefined, connectionParams: Record<string, unknown>) =>
    createClient({
      url: wsUrl(app),
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, origin ? { origin } : {});
        }
      },
      connectionParams,
      retryAttempts: 0,
      lazy: true,
    });

  const run = (client: ReturnType<typeof createClient>, query: string) =>
    new Promise<unknown>((resolve, reject) => {
      let result: unknown;
      client.subscribe({ query }, { next: (r) => (result = r), error: reject, complete: () => resolve(result) });
    });

  it('refuses the upgrade from a foreign Origin with a 403 before the handshake, even with the key in the upgrade', async () => {
    for (const headers of [{ authorization: basicAuth() }, {}] as Record<string, string>[]) {
      const outcome = await handshake(t, EVIL, headers);
      expect(outcome.opened).toBe(false);
      expect(outcome.status).toBe(403);
      expect(JSON.parse(outcome.body ?? '{}').errors[0].extensions).toMatchObject({ code: 'CROSS_ORIGIN_REQUEST_REFUSED', parameter: 'Origin' });
    }
    // An empty connection_init relying on the upgrade's Basic header would have run this.
    const client = clientFrom(t, EVIL, {});
    await expect(run(client, 'mutation { createFolder(folderName: "ws-csrf") { name } }')).rejects.toBeTruthy();
    await client.dispose();
    expect(await folderNames(t)).not.toContain('ws-csrf');
  });

  it('accepts sockets from the own origin (GraphiQL), an opted-in origin, and clients without Origin', async () => {
    const own = clientFrom(t, t.url, { authorization: basicAuth() });
    expect(await run(own, 'mutation { createFolder(folderName: "ws-own") { name } }')).toEqual({ data: { createFolder: { name: 'ws-own' } } });
    await own.dispose();

    const app = clientFrom(opted, APP, { authorization: basicAuth() });
    expect(await run(app, '{ folders { name } }')).toMatchObject({ data: { folders: expect.any(Array) } });
    await app.dispose();

    const sdk = clientFrom(t, undefined, { privateKey: 'private_test_key' });
    expect(await run(sdk, '{ folders { name } }')).toMatchObject({ data: { folders: expect.arrayContaining([{ name: 'ws-own' }]) } });
    await sdk.dispose();
  });
});
