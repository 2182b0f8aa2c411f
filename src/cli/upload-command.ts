import { describeError, failsEveryRequest } from './cli-error.js';
import type { StowageClient } from './client.js';
import { formatBytes, formatDuration } from './format.js';
import type { Io } from './io.js';
import type { RemoteFile } from './operations.js';
import { forEachConcurrently } from './pool.js';
import type { UploadProgress } from './progress.js';
import { createBarProgress } from './progress-bars.js';
import { createLineProgress } from './progress-lines.js';
import { withRetry } from './retry.js';
import { type PassedOver, planUploads, type UploadTask } from './walk.js';

export interface UploadOptions {
  folder: string;
  tags: string[] | undefined;
  concurrency: number;
  private: boolean;
  /** false with `--no-unique`: keep the names, and a file at an existing path becomes a new version. */
  unique: boolean;
  json: boolean;
}

export const UPLOAD_ATTEMPTS = 3;
const FIRST_RETRY_DELAY_MS = 500;

/**
 * Bars on a terminal, lines otherwise. With `--json` stdout carries only the JSON lines, so progress goes to
 * stderr, and only as bars when stderr is a terminal (failures are always told).
 */
function chooseProgress(io: Io, json: boolean): UploadProgress {
  if (json) return io.stderr.isTTY ? createBarProgress(io.stderr) : createLineProgress({ out: undefined, err: io.stderr });
  return io.stdout.isTTY ? createBarProgress(io.stdout) : createLineProgress({ out: io.stdout, err: io.stderr });
}

/** `summary: 3 uploaded (1.2 MB), 1 skipped, 1 failed in 2.1s`, then each skip and failure with its reason. */
function summaryOf(uploaded: readonly RemoteFile[], skipped: readonly PassedOver[], failed: readonly PassedOver[], elapsedMs: number): string {
  const bytes = uploaded.reduce((sum, file) => sum + file.size, 0);
  return [
    `summary: ${uploaded.length} uploaded (${formatBytes(bytes)}), ${skipped.length} skipped, ${failed.length} failed in ${formatDuration(elapsedMs)}`,
    ...skipped.map((s) => `  skipped ${s.display}: ${s.reason}`),
    ...failed.map((f) => `  failed ${f.display}: ${f.reason}`),
  ].join('\n');
}

/**
 * `stowage upload <files, folders or URLs...>`: plans the uploads, sends them `concurrency` at a time with
 * retries of transient failures, shows progress, prints a summary. A failure every further request would
 * meet too (server unreachable, key refused) stops the files not yet started.
 * @returns the exit code: 1 when any input failed, else 0.
 */
export async function runUpload(client: StowageClient, inputs: readonly string[], options: UploadOptions, io: Io): Promise<number> {
  const startedAt = Date.now();
  const plan = await planUploads(inputs, options.folder);
  const summaryOut = options.json ? io.stderr : io.stdout;
  const uploaded: RemoteFile[] = [];
  const failed: PassedOver[] = [...plan.unusable];
  for (const input of plan.unusable) io.stderr.write(`failed ${input.display}: ${input.reason}\n`);
  let stoppedBy: unknown;

  const progress = chooseProgress(io, options.json);
  progress.begin(
    plan.tasks.length,
    plan.tasks.reduce((sum, task) => sum + (task.source.kind === 'file' ? task.source.size : 0), 0),
  );
  const send = async (task: UploadTask) => {
    if (stoppedBy !== undefined) {
      failed.push({ display: task.display, reason: `not sent: ${describeError(stoppedBy)}` });
      return;
    }
    const shown = progress.start(task);
    try {
      const params = { source: task.source, fileName: task.fileName, folder: task.folder, tags: options.tags, isPrivateFile: options.private, useUniqueFileName: options.unique };
      const file = await withRetry(() => client.upload(params, (bytes) => shown.sent(bytes)), {
        attempts: UPLOAD_ATTEMPTS,
        firstDelayMs: FIRST_RETRY_DELAY_MS,
        onRetry: (attempt, error) => shown.retrying(attempt, UPLOAD_ATTEMPTS, error),
      });
      shown.uploaded(file);
      uploaded.push(file);
      if (options.json) io.stdout.write(`${JSON.stringify(file)}\n`);
    } catch (error) {
      shown.failed(error);
      failed.push({ display: task.display, reason: describeError(error) });
      if (failsEveryRequest(error)) stoppedBy ??= error;
    }
  };
  await forEachConcurrently(plan.tasks, options.concurrency, send);
  progress.end();

  summaryOut.write(`${summaryOf(uploaded, plan.skipped, failed, Date.now() - startedAt)}\n`);
  if (stoppedBy !== undefined) io.stderr.write(`error: ${describeError(stoppedBy)}\n`);
  return failed.length > 0 ? 1 : 0;
}
