import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BinaryNotFoundError } from './errors.js';

/** Absolute paths of the ffmpeg and ffprobe executables to run. */
export interface FfmpegPaths {
  ffmpeg: string;
  ffprobe: string;
}

/** Env var naming an ffmpeg executable to use instead of the one in `@ffmpeg-installer/ffmpeg`. */
export const FFMPEG_PATH_ENV = 'STOWAGE_FFMPEG_PATH';
/** Env var naming an ffprobe executable to use instead of the one in `@ffprobe-installer/ffprobe`. */
export const FFPROBE_PATH_ENV = 'STOWAGE_FFPROBE_PATH';

/**
 * The path exported by an `@ffmpeg-installer`-style package (`{ path }`). These packages pick the
 * platform's optional dependency, which holds the static binary itself, and throw (sometimes a bare
 * string) when the platform has none.
 */
function packageBinary(packageName: string, envName: string): string {
  const require = createRequire(import.meta.url);
  try {
    const { path } = require(packageName) as { path: string };
    ensureExecutable(path);
    return path;
  } catch (error) {
    if (error instanceof BinaryNotFoundError) throw error;
    throw new BinaryNotFoundError(
      `${packageName} provides no executable for ${process.platform}-${process.arch} (${String(error)}); set ${envName} to a system binary`,
      { cause: error },
    );
  }
}

/**
 * Makes `path` executable by its owner, group and others if it is not executable now. The ffprobe binary
 * is packed without execute bits (`-rw-r--r--` in `@ffprobe-installer/linux-x64@5.2.0`) and its package
 * relies on a postinstall `chmod u+x`, which does not run under `npm install --ignore-scripts` or an npm
 * that blocks install scripts, and which leaves it unusable for any user but the installing one.
 *
 * @throws BinaryNotFoundError when the file is missing or its mode cannot be changed.
 */
export function ensureExecutable(path: string): void {
  try {
    accessSync(path, constants.X_OK);
    return;
  } catch {
    // fall through: try to fix the mode
  }
  try {
    chmodSync(path, statSync(path).mode | 0o111);
    accessSync(path, constants.X_OK);
  } catch (error) {
    throw new BinaryNotFoundError(`${path} is missing or cannot be made executable`, { cause: error });
  }
}

const fromEnv = (env: Record<string, string | undefined>, name: string) => {
  const value = env[name]?.trim();
  return value ? value : undefined;
};

/**
 * Where ffmpeg and ffprobe are: `STOWAGE_FFMPEG_PATH` / `STOWAGE_FFPROBE_PATH` when set (e.g. Debian's
 * `/usr/bin/ffmpeg`), else the static builds shipped inside the npm packages `@ffmpeg-installer/ffmpeg`
 * (ffmpeg, 2018 build) and `@ffprobe-installer/ffprobe` (ffprobe, 2023 build), so that `npm install` alone
 * is enough. A package is only loaded when its override is absent; its binary is made executable if the
 * install left it without execute bits (see {@link ensureExecutable}). Overrides are not checked here: a
 * missing one fails when it is run (`BinaryNotFoundError` from the probe).
 *
 * @throws BinaryNotFoundError when no override is set and the package has no usable binary for this platform.
 */
export function resolveFfmpegPaths(env: Record<string, string | undefined>): FfmpegPaths {
  return {
    ffmpeg: fromEnv(env, FFMPEG_PATH_ENV) ?? packageBinary('@ffmpeg-installer/ffmpeg', FFMPEG_PATH_ENV),
    ffprobe: fromEnv(env, FFPROBE_PATH_ENV) ?? packageBinary('@ffprobe-installer/ffprobe', FFPROBE_PATH_ENV),
  };
}
