import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { describeError } from './cli-error.js';
import { formatBytes, formatDuration, formatRate } from './format.js';
import { type UploadProgress, sizeOf } from './progress.js';
import { Tally } from './tally.js';

// `eta`, `value` and `total` are cli-progress's own tokens (it counts ETA its own way): ours have other names.
const OVERALL_FORMAT = '{bar} {percentage}% | {files} files | {bytes} | {rate} | ETA {remaining}';
const FILE_FORMAT = '{bar} {percentage}% | {bytes} | {name}';
const NAME_WIDTH = 48;

/** The end of a long path, which tells files apart better than its start. */
const fitName = (name: string) => (name.length <= NAME_WIDTH ? name : `…${name.slice(-(NAME_WIDTH - 1))}`);

/**
 * Progress for a terminal: an overall bar (bytes, files, rate, ETA) above one bar per file being sent.
 * Settled files leave their bar and print their line above the bars.
 */
export function createBarProgress(stream: NodeJS.WritableStream): UploadProgress {
  const bars = new MultiBar({ stream, hideCursor: true, clearOnComplete: false, barsize: 30, fps: 10 }, Presets.shades_classic);
  let tally = new Tally(0, 0);
  let overall: SingleBar | undefined;
  const redrawOverall = () => {
    const eta = tally.etaMs();
    // With no local bytes to count (only URLs, or empty files) the bar counts files instead.
    const byBytes = tally.totalBytes > 0;
    overall?.update(byBytes ? tally.bytesDone : tally.filesSettled, {
      files: `${tally.filesSettled}/${tally.totalFiles}`,
      bytes: `${formatBytes(tally.bytesDone)}/${formatBytes(tally.totalBytes)}`,
      rate: formatRate(tally.rate()),
      remaining: eta === undefined ? '-' : eta < 1000 ? '<1s' : formatDuration(eta),
    });
  };
  return {
    begin(totalFiles, totalBytes) {
      tally = new Tally(totalFiles, totalBytes);
      overall = bars.create(totalBytes > 0 ? totalBytes : Math.max(totalFiles, 1), 0, {}, { format: OVERALL_FORMAT });
      redrawOverall();
    },
    start(task) {
      const key = {};
      const size = sizeOf(task);
      const bytesText = (sent: number) => (task.source.kind === 'url' ? 'fetched by the server' : `${formatBytes(sent)}/${formatBytes(size)}`);
      let sentNow = 0;
      const bar = bars.create(Math.max(size, 1), 0, { name: fitName(task.display), bytes: bytesText(0) }, { format: FILE_FORMAT });
      // Frames come on a timer: draw now, so that even a file sent between two frames shows its bar.
      bars.update();
      const settle = (line: string) => {
        tally.settle(key, size);
        bars.remove(bar);
        bars.log(`${line}\n`);
        redrawOverall();
      };
      return {
        sent(bytes) {
          sentNow += bytes;
          tally.add(key, bytes);
          bar.update(sentNow, { bytes: bytesText(sentNow) });
          redrawOverall();
        },
        retrying(attempt, attempts, error) {
          sentNow = 0;
          tally.restart(key);
          bar.update(0, { bytes: bytesText(0) });
          bars.log(`retrying ${task.display} (attempt ${attempt} of ${attempts}): ${describeError(error)}\n`);
        },
        uploaded(file) {
          settle(`uploaded ${task.display} → ${file.filePath} (${formatBytes(file.size)})`);
        },
        failed(error) {
          settle(`failed ${task.display}: ${describeError(error)}`);
        },
      };
    },
    end() {
      redrawOverall();
      // Lines logged since the last frame are written only by a redraw.
      bars.update();
      bars.stop();
    },
  };
}
