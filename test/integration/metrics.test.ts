import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiter } from '../../src/analysis/concurrency.js';
import { RenderQueue } from '../../src/delivery/render-queue.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { makeJpeg, randomBytesOf } from '../helpers/fixtures.js';
import { Scrape } from '../helpers/prometheus.js';
import { basicAuth, startTestApp, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

const MAX_FILE_BYTES = 100_000;

let t: TestApp;
let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await makeJpeg(64, 48);
  // Files named fail-* get their webhook refused, so it stays queued for a retry (10 minutes away).
  hooks = await startWebhookReceiver((hook) => (String(hook.json.data?.name).startsWith('fail-') ? 500 : 200));
  t = await startTestApp({ STOWAGE_MAX_FILE_SIZE: String(MAX_FILE_BYTES), STOWAGE_WEBHOOK_URLS: hooks.url, STOWAGE_WEBHOOK_RETRY_BASE_MS: '600000', STOWAGE_URL_ALLOWLIST: '127.0.0.1/32' });
});
afterAll(async () => {
  await t.close();
  await hooks.close();
});

async function scrape(app = t, auth: string | null = basicAuth()): Promise<Scrape> {
  const res = await fetch(`${app.url}/metrics`, { headers: auth ? { authorization: auth } : {} });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return Scrape.parse(await res.text());
}

const uploadMultipart = (data: Uint8Array, fileName: string) => t.upload(UPLOAD_MUTATION, { file: null, fileName }, { path: 'variables.file', data, filename: fileName });

describe('/metrics', () => {
  it('asks for the private key like /graphql: 401 without one, 403 with a wrong one', async () => {
    const anonymous = await fetch(`${t.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="Stowage"/);
    expect((await anonymous.json()).errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', parameter: 'Authorization' });
    const wrong = await fetch(`${t.url}/metrics`, { headers: { authorization: basicAuth('not-the-key') } });
    expect(wrong.status).toBe(403);
    expect((await wrong.json()).errors[0].extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('counts a successful upload with its bytes, its analysis, and the GraphQL request that made it', async () => {
    const res = await uploadMultipart(jpeg, 'counted.jpg');
    expect(res.errors).toBeUndefined();
    // Counted when the server's response finishes, which can be just after the client has read it.
    await expect.poll(async () => (await scrape()).value('stowage_http_requests_total', { route: 'graphql', method: 'POST', status: '2xx' }) ?? 0).toBeGreaterThanOrEqual(1);
    const s = await scrape();
    expect(s.value('stowage_uploads_total', { source: 'multipart', outcome: 'success' })).toBe(1);
    expect(s.value('stowage_upload_bytes_total', { source: 'multipart', outcome: 'success' })).toBe(jpeg.length);
    expect(s.value('stowage_analysis_duration_seconds_count', { kind: 'image', outcome: 'success' })).toBe(1);
    expect(s.value('stowage_analysis_duration_seconds_sum', { kind: 'image', outcome: 'success' })).toBeGreaterThan(0);
    expect(s.value('stowage_http_requests_total', { route: 'graphql', method: 'POST', status: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(s.value('stowage_http_request_duration_seconds_count', { route: 'graphql', method: 'POST', status: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(s.value('stowage_http_request_duration_seconds_bucket', { route: 'graphql', method: 'POST', status: '2xx', le: '+Inf' })).toBeGreaterThanOrEqual(1);
  });

  it('counts refused uploads by source and error code, with the bytes received before the refusal', async () => {
    const tooLarge = await uploadMultipart(randomBytesOf(3 * MAX_FILE_BYTES), 'too-large.bin');
    expect(tooLarge.errors?.[0]?.extensions.code).toBe('FILE_TOO_LARGE');
    const badBase64 = await t.gql(UPLOAD_MUTATION, { file: 'not base64 at all!', fileName: 'bad.bin' });
    expect(badBase64.errors?.[0]?.extensions.code).toBe('BAD_REQUEST');
    const s = await scrape();
    expect(s.value('stowage_uploads_total', { source: 'multipart', outcome: 'FILE_TOO_LARGE' })).toBe(1);
    // Received until the limit was passed: more than it, never the whole file.
    const refusedBytes = s.value('stowage_upload_bytes_total', { source: 'multipart', outcome: 'FILE_TOO_LARGE' }) as number;
    expect(refusedBytes).toBeGreaterThan(MAX_FILE_BYTES);
    expect(refusedBytes).toBeLessThanOrEqual(3 * MAX_FILE_BYTES);
    expect(s.value('stowage_uploads_total', { source: 'base64', outcome: 'BAD_REQUEST' })).toBe(1);
    expect(s.value('stowage_uploads_total', { source: 'multipart', outcome: 'success' })).toBe(1);
  });

  it('counts deliveries by status class, and renders by kind, with the bytes the derivative cache then holds', async () => {
    const file = (await uploadMultipart(jpeg, 'delivered.jpg')).data?.uploadFile;
    const original = await fetch(file.url);
    expect(original.status).toBe(200);
    await original.arrayBuffer();
    const missing = await fetch(`${t.url}/no/such/file.jpg`);
    expect(missing.status).toBe(404);
    const before = await scrape();
    expect(before.value('stowage_derivative_cache_bytes')).toBe(0);

    const resized = await fetch(`${file.url}?tr=w-20`);
    expect(resized.status).toBe(200);
    const resizedBytes = (await resized.arrayBuffer()).byteLength;
    const thumbnail = await fetch(file.thumbnailUrl);
    expect(thumbnail.status).toBe(200);
    const thumbnailBytes = (await thumbnail.arrayBuffer()).byteLength;

    // A request is counted when the server's response finishes, which can be just after the client has read it.
    await expect.poll(async () => (await scrape()).value('stowage_http_requests_total', { route: 'delivery', method: 'GET', status: '2xx' })).toBe(3);
    const s = await scrape();
    expect(s.value('stowage_http_requests_total', { route: 'delivery', method: 'GET', status: '2xx' })).toBe(3);
    expect(s.value('stowage_http_requests_total', { route: 'delivery', method: 'GET', status: '4xx' })).toBe(1);
    expect(s.value('stowage_http_request_duration_seconds_count', { route: 'delivery', method: 'GET', status: '2xx' })).toBe(3);
    expect(s.value('stowage_render_duration_seconds_count', { kind: 'image', outcome: 'success' })).toBe(1);
    expect(s.value('stowage_render_duration_seconds_count', { kind: 'thumbnail', outcome: 'success' })).toBe(1);
    expect(s.value('stowage_derivative_cache_bytes')).toBe(resizedBytes + thumbnailBytes);
    // Served again from the cache: nothing is rendered.
    expect((await fetch(`${file.url}?tr=w-20`)).status).toBe(200);
    expect((await scrape()).value('stowage_render_duration_seconds_count', { kind: 'image', outcome: 'success' })).toBe(1);
  });

  it('reports the job queue by kind and state, and webhook deliveries by outcome', async () => {
    const depth = (s: Scrape) => s.series('stowage_job_queue_depth');
    const kinds = new Set(depth(await scrape()).map((sample) => sample.labels.kind));
    expect(kinds).toEqual(new Set(['webhook', 'extension.auto-tag', 'extension.remove-bg', 'upload.pre-transform', 'upload.post-transform']));
    expect(new Set(depth(await scrape()).map((sample) => sample.labels.state))).toEqual(new Set(['pending', 'running', 'dead']));

    const failing = await t.gql(UPLOAD_MUTATION, { file: jpeg.toString('base64'), fileName: 'fail-hook.jpg' });
    expect(failing.errors).toBeUndefined();
    await expect.poll(async () => (await scrape()).value('stowage_webhook_deliveries_total', { outcome: 'retrying' }), { timeout: 10_000 }).toBe(1);
    const s = await scrape();
    expect(s.value('stowage_job_queue_depth', { kind: 'webhook', state: 'pending' })).toBe(1);
    expect(s.value('stowage_job_queue_depth', { kind: 'webhook', state: 'dead' })).toBe(0);
    expect(s.value('stowage_uploads_total', { source: 'base64', outcome: 'success' })).toBe(1);
    // The earlier uploads' webhooks were accepted.
    await expect.poll(async () => (await scrape()).value('stowage_webhook_deliveries_total', { outcome: 'delivered' }), { timeout: 10_000 }).toBe(hooks.accepted().length);
    expect(hooks.accepted().length).toBeGreaterThanOrEqual(2);
  });

  it("includes Node's default metrics: event-loop lag, memory, CPU", async () => {
    const s = await scrape();
    expect(s.value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(s.value('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(s.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(s.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(s.series('stowage_http_requests_total', { route: 'metrics', status: '2xx' }).length).toBe(1);
  });

  it('is served without the key with STOWAGE_METRICS_PUBLIC=true, from a registry of its own, and counts evictions', async () => {
    const open = await startTestApp({ STOWAGE_METRICS_PUBLIC: 'true', STOWAGE_DERIVATIVE_CACHE_BYTES: '1' });
    try {
      const fresh = await scrape(open, null);
      // Another app in this process: none of t's uploads are here.
      expect(fresh.series('stowage_uploads_total')).toEqual([]);
      const file = (await open.upload(UPLOAD_MUTATION, { file: null, fileName: 'e.jpg' }, { path: 'variables.file', data: jpeg, filename: 'e.jpg' })).data?.uploadFile;
      // With a 1-byte cap, each new derivative evicts the one before it.
      for (const width of [10, 20, 30]) expect((await fetch(`${file.url}?tr=w-${width}`)).status).toBe(200);
      const s = await scrape(open, null);
      expect(s.value('stowage_derivative_cache_evictions_total')).toBe(2);
      expect(s.value('stowage_derivative_cache_evicted_bytes_total')).toBeGreaterThan(0);
      expect(s.value('stowage_uploads_total', { source: 'multipart', outcome: 'success' })).toBe(1);
      expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
    } finally {
      await open.close();
    }
  });
});

describe('render metrics', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('report queue depth, refusals, and render time by kind and outcome', async () => {
    const metrics = createMetrics();
    const video = new RenderQueue(createLimiter(1), 10_000, { maxQueued: 1, kind: 'video', metrics: metrics.renders });
    const image = new RenderQueue(createLimiter(1), 10_000, { kind: 'image', metrics: metrics.renders });
    metrics.readFrom({ renderQueues: { image, video }, jobs: { kinds: [], counts: () => [] }, derivativeCache: { totalBytes: () => 0 } });
    const scrapeRegistry = async () => Scrape.parse(await metrics.registry.metrics());

    const gate = deferred();
    const running = video.run('derived/v/a.mp4', () => gate.promise);
    const waiting = video.run('derived/v/b.mp4', async () => {});
    await expect(video.run('derived/v/c.mp4', async () => {})).rejects.toMatchObject({ code: 'TOO_MANY_TRANSFORMATIONS' });
    let s = await scrapeRegistry();
    expect(s.value('stowage_render_queue_depth', { queue: 'video', state: 'running' })).toBe(1);
    expect(s.value('stowage_render_queue_depth', { queue: 'video', state: 'waiting' })).toBe(1);
    expect(s.value('stowage_render_queue_depth', { queue: 'image', state: 'running' })).toBe(0);
    expect(s.value('stowage_render_refusals_total', { kind: 'video', reason: 'TOO_MANY_TRANSFORMATIONS' })).toBe(1);

    // A caller that waits too little is answered TRANSFORMATION_TIMEOUT while the render carries on.
    await expect(video.withWait(1).run('derived/v/a.mp4', () => gate.promise)).rejects.toMatchObject({ code: 'TRANSFORMATION_TIMEOUT' });
    gate.resolve();
    await Promise.all([running, waiting]);
    await image.run('thumbnails/v.webp', async () => {});
    await expect(image.run('derived/v/broken.png', () => Promise.reject(new Error('decoder crashed')))).rejects.toThrow('decoder crashed');

    s = await scrapeRegistry();
    expect(s.value('stowage_render_refusals_total', { kind: 'video', reason: 'TRANSFORMATION_TIMEOUT' })).toBe(1);
    expect(s.value('stowage_render_queue_depth', { queue: 'video', state: 'running' })).toBe(0);
    expect(s.value('stowage_render_duration_seconds_count', { kind: 'video', outcome: 'success' })).toBe(2);
    expect(s.value('stowage_render_duration_seconds_count', { kind: 'thumbnail', outcome: 'success' })).toBe(1);
    expect(s.value('stowage_render_duration_seconds_count', { kind: 'image', outcome: 'failure' })).toBe(1);
    expect(s.value('stowage_render_duration_seconds_count', { kind: 'image', outcome: 'success' })).toBeUndefined();
  });
});
