import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { basicAuth, startTestApp, type TestApp, UPLOAD_FIELDS } from '../helpers/test-app.js';

let t: TestApp;
/** The same server with a tiny cost limit, to show a refused mutation never runs. */
let strict: TestApp;
beforeAll(async () => {
  [t, strict] = await Promise.all([startTestApp(), startTestApp({ STOWAGE_MAX_QUERY_COST: '5' })]);
  for (let i = 0; i < 20; i++) {
    const res = await t.gql('mutation($f: Upload!, $n: String!) { uploadFile(file: $f, fileName: $n, tags: ["load"]) { fileId } }', { f: Buffer.from(`file ${i}`).toString('base64'), n: `f${i}.txt` });
    expect(res.errors).toBeUndefined();
  }
});
afterAll(async () => {
  await Promise.all([t.close(), strict.close()]);
});

const aliased = (count: number, field: string) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

async function timedHealthz(base: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/healthz`);
  expect(await res.text()).toBe('ok');
  return performance.now() - started;
}

describe('query cost limit', () => {
  it('refuses a query whose page sizes times fields exceed STOWAGE_MAX_QUERY_COST, naming the limit and the cost', async () => {
    const res = await t.gql(aliased(30, 'files(first: 1000) { nodes { name } }'));
    expect(res.status).toBe(400);
    expect(res.data ?? null).toBeNull();
    const error = res.errors?.[0];
    expect(error?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', status: 400, details: { cost: 30 * 2001, maxCost: 50_000 } });
    expect(error?.message).toContain('costs 60030, more than the limit of 50000 (STOWAGE_MAX_QUERY_COST)');
  });

  it('applies the same limit to operations over WebSocket', async () => {
    const client = createClient({ url: `${t.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: basicAuth() }, retryAttempts: 0, lazy: true });
    const result = await new Promise<{ errors?: { extensions: Record<string, unknown> }[] }>((resolve, reject) => {
      client.subscribe({ query: aliased(30, 'files(first: 1000) { nodes { name } }') }, { next: (r) => resolve(r as never), error: reject, complete: () => {} });
    });
    await client.dispose();
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', details: { cost: 60030 } });
  });

  it('takes page sizes from variables, so one document can be allowed or refused', async () => {
    const query = `query($n: Int) { ${Array.from({ length: 10 }, (_, i) => `a${i}: files(first: $n) { nodes { ... on File { ${UPLOAD_FIELDS} } } }`).join(' ')} }`;
    const small = await t.gql(query, { n: 20 });
    expect(small.errors).toBeUndefined();
    expect(small.data?.a9.nodes).toHaveLength(20);
    const large = await t.gql(query, { n: 1000 });
    expect(large.errors?.[0]?.extensions.code).toBe('QUERY_TOO_COMPLEX');
    // A variable's default counts as sent.
    const defaulted = await t.gql(query.replace('$n: Int', '$n: Int = 1000'));
    expect(defaulted.errors?.[0]?.extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('allows what real clients ask: a full page of 1000 files with every upload field, and GraphiQL introspection', async () => {
    const page = await t.gql(`{ files(first: 1000) { totalCount pageInfo { hasNextPage endCursor } nodes { name ... on File { ${UPLOAD_FIELDS} } } } }`);
    expect(page.errors).toBeUndefined();
    expect(page.data?.files.totalCount).toBe(20);
    const introspection = await t.gql('{ __schema { types { name kind fields(includeDeprecated: true) { name args { name type { name kind ofType { name kind ofType { name kind } } } } type { name kind ofType { name kind ofType { name kind } } } } } } }');
    expect(introspection.errors).toBeUndefined();
  });

  it('refuses floods of aliases, root fields or tokens before validating them', async () => {
    const aliases = await t.gql(`{ files(first: 1) { nodes { ${Array.from({ length: 201 }, (_, i) => `n${i}: name`).join(' ')} } } }`);
    expect(aliases.status).toBe(400);
    expect(aliases.errors?.[0]).toMatchObject({ message: 'The query uses 201 aliases, more than the limit of 200.', extensions: { code: 'QUERY_TOO_COMPLEX' } });

    const rootFields = await t.gql(`{ ${Array(101).fill('__typename').join(' ')} }`);
    expect(rootFields.errors?.[0]).toMatchObject({ message: 'The operation selects 101 root fields, more than the limit of 100.', extensions: { code: 'QUERY_TOO_COMPLEX' } });

    // The attack that was measured: 3,000 aliases of a full page, refused at once.
    const started = performance.now();
    const flood = await t.gql(aliased(3000, 'files(first: 1000) { nodes { name } }'));
    expect(flood.status).toBe(400);
    expect(flood.errors?.[0]?.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(flood.errors?.[0]?.message).toContain('more than 10000 tokens');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses an over-limit mutation without running it', async () => {
    const res = await strict.gql('mutation { createFolder(folderName: "costly") { name folderPath folderId createdAt updatedAt } }');
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', details: { cost: 6, maxCost: 5 } });
    expect((await strict.gql('{ folders { name } }')).data?.folders).toEqual([]);
  });

  it('keeps /healthz answering while heavy allowed queries and an attack run', async () => {
    const heavy = `{ files(first: 1000) { nodes { name ... on File { ${UPLOAD_FIELDS} } } } }`;
    let running = true;
    const client = async () => {
      let runs = 0;
      while (running) {
        expect((await t.gql(heavy)).errors).toBeUndefined();
        runs++;
      }
      return runs;
    };
    const clients = Array.from({ length: 4 }, client);
    const attacks = Array.from({ length: 3 }, () => t.gql(aliased(3000, 'files(first: 1000) { nodes { name } }')));
    const latencies: number[] = [];
    for (let i = 0; i < 15; i++) {
      latencies.push(await timedHealthz(t.url));
      await new Promise((r) => setTimeout(r, 50));
    }
    running = false;
    const runs = await Promise.all(clients);
    for (const attack of await Promise.all(attacks)) expect(attack.errors?.[0]?.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(Math.min(...runs)).toBeGreaterThan(0);
    // Generous for a shared 2-core machine: each heavy query holds the event loop for milliseconds, not seconds.
    expect(Math.max(...latencies)).toBeLessThan(2000);
  });
});
