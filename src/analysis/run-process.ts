import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { BinaryNotFoundError, MediaTimeoutError } from './errors.js';
import { redactProcessOutput } from './redact-output.js';

/** Resource limits the kernel enforces on the child (`ulimit` in a `/bin/sh` that then `exec`s it). */
export interface ProcessLimits {
  /** Address space in bytes: allocations past it fail, so the child's memory can never exceed it. */
  memoryBytes?: number;
  /** CPU seconds (all threads together): the kernel kills the child past it, even if this process has died. */
  cpuSeconds?: number;
}

export interface RunProcessOptions {
  /** Kill the process (SIGKILL) after this many milliseconds. */
  timeoutMs: number;
  /** Stop reading stdout past this many bytes and kill the process. */
  maxStdoutBytes: number;
  /** Aborting kills the process; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  limits?: ProcessLimits;
}

export interface ProcessResult {
  /** Exit code, or `null` when a signal ended the process. */
  code: number | null;
  /** The signal that ended the process (a crash, or the kernel enforcing a limit), else `null`. */
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** The last few KiB of stderr, for error messages, with local paths and addresses redacted (`redactProcessOutput`). */
  stderr: string;
  /** True when stdout reached `maxStdoutBytes` and the rest was discarded. */
  truncated: boolean;
}

const STDERR_TAIL_BYTES = 8 * 1024;
/** What `sh` answers when it cannot `exec` the command: not found, not executable. */
const SH_CANNOT_EXEC = new Set([126, 127]);

/** Process groups still running, killed if this process exits first (they are detached from its own group). */
const running = new Set<number>();
const killRunning = () => {
  for (const pid of running) killGroup(pid);
};

function track(pid: number): void {
  if (running.size === 0) process.on('exit', killRunning);
  running.add(pid);
}

function untrack(pid: number): void {
  if (running.delete(pid) && running.size === 0) process.off('exit', killRunning);
}

/** SIGKILL to the child's whole process group (it leads one: spawned detached), so nothing it started outlives it. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The command and arguments that run `command` under `limits`: `sh -c 'ulimit …; exec "$@"'`, no shell parsing of the arguments. */
export function withLimits(command: string, args: readonly string[], limits: ProcessLimits | undefined): [string, string[]] {
  const settings = [
    ...(limits?.memoryBytes ? [`ulimit -v ${Math.max(1, Math.floor(limits.memoryBytes / 1024))}`] : []),
    ...(limits?.cpuSeconds ? [`ulimit -t ${Math.max(1, Math.ceil(limits.cpuSeconds))}`] : []),
  ];
  if (settings.length === 0) return [command, [...args]];
  return ['/bin/sh', ['-c', `${settings.join(' && ')} && exec "$@"`, 'sh', command, ...args]];
}

/**
 * Runs an executable without a shell (with `limits`, through `/bin/sh` only to set them), collecting stdout into
 * memory (bounded) and the tail of stderr. The child leads its own process group, which is killed whole (SIGKILL:
 * ffmpeg can ignore SIGTERM while it encodes) on timeout, abort, or when this process exits.
 * Resolves whatever the exit code; the caller decides what a failure means.
 *
 * @throws MediaTimeoutError when `timeoutMs` passes first (the process is killed).
 * @throws BinaryNotFoundError when the executable does not exist or is not executable.
 */
export function runProcess(command: string, args: readonly string[], options: RunProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    options.signal?.throwIfAborted();
    const [file, argv] = withLimits(command, args, options.limits);
    // glibc reserves 64 MiB of address space per malloc arena (up to 8 per core): with an address-space limit
    // that reservation, not memory actually used, would decide when allocations fail.
    const env = options.limits?.memoryBytes ? { ...process.env, MALLOC_ARENA_MAX: '2' } : process.env;
    const child = spawn(file, argv, {
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      detached: true,
      env,
    });
    if (child.pid !== undefined) track(child.pid);
    const chunks: Buffer[] = [];
    let stdoutBytes = 0;
    let truncated = false;
    let stderr = '';
    let failure: Error | undefined;

    const kill = (error?: Error) => {
      failure ??= error;
      if (child.pid !== undefined) killGroup(child.pid);
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
      if (child.pid !== undefined) untrack(child.pid);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      cleanUp();
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        reject(new BinaryNotFoundError(`Cannot run ${command}: ${error.code}`, { cause: error }));
      } else {
        reject(error);
      }
    });
    child.on('close', (code, signal) => {
      cleanUp();
      if (failure) reject(failure);
      else if (file !== command && code !== null && SH_CANNOT_EXEC.has(code)) reject(new BinaryNotFoundError(`Cannot run ${command}: ${stderr.trim()}`));
      else resolve({ code, signal, stdout: Buffer.concat(chunks), stderr: redactProcessOutput(stderr, [command, ...args]), truncated });
    });
  });
}

/** ffmpeg's stderr as one line for an error message: non-empty lines joined with "; ", at most 500 chars, redacted. */
export function toErrorSummary(stderr: string): string {
  const text = redactProcessOutput(stderr)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('; ');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
