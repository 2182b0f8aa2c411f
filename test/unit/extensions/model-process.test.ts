import fs from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelHosts } from '../../../src/extensions/model-hosts.js';
import { ModelProcessCrashedError, UndecodableImageError } from '../../../src/extensions/models/errors.js';
import { ModelProcess } from '../../../src/extensions/models/model-process.js';

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('models in a child process (real BlazeFace)', () => {
  const tfjs = new ModelProcess({ name: 'test', timeoutMs: 60_000 });
  const hosts = createModelHosts();
  afterAll(async () => {
    await tfjs.close();
    await hosts.close();
  });

  it('answers in another process, and rebuilds its errors with their own class', async () => {
    const photo = await fs.readFile(new URL('../../fixtures/person-at-table.jpg', import.meta.url));
    const faces = await hosts.findFaces(photo);
    expect(faces).toHaveLength(1);
    const error = await hosts.tagger.tag(Buffer.from('not an image'), { maxTags: 3, minConfidence: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UndecodableImageError);
    expect((error as Error).message).toMatch(/Cannot decode the image/);
  });

  it('survives a crash: the request in flight fails, the next one starts a new process', async () => {
    const photo = await fs.readFile(new URL('../../fixtures/person-at-table.jpg', import.meta.url));
    await tfjs.run({ kind: 'faces', image: photo });
    const first = tfjs.pid as number;
    expect(first).not.toBe(process.pid);
    const inFlight = tfjs.run({ kind: 'faces', image: photo });
    process.kill(first, 'SIGKILL');
    await expect(inFlight).rejects.toBeInstanceOf(ModelProcessCrashedError);
    await expect(tfjs.run({ kind: 'faces', image: photo })).resolves.toHaveLength(1);
    expect(tfjs.pid).not.toBe(first);
  });

  it('kills a process that does not answer in time, and fails its request', async () => {
    const impatient = new ModelProcess({ name: 'impatient', timeoutMs: 20 });
    try {
      const request = impatient.run({ kind: 'faces', image: Buffer.from('x') });
      const pid = impatient.pid as number;
      await expect(request).rejects.toThrow(/impatient model process did not answer within 20 ms/);
      expect(isAlive(pid)).toBe(false);
    } finally {
      await impatient.close();
    }
  });

  it('ends its process on close, and refuses work after', async () => {
    await tfjs.run({ kind: 'faces', image: Buffer.from('x') }).catch(() => undefined);
    const pid = tfjs.pid as number;
    expect(isAlive(pid)).toBe(true);
    await tfjs.close();
    expect(isAlive(pid)).toBe(false);
    await expect(tfjs.run({ kind: 'faces', image: Buffer.from('x') })).rejects.toThrow(/closed/);
  });
});
