import fs from 'node:fs/promises';

export interface LiveProcess {
  pid: number;
  ppid: number;
  /** The executable's file name as the kernel knows it (at most 15 characters). */
  comm: string;
  cmdline: string[];
}

/** A process as /proc shows it, or undefined when it has ended (a zombie waiting to be reaped has ended too). */
export async function readProcess(pid: number): Promise<LiveProcess | undefined> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const close = stat.lastIndexOf(')');
  const [state, ppid] = stat.slice(close + 2).split(' ');
  if (state === 'Z' || state === 'X') return undefined;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return { pid, ppid: Number(ppid), comm: stat.slice(stat.indexOf('(') + 1, close), cmdline: cmdline.split('\0').filter(Boolean) };
}

/** Every running process `keep` accepts. */
export async function liveProcesses(keep: (p: LiveProcess) => boolean): Promise<LiveProcess[]> {
  const pids = (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const all = await Promise.all(pids.map(readProcess));
  return all.filter((p): p is LiveProcess => p !== undefined && keep(p));
}

/** The ffmpeg processes this test process started (the server under test runs in it). */
export const ownFfmpegs = () => liveProcesses((p) => p.ppid === process.pid && p.comm === 'ffmpeg');

/** Polls `check` every 50 ms until it holds or `ms` pass; resolves with its last answer. */
export async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
