import { describeError } from './cli-error.js';
import { formatBytes, formatRate } from './format.js';
import { type UploadProgress, sizeOf } from './progress.js';
import { Tally } from './tally.js';

export interface LineProgressOptions {
  /** Where `uploaded …` and `progress: …` lines go; none prints only retries and failures. */
  out: NodeJS.WritableStream | undefined;
  /** Where retries and failures go. */
  err: NodeJS.WritableStream;
  /** At most one `progress:` line per interval while bytes flow, plus one at the end. */
  intervalMs?: number;
}

/**
 * Progress for logs and pipes: a line per settled file, and every so often
 * `progress: 3/10 files, 12.3 MB/40 MB, 2.1 MB/s`.
 */
export function createLineProgress({ out, err, intervalMs = 1000 }: LineProgressOptions): UploadProgress {
  let tally = new Tally(0, 0);
  let lastLineAt = 0;
  const progressLine = () => {
    lastLineAt = Date.now();
    out?.write(
      `progress: ${tally.filesSettled}/${tally.totalFiles} files, ${formatBytes(tally.bytesDone)}/${formatBytes(tally.totalBytes)}, ${formatRate(tally.rate())}\n`,
    );
  };
  const maybeProgressLine = () => {
    if (Date.now() - lastLineAt >= intervalMs) progressLine();
  };
  return {
    begin(totalFiles, totalBytes) {
      tally = new Tally(totalFiles, totalBytes);
      lastLineAt = tally.startedAt;
    },
    start(task) {
      const key = {};
      return {
        sent(bytes) {
          tally.add(key, bytes);
          maybeProgressLine();
        },
        retrying(attempt, attempts, error) {
          tally.restart(key);
          err.write(`retrying ${task.display} (attempt ${attempt} of ${attempts}): ${describeError(error)}\n`);
        },
        uploaded(file) {
          tally.settle(key, sizeOf(task));
          out?.write(`uploaded ${task.display} → ${file.filePath} (${formatBytes(file.size)})\n`);
          maybeProgressLine();
        },
        failed(error) {
          tally.settle(key, sizeOf(task));
          err.write(`failed ${task.display}: ${describeError(error)}\n`);
          maybeProgressLine();
        },
      };
    },
    end() {
      if (tally.totalFiles > 0) progressLine();
    },
  };
}
