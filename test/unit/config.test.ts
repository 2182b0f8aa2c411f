import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.urlEndpoint).toBe('http://localhost:3000');
    expect(c.urlFetch.timeoutMs).toBe(8000);
    expect(c.privateKeys).toEqual([]);
    expect(c.limits).toEqual({ maxFileBytes: 40 * 1024 * 1024, maxVideoBytes: 300 * 1024 * 1024, maxImagePixels: 100_000_000 });
  });

  it('follows the plan and explicit limits', () => {
    expect(loadConfig({ STOWAGE_PLAN: 'free' }).limits.maxFileBytes).toBe(26214400);
    expect(loadConfig({ STOWAGE_PLAN: 'free' }).limits.maxVideoBytes).toBe(26214400);
    expect(loadConfig({ STOWAGE_MAX_FILE_SIZE: '1000' }).limits.maxFileBytes).toBe(1000);
  });

  it('reads lists and derives the endpoint from the port', () => {
    const c = loadConfig({ PORT: '8080', STOWAGE_PRIVATE_KEY: 'a, b', STOWAGE_URL_ALLOWLIST: '127.0.0.1/32,files.internal' });
    expect(c.urlEndpoint).toBe('http://localhost:8080');
    expect(c.privateKeys).toEqual(['a', 'b']);
    expect(c.urlFetch.allowlist).toEqual(['127.0.0.1/32', 'files.internal']);
    expect(loadConfig({ STOWAGE_URL_ENDPOINT: 'https://cdn.example.com/media/' }).urlEndpoint).toBe('https://cdn.example.com/media');
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'abc', STOWAGE_PLAN: 'gold', STOWAGE_URL_FETCH_TIMEOUT_MS: '-1', STOWAGE_URL_ENDPOINT: 'ftp://x' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const message = (e as ConfigError).message;
      for (const name of ['PORT', 'STOWAGE_PLAN', 'STOWAGE_URL_FETCH_TIMEOUT_MS', 'STOWAGE_URL_ENDPOINT']) expect(message).toContain(name);
    }
    expect(() => loadConfig({ STOWAGE_URL_ALLOWLIST: 'not a host!' })).toThrow(/STOWAGE_URL_ALLOWLIST/);
    expect(() => loadConfig({ STOWAGE_NAMED_TRANSFORMATIONS: 'banner=w-abc' })).toThrow(/STOWAGE_NAMED_TRANSFORMATIONS: "banner": Invalid transformation parameter w/);
    expect(loadConfig({ STOWAGE_NAMED_TRANSFORMATIONS: 'banner=w-1200,h-400; sq=w-300' }).namedTransformations).toEqual({ banner: 'w-1200,h-400', sq: 'w-300' });
  });
});
