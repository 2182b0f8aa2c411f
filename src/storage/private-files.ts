import fs from 'node:fs';

/**
 * Everything Stowage keeps on disk (blobs, the database, keys) is readable by the user running it only: private
 * files must not be readable by other local users. Modes are set explicitly, whatever the process umask.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Drops the group and other bits of an existing file or directory this user owns; a missing one is fine. */
export function tightenMode(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  if (stat.uid !== process.getuid?.() || (stat.mode & 0o077) === 0) return;
  fs.chmodSync(file, stat.mode & 0o700);
}

/** Creates `dir` (and missing parents) 0700, or tightens it when it already exists. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tightenMode(dir);
}

/** Creates `file` empty and 0600 unless it exists, in which case it is tightened. */
export function ensurePrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE_MODE));
  tightenMode(file);
}
