import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModelProcessCrashedError } from './errors.js';
import { deserializeError, type ModelAnswers, type ModelRequest, type ModelResponse, type ModelTask } from './model-protocol.js';

export interface ModelProcessOptions {
  /** Names the process in errors. */
  name: string;
  /** The entry file; model-host beside this file by default. */
  entry?: URL;
  /**
   * Niceness of the process (0–19). The models use every core they see; a positive niceness lets the server's
   * own thread win the CPU whenever it has work, so requests keep being answered while a model runs. Default 10.
   */
  niceness?: number;
  /** A request not answered within this is taken for a hung model: the process is killed (and so restarted). */
  timeoutMs: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** The file that runs the models: `.ts` under tsx and vitest, `.js` once compiled. */
const defaultEntry = () => new URL(`./model-host${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Node flags a `.ts` entry needs: tsx's loader, by absolute URL so it resolves whatever the working directory. */
function loaderArgs(entry: URL): string[] {
  if (!entry.pathname.endsWith('.ts')) return [];
  return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
}

/**
 * A child process that runs models off the server's event loop: started on the first request, kept for the next
 * ones (each model loads once in it), restarted by the next request after it dies. A crash, an out-of-memory kill
 * or a native fault in a model ends only that process, and so does a request that hangs past `timeoutMs`: the
 * requests it held fail with {@link ModelProcessCrashedError}, and the server goes on. Requests and answers cross
 * as structured clones, so buffers arrive as bytes.
 */
export class ModelProcess {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private readonly killedBecause = new WeakMap<ChildProcess, string>();

  constructor(private readonly options: ModelProcessOptions) {}

  /** The running process's id, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  run<K extends ModelTask['kind']>(task: Extract<ModelTask, { kind: K }>): Promise<ModelAnswers[K]> {
    if (this.closed) return Promise.reject(new ModelProcessCrashedError(`The ${this.options.name} model process is closed`));
    const child = this.start();
    const id = this.nextId++;
    return new Promise<ModelAnswers[K]>((resolve, reject) => {
      const timer = setTimeout(() => this.kill(child, `did not answer within ${this.options.timeoutMs} ms and was killed`), this.options.timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.holdOpen(true);
      child.send({ id, task } satisfies ModelRequest, (error) => {
        if (error) this.settle(id, (p) => p.reject(error));
      });
    });
  }

  /** Stops the process (SIGKILL after a grace period); pending requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  private start(): ChildProcess {
    if (this.child) return this.child;
    const entry = this.options.entry ?? defaultEntry();
    const child = fork(fileURLToPath(entry), [], { execArgv: loaderArgs(entry), serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    try {
      if (child.pid) os.setPriority(child.pid, this.options.niceness ?? 10);
    } catch {
      // Not allowed here: the models still run off the event loop, only with the same priority.
    }
    child.on('message', (response: ModelResponse) => {
      this.settle(response.id, (p) => ('error' in response ? p.reject(deserializeError(response.error)) : p.resolve(response.result)));
    });
    const gone = (reason: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const id of [...this.pending.keys()]) {
        this.settle(id, (p) => p.reject(new ModelProcessCrashedError(`The ${this.options.name} model process ${this.killedBecause.get(child) ?? reason}`)));
      }
    };
    // A process that never started has no 'exit'; a failed send to a live one is reported to its callback.
    child.on('error', (error) => {
      if (child.pid === undefined) gone(`could not start: ${error.message}`);
    });
    child.once('exit', (code, signal) => gone(`${signal ? `was killed by ${signal}` : `exited with code ${code}`} before answering`));
    return child;
  }

  private kill(child: ChildProcess, because: string): void {
    this.killedBecause.set(child, because);
    child.kill('SIGKILL');
  }

  private settle(id: number, how: (pending: Pending) => void): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    how(pending);
    this.holdOpen(this.pending.size > 0);
  }

  /** An idle model process must not keep the server's process alive by itself. */
  private holdOpen(busy: boolean): void {
    const child = this.child;
    if (!child) return;
    if (busy) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }
}
