import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('error bodies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it("point `help` at Stowage's README, never at ImageKit's support", async () => {
    const gql = await t.gql('query { file(fileId: "nope") { fileId } }');
    const help = gql.errors?.[0]?.extensions.help;
    expect(help).toBe(`${gql.errors?.[0]?.extensions.code}: see "Errors" in Stowage's README (README.md#errors).`);

    const unauthenticated = await t.gql('{ __typename }', {}, { auth: null });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.errors?.[0]?.extensions.help).toMatch(/^UNAUTHENTICATED: see "Errors" in Stowage's README/);

    const delivery = await fetch(`${t.url}/no/such/file.jpg`);
    expect(delivery.status).toBe(404);
    const body = await delivery.json();
    expect(body.help).toMatch(/^NOT_FOUND: see "Errors"/);
    expect(JSON.stringify([gql.errors, unauthenticated.errors, body])).not.toMatch(/imagekit\.io/i);
  });
});
