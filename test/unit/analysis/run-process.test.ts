import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../../src/analysis/binaries.js';
import { BinaryNotFoundError, MediaTimeoutError } from '../../../src/analysis/errors.js';
import { runProcess } from '../../../src/analysis/run-process.js';
import { eventually, readProcess } from '../../helpers/processes.js';

const { ffmpeg } = resolveFfmpegPaths({});
const MiB = 1024 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-run-process-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const gone = (pid: number) => eventually(async () => (await readProcess(pid)) === undefined, 2000);

/** A shell that starts a `sleep` of its own (writing its pid to `pidFile`) and waits for it. */
const shellWithChild = (pidFile: string) => ['-c', `sleep 30 & echo $! > '${pidFile}'; wait`];

describe('runProcess', () => {
  it('kills the whole process group when the time is up, children included', async () => {
    const pidFile = path.join(dir, 'timeout.pid');
    await expect(runProcess('/bin/sh', shellWithChild(pidFile), { timeoutMs: 500, maxStdoutBytes: 1024 })).rejects.toBeInstanceOf(MediaTimeoutError);
    expect(await gone(Number(await fs.readFile(pidFile, 'utf8')))).toBe(true);
  });

  it('kills the whole process group when aborted', async () => {
    const pidFile = path.join(dir, 'abort.pid');
    const controller = new AbortController();
    const run = runProcess('/bin/sh', shellWithChild(pidFile), { timeoutMs: 30_000, maxStdoutBytes: 1024, signal: controller.signal });
    while (!(await fs.readFile(pidFile, 'utf8').catch(() => ''))) await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error('closing'));
    await expect(run).rejects.toThrow('closing');
    expect(await gone(Number(await fs.readFile(pidFile, 'utf8')))).toBe(true);
  });

  it('runs the command under an address-space limit, where large allocations fail', async () => {
    // One 6000×6000 RGBA frame is 137 MiB.
    const args = ['-v', 'error', '-f', 'lavfi', '-i', 'color=size=6000x6000', '-frames:v', '1', '-pix_fmt', 'rgba', '-f', 'null', '-'];
    const free = await runProcess(ffmpeg, args, { timeoutMs: 30_000, maxStdoutBytes: 1024 });
    expect(free).toMatchObject({ code: 0, stderr: '' });
    // This ffmpeg exits 0 when it cannot allocate its input's frame; the message is what tells.
    const limited = await runProcess(ffmpeg, args, { timeoutMs: 30_000, maxStdoutBytes: 1024, limits: { memoryBytes: 96 * MiB } });
    expect(limited.stderr).toContain('Cannot allocate memory');
  });

  it('reports a missing executable as such, limits or not', async () => {
    const missing = path.join(dir, 'no-such-ffmpeg');
    await expect(runProcess(missing, [], { timeoutMs: 5000, maxStdoutBytes: 1024 })).rejects.toBeInstanceOf(BinaryNotFoundError);
    await expect(runProcess(missing, [], { timeoutMs: 5000, maxStdoutBytes: 1024, limits: { memoryBytes: 64 * MiB } })).rejects.toBeInstanceOf(BinaryNotFoundError);
  });
});
