import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { BinaryNotFoundError, MediaTimeoutError } from './errors.js';

export interface RunProcessOptions {
  /** Kill the process (SIGKILL) after this many milliseconds. */
  timeoutMs: number;
  /** Stop reading stdout past this many bytes and kill the process. */
  maxStdoutBytes: number;
  /** Aborting kills the process; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ProcessResult {
  /** Exit code, or `null` when a signal ended the process. */
  code: number | null;
  stdout: Buffer;
  /** The last few KiB of stderr, for error messages. */
  stderr: string;
  /** True when stdout reached `maxStdoutBytes` and the rest was discarded. */
  truncated: boolean;
}

const STDERR_TAIL_BYTES = 8 * 1024;

/**
 * Runs an executable without a shell, collecting stdout into memory (bounded) and the tail of stderr.
 * Resolves whatever the exit code; the caller decides what a failure means.
 *
 * @throws MediaTimeoutError when `timeoutMs` passes first (the process is killed).
 * @throws BinaryNotFoundError when the executable does not exist or is not executable.
 */
export function runProcess(command: string, args: readonly string[], options: RunProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    options.signal?.throwIfAborted();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const chunks: Buffer[] = [];
    let stdoutBytes = 0;
    let truncated = false;
    let stderr = '';
    let failure: Error | undefined;

    const kill = (error?: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(new MediaTimeoutError(basename(command), options.timeoutMs)), options.timeoutMs);
    const onAbort = () => kill(options.signal?.reason instanceof Error ? options.signal.reason : new Error('Aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      const room = options.maxStdoutBytes - stdoutBytes;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        stdoutBytes += room;
        truncated = true;
        kill();
        return;
      }
      chunks.push(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL_BYTES);
    });

    const cleanUp = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      cleanUp();
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        reject(new BinaryNotFoundError(`Cannot run ${command}: ${error.code}`, { cause: error }));
      } else {
        reject(error);
      }
    });
    child.on('close', (code) => {
      cleanUp();
      if (failure) reject(failure);
      else resolve({ code, stdout: Buffer.concat(chunks), stderr, truncated });
    });
  });
}

/** ffmpeg's stderr as one line for an error message: non-empty lines joined with "; ", at most 500 chars. */
export function toErrorSummary(stderr: string): string {
  const text = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('; ');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
