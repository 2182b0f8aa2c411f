import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { UploadSource } from './client.js';
import { fileNameOfUrl, joinFolder, toFolderSegment } from './remote-path.js';

/** One file to upload, and where it goes. */
export interface UploadTask {
  /** How the user names it: the path as given on the command line (plus the part below a folder), or the URL. */
  display: string;
  source: UploadSource;
  fileName: string;
  /** The Stowage folder it goes into. */
  folder: string;
}

/** An input that is not uploaded, and why. */
export interface PassedOver {
  display: string;
  reason: string;
}

export interface UploadPlan {
  tasks: UploadTask[];
  /** Entries met inside folders that cannot be uploaded (unreadable, special files, symlink loops). */
  skipped: PassedOver[];
  /** Command-line inputs that do not exist or cannot be read: the user asked for them, so they count as failed. */
  unusable: PassedOver[];
}

const isUrl = (input: string) => /^https?:\/\//i.test(input);

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory (or a broken symlink)';
  if (code === 'ELOOP') return 'symlink loop';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

function kindOf(stats: Stats): string {
  if (stats.isSocket()) return 'a socket';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Turns the command line's files, folders and URLs into upload tasks. A folder is walked with its
 * structure kept under `folder`, its own name included, as `cp -r` does: `photos/2024/a.jpg` with
 * folder `/imports` goes to `/imports/photos/2024`. Symlinks are followed, except back into a folder being
 * walked. Entries are visited in name order, so the plan is the same on every run.
 */
export async function planUploads(inputs: readonly string[], folder: string): Promise<UploadPlan> {
  const plan: UploadPlan = { tasks: [], skipped: [], unusable: [] };

  const addFile = async (file: string, display: string, stats: Stats, segments: readonly string[], passOver: (p: PassedOver) => void) => {
    if (!stats.isFile()) return passOver({ display, reason: kindOf(stats) });
    try {
      await fs.access(file, fs.constants.R_OK);
    } catch (error) {
      return passOver({ display, reason: reasonOf(error) });
    }
    plan.tasks.push({ display, source: { kind: 'file', path: file, size: stats.size }, fileName: path.basename(file), folder: joinFolder(folder, segments) });
  };

  const walk = async (dir: string, display: string, segments: readonly string[], ancestors: ReadonlyMap<string, string>): Promise<void> => {
    let names: string[];
    try {
      names = (await fs.readdir(dir)).sort();
    } catch (error) {
      plan.skipped.push({ display, reason: reasonOf(error) });
      return;
    }
    for (const name of names) {
      const child = path.join(dir, name);
      const childDisplay = path.join(display, name);
      const skip = (p: PassedOver) => void plan.skipped.push(p);
      let stats: Stats;
      try {
        stats = await fs.stat(child);
      } catch (error) {
        skip({ display: childDisplay, reason: reasonOf(error) });
        continue;
      }
      if (!stats.isDirectory()) {
        await addFile(child, childDisplay, stats, segments, skip);
        continue;
      }
      const real = await fs.realpath(child).catch(() => child);
      const ancestor = ancestors.get(real);
      if (ancestor !== undefined) {
        skip({ display: childDisplay, reason: `symlink loop: it leads back to ${ancestor}` });
        continue;
      }
      await walk(child, childDisplay, [...segments, toFolderSegment(name)], new Map(ancestors).set(real, childDisplay));
    }
  };

  for (const input of inputs) {
    if (isUrl(input)) {
      plan.tasks.push({ display: input, source: { kind: 'url', url: input }, fileName: fileNameOfUrl(new URL(input)), folder: joinFolder(folder, []) });
      continue;
    }
    const unusable = (p: PassedOver) => void plan.unusable.push(p);
    let stats: Stats;
    try {
      stats = await fs.stat(input);
    } catch (error) {
      unusable({ display: input, reason: reasonOf(error) });
      continue;
    }
    if (!stats.isDirectory()) {
      await addFile(path.resolve(input), input, stats, [], unusable);
      continue;
    }
    const real = await fs.realpath(input);
    const name = path.basename(path.resolve(input));
    await walk(real, input, name ? [toFolderSegment(name)] : [], new Map([[real, input]]));
  }
  return plan;
}
