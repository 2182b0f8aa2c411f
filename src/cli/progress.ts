import type { RemoteFile } from './operations.js';
import type { UploadTask } from './walk.js';

/** How one file's upload is going. */
export interface FileProgress {
  /** The request took `bytes` more of the file. */
  sent(bytes: number): void;
  /** Attempt `attempt` (of `attempts`) starts over after `error`. */
  retrying(attempt: number, attempts: number, error: unknown): void;
  uploaded(file: RemoteFile): void;
  failed(error: unknown): void;
}

/** Shows a bulk upload's progress: as bars on a terminal, as lines in a log, or only its failures. */
export interface UploadProgress {
  begin(totalFiles: number, totalBytes: number): void;
  start(task: UploadTask): FileProgress;
  /** Everything settled: final rendering, before the summary. */
  end(): void;
}

/** The size a task is counted as: local files have one, URLs are known only once the server fetched them. */
export const sizeOf = (task: UploadTask): number => (task.source.kind === 'file' ? task.source.size : 0);
