import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, databaseConfigOf, loadConfig } from '../../src/config.js';

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

  it('bounds the derivative cache (2 GiB unless set)', () => {
    expect(loadConfig({}).derivativeCache.maxBytes).toBe(2 * 1024 ** 3);
    expect(loadConfig({ STOWAGE_DERIVATIVE_CACHE_BYTES: '50000' }).derivativeCache.maxBytes).toBe(50000);
    expect(() => loadConfig({ STOWAGE_DERIVATIVE_CACHE_BYTES: '0' })).toThrow(/STOWAGE_DERIVATIVE_CACHE_BYTES/);
  });

  it('bounds video renders (1920×1080 pixels, 2 minutes, 1.5 GiB unless set)', () => {
    const { transform } = loadConfig({});
    expect(transform.videoTimeoutMs).toBe(120_000);
    // Background upload transformations are not waited for at a browser: a long video may take its time there.
    expect(transform.videoJobTimeoutMs).toBe(30 * 60_000);
    expect(loadConfig({ STOWAGE_VIDEO_JOB_TIMEOUT_MS: '600000' }).transform.videoJobTimeoutMs).toBe(600_000);
    expect(transform.video).toEqual({ maxOutputPixels: 2_073_600, memoryBytes: 1.5 * 1024 ** 3 });
    const set = loadConfig({ STOWAGE_MAX_VIDEO_OUTPUT_PIXELS: '8294400', STOWAGE_VIDEO_RENDER_MEMORY_BYTES: '1000000000' }).transform.video;
    expect(set).toEqual({ maxOutputPixels: 8_294_400, memoryBytes: 1_000_000_000 });
    expect(() => loadConfig({ STOWAGE_VIDEO_RENDER_MEMORY_BYTES: '1.5G' })).toThrow(/STOWAGE_VIDEO_RENDER_MEMORY_BYTES/);
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

  it('reads the browser origins allowed to call the API, refusing anything but a bare origin, and the query cost limit', () => {
    expect(loadConfig({}).http).toEqual({ corsOrigins: [], maxQueryCost: 50_000 });
    const c = loadConfig({ STOWAGE_CORS_ORIGINS: 'https://App.example.com, http://localhost:5173/, https://cdn.example.com:443', STOWAGE_MAX_QUERY_COST: '2000' });
    expect(c.http).toEqual({ corsOrigins: ['https://app.example.com', 'http://localhost:5173', 'https://cdn.example.com'], maxQueryCost: 2000 });
    for (const bad of ['*', 'app.example.com', 'https://app.example.com/admin', 'ftp://files.example.com', 'https://user:pw@app.example.com', 'https://app.example.com?x=1']) {
      expect(() => loadConfig({ STOWAGE_CORS_ORIGINS: bad }), bad).toThrow(`STOWAGE_CORS_ORIGINS: "${bad}" is not an origin`);
    }
    expect(() => loadConfig({ STOWAGE_MAX_QUERY_COST: '0' })).toThrow(/STOWAGE_MAX_QUERY_COST/);
  });

  it('reads the log level and format (info and auto unless set), naming the allowed values when wrong', () => {
    expect(loadConfig({})).toMatchObject({ logLevel: 'info', logFormat: 'auto' });
    expect(loadConfig({ STOWAGE_LOG_LEVEL: 'warn', STOWAGE_LOG_FORMAT: 'json' })).toMatchObject({ logLevel: 'warn', logFormat: 'json' });
    expect(loadConfig({ STOWAGE_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ STOWAGE_LOG_FORMAT: 'text' })).toThrow('STOWAGE_LOG_FORMAT must be auto, json or pretty');
    expect(() => loadConfig({ STOWAGE_LOG_LEVEL: 'verbose' })).toThrow('STOWAGE_LOG_LEVEL must be one of silent, error, warn, info, debug');
  });

  it('gives in-flight work 25 s on shutdown unless set', () => {
    expect(loadConfig({}).shutdown).toEqual({ timeoutMs: 25_000 });
    expect(loadConfig({ STOWAGE_SHUTDOWN_TIMEOUT_MS: '500' }).shutdown.timeoutMs).toBe(500);
    expect(() => loadConfig({ STOWAGE_SHUTDOWN_TIMEOUT_MS: '0' })).toThrow(/STOWAGE_SHUTDOWN_TIMEOUT_MS/);
    expect(() => loadConfig({ STOWAGE_SHUTDOWN_TIMEOUT_MS: '5s' })).toThrow('STOWAGE_SHUTDOWN_TIMEOUT_MS must be a whole number');
  });

  it('runs the janitor every 15 minutes on orphans older than an hour unless set', () => {
    expect(loadConfig({}).janitor).toEqual({ intervalMs: 15 * 60_000, graceMs: 60 * 60_000 });
    expect(loadConfig({ STOWAGE_JANITOR_INTERVAL_MS: '200', STOWAGE_JANITOR_GRACE_MS: '5000' }).janitor).toEqual({ intervalMs: 200, graceMs: 5000 });
    expect(() => loadConfig({ STOWAGE_JANITOR_GRACE_MS: '0' })).toThrow(/STOWAGE_JANITOR_GRACE_MS/);
    expect(() => loadConfig({ STOWAGE_JANITOR_INTERVAL_MS: '15m' })).toThrow('STOWAGE_JANITOR_INTERVAL_MS must be a whole number');
  });

  it('protects /metrics with the private key unless STOWAGE_METRICS_PUBLIC=true', () => {
    expect(loadConfig({}).metrics).toEqual({ public: false });
    expect(loadConfig({ STOWAGE_METRICS_PUBLIC: 'true' }).metrics.public).toBe(true);
    expect(loadConfig({ STOWAGE_METRICS_PUBLIC: 'false' }).metrics.public).toBe(false);
    expect(() => loadConfig({ STOWAGE_METRICS_PUBLIC: 'yes' })).toThrow('STOWAGE_METRICS_PUBLIC must be true or false');
  });

  it('uses SQLite unless STOWAGE_DATABASE_URL names a PostgreSQL database, in the schema STOWAGE_DATABASE_SCHEMA names', () => {
    expect(loadConfig({}).database).toEqual({ kind: 'sqlite' });
    expect(loadConfig({ STOWAGE_DATABASE_URL: '' }).database).toEqual({ kind: 'sqlite' });
    expect(databaseConfigOf('postgresql://u@db:5432/stowage')).toEqual({ kind: 'postgres', url: 'postgresql://u@db:5432/stowage', schema: 'public' });
    expect(loadConfig({ STOWAGE_DATABASE_URL: 'postgres://u@db/lib', STOWAGE_DATABASE_SCHEMA: 'media_2' }).database).toEqual({ kind: 'postgres', url: 'postgres://u@db/lib', schema: 'media_2' });
    for (const bad of ['mysql://u@db/stowage', 'db:5432/stowage', 'not a url']) {
      expect(() => loadConfig({ STOWAGE_DATABASE_URL: bad })).toThrow('STOWAGE_DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    for (const bad of ['Media', 'a-b', 'x; DROP TABLE files', '1abc']) {
      expect(() => loadConfig({ STOWAGE_DATABASE_URL: 'postgres://u@db/lib', STOWAGE_DATABASE_SCHEMA: bad })).toThrow('STOWAGE_DATABASE_SCHEMA must be a lowercase PostgreSQL identifier');
    }
  });

  it('stores blobs on local disk unless STOWAGE_S3_BUCKET names a bucket, read with the other STOWAGE_S3_ variables', () => {
    expect(loadConfig({}).blobStore).toEqual({ kind: 'local' });
    expect(loadConfig({ STOWAGE_S3_BUCKET: 'media' }).blobStore).toEqual({ kind: 's3', bucket: 'media', endpoint: undefined, region: 'us-east-1', forcePathStyle: false, prefix: '' });
    const minio = { STOWAGE_S3_BUCKET: 'media', STOWAGE_S3_ENDPOINT: 'http://minio.internal:9000', STOWAGE_S3_REGION: 'eu-west-3', STOWAGE_S3_FORCE_PATH_STYLE: 'true', STOWAGE_S3_PREFIX: 'tenants/a-1/stowage/' };
    expect(loadConfig(minio).blobStore).toEqual({ kind: 's3', bucket: 'media', endpoint: 'http://minio.internal:9000', region: 'eu-west-3', forcePathStyle: true, prefix: 'tenants/a-1/stowage' });
    for (const bad of ['/media', 'a//b', 'a/../b', '.', 'has space', 'ünï']) {
      expect(() => loadConfig({ STOWAGE_S3_BUCKET: 'media', STOWAGE_S3_PREFIX: bad }), bad).toThrow('STOWAGE_S3_PREFIX must be key segments');
    }
    expect(() => loadConfig({ STOWAGE_S3_BUCKET: 'media', STOWAGE_S3_FORCE_PATH_STYLE: 'yes' })).toThrow('STOWAGE_S3_FORCE_PATH_STYLE must be true or false');
    expect(() => loadConfig({ STOWAGE_S3_BUCKET: 'media', STOWAGE_S3_ENDPOINT: 'minio:9000' })).toThrow(/STOWAGE_S3_ENDPOINT/);
    expect(() => loadConfig({ STOWAGE_S3_BUCKET: 'a/b' })).toThrow('STOWAGE_S3_BUCKET must be a bucket name');
    expect(() => loadConfig({ STOWAGE_S3_ENDPOINT: 'http://minio.internal:9000', STOWAGE_S3_PREFIX: 'x' })).toThrow(
      'STOWAGE_S3_ENDPOINT, STOWAGE_S3_PREFIX set without STOWAGE_S3_BUCKET',
    );
  });

  it('uses the in-process bus unless STOWAGE_REDIS_URL names a Redis server, whose database number goes into the channel prefix', () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ STOWAGE_REDIS_URL: '' }).redis).toBeUndefined();
    expect(loadConfig({ STOWAGE_REDIS_URL: 'redis://cache:6379' }).redis).toEqual({ url: 'redis://cache:6379', channelPrefix: 'stowage:0:' });
    expect(loadConfig({ STOWAGE_REDIS_URL: 'rediss://u:p%40ss@cache.example.com:6380/3' }).redis).toEqual({ url: 'rediss://u:p%40ss@cache.example.com:6380/3', channelPrefix: 'stowage:3:' });
    expect(loadConfig({ STOWAGE_REDIS_URL: 'redis://cache/3', STOWAGE_REDIS_PREFIX: 'media-staging:' }).redis?.channelPrefix).toBe('media-staging:');
    for (const bad of ['cache:6379', 'http://cache:6379', 'redis://cache:6379/zero', 'redis://cache/1/2', 'redis://', 'not a url']) {
      expect(() => loadConfig({ STOWAGE_REDIS_URL: bad }), bad).toThrow('STOWAGE_REDIS_URL must be a redis:// or rediss:// URL');
    }
    expect(() => loadConfig({ STOWAGE_REDIS_URL: 'redis://cache', STOWAGE_REDIS_PREFIX: 'has space' })).toThrow('STOWAGE_REDIS_PREFIX must be 1 to 100 letters');
    expect(() => loadConfig({ STOWAGE_REDIS_PREFIX: 'media:' })).toThrow('STOWAGE_REDIS_PREFIX set without STOWAGE_REDIS_URL');
  });
});

describe('STOWAGE_MULTI_INSTANCE', () => {
  const shared = {
    STOWAGE_DATABASE_URL: 'postgres://u@db/lib',
    STOWAGE_S3_BUCKET: 'media',
    STOWAGE_REDIS_URL: 'redis://cache:6379/2',
    STOWAGE_PRIVATE_KEY: 'private_k',
    STOWAGE_WEBHOOK_SECRET: 'whsec_s',
    STOWAGE_PUBLIC_KEY: 'public_k',
  };

  it('refuses, one line per setting, to run as one of several instances on anything a single process keeps to itself', () => {
    const error = (() => {
      try {
        loadConfig({ STOWAGE_MULTI_INSTANCE: 'true', STOWAGE_S3_BUCKET: 'media' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.problems).toEqual([
      'STOWAGE_MULTI_INSTANCE=true needs STOWAGE_DATABASE_URL: the metadata must be in PostgreSQL (SQLite is one process on one disk)',
      'STOWAGE_MULTI_INSTANCE=true needs STOWAGE_REDIS_URL: live events must go through Redis (the in-process bus reaches one instance)',
      'STOWAGE_MULTI_INSTANCE=true needs STOWAGE_PRIVATE_KEY: every instance must accept the same API key (a generated one lives in one data directory)',
      'STOWAGE_MULTI_INSTANCE=true needs STOWAGE_WEBHOOK_SECRET: every instance must sign webhooks with the same secret (a generated one lives in one data directory)',
      'STOWAGE_MULTI_INSTANCE=true needs STOWAGE_PUBLIC_KEY: every instance must accept the same public key for browser uploads (a generated one lives in one data directory)',
    ]);
  });

  it('starts with PostgreSQL, S3, Redis and shared secrets; single-instance setups stay allowed without the flag', () => {
    const config = loadConfig({ STOWAGE_MULTI_INSTANCE: 'true', ...shared });
    expect(config.database).toMatchObject({ kind: 'postgres' });
    expect(() => loadConfig({})).not.toThrow();
    expect(() => loadConfig({ STOWAGE_MULTI_INSTANCE: 'yes' })).toThrow('STOWAGE_MULTI_INSTANCE must be true or false');
  });
});
