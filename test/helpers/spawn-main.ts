import { type ChildProcess, spawn } from 'node:child_process';

export interface MainProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code (`null` when ended by a signal it did not handle). */
  exited: Promise<number | null>;
}

const started: ChildProcess[] = [];

/** Kills every process {@link startMain} started that is still running (for `afterAll`). */
export function killStartedMains(): void {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
}

/** Runs `npm start`'s command as a user would and waits until it listens (or exits). */
export async function startMain(env: Record<string, string>): Promise<MainProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await Promise.race([
    new Promise<void>((resolve) => {
      const check = () => (err.includes('listening') ? resolve() : setTimeout(check, 50));
      check();
    }),
    exited,
  ]);
  return { child, stdout: () => out, stderr: () => err, exited };
}
