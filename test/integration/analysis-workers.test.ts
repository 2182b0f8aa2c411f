import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ImageAnalysisPool } from '../../src/analysis/image-analysis-pool.js';
import { jpegWithAllMetadata } from '../helpers/metadata-fixtures.js';
import { startTestApp } from '../helpers/test-app.js';

// Keeps a handle on the pools the app creates, to see their threads.
const created = vi.hoisted(() => [] as ImageAnalysisPool[]);
vi.mock('../../src/analysis/image-analysis-pool.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/analysis/image-analysis-pool.js')>();
  return {
    ...original,
    createImageAnalysisPool: (size: number) => {
      const pool = original.createImageAnalysisPool(size);
      created.push(pool);
      return pool;
    },
  };
});

const apps: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(apps.map((t) => t.close()));
});

describe('image analysis in worker threads', () => {
  it('analyses uploads in a worker, and app close terminates the workers', async () => {
    const t = await startTestApp({ STOWAGE_ANALYSIS_CONCURRENCY: '3' });
    apps.push(t);
    const pool = created.at(-1) as ImageAnalysisPool;
    expect(pool.threadCount).toBe(0);
    const res = await t.upload(
      'mutation($file: Upload!) { uploadFile(file: $file, fileName: "meta.jpg") { width height embeddedMetadata } }',
      { file: null },
      { path: 'variables.file', data: await jpegWithAllMetadata(), filename: 'meta.jpg' },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.uploadFile).toMatchObject({ width: 32, height: 24, embeddedMetadata: { City: 'Nice' } });
    expect(pool.threadCount).toBe(1);

    await t.close();
    expect(pool.threadCount).toBe(0);
    await expect(pool.run({ path: '/nonexistent', maxPixels: 1 })).rejects.toMatchObject({ name: 'WorkerPoolClosedError' });
  });
});
