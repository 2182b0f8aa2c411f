import { accessSync, constants, statSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureExecutable, resolveFfmpegPaths } from '../../../src/analysis/binaries.js';
import { BinaryNotFoundError } from '../../../src/analysis/errors.js';

describe('resolveFfmpegPaths', () => {
  it('uses the executables shipped in the npm packages by default', () => {
    const paths = resolveFfmpegPaths({});
    expect(paths.ffmpeg).toMatch(/node_modules\/@ffmpeg-installer\/linux-x64\/ffmpeg$/);
    expect(paths.ffprobe).toMatch(/node_modules\/@ffprobe-installer\/linux-x64\/ffprobe$/);
    expect(() => accessSync(paths.ffmpeg, constants.X_OK)).not.toThrow();
    expect(() => accessSync(paths.ffprobe, constants.X_OK)).not.toThrow();
  });

  it('prefers STOWAGE_FFMPEG_PATH and STOWAGE_FFPROBE_PATH, each on its own', () => {
    expect(resolveFfmpegPaths({ STOWAGE_FFMPEG_PATH: '/usr/bin/ffmpeg', STOWAGE_FFPROBE_PATH: '/usr/bin/ffprobe' })).toEqual({
      ffmpeg: '/usr/bin/ffmpeg',
      ffprobe: '/usr/bin/ffprobe',
    });
    const mixed = resolveFfmpegPaths({ STOWAGE_FFPROBE_PATH: ' /opt/ffprobe ' });
    expect(mixed.ffprobe).toBe('/opt/ffprobe');
    expect(mixed.ffmpeg).toMatch(/@ffmpeg-installer/);
  });

  it('ignores empty overrides', () => {
    expect(resolveFfmpegPaths({ STOWAGE_FFMPEG_PATH: '', STOWAGE_FFPROBE_PATH: '  ' }).ffprobe).toMatch(/@ffprobe-installer/);
  });
});

describe('ensureExecutable', () => {
  it('adds execute bits to a file packed without them (as ffprobe is)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-binaries-'));
    try {
      const file = join(dir, 'ffprobe');
      await writeFile(file, '#!/bin/sh\n');
      await chmod(file, 0o644);
      ensureExecutable(file);
      expect(statSync(file).mode & 0o777).toBe(0o755);
      expect(() => ensureExecutable(join(dir, 'missing'))).toThrow(BinaryNotFoundError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
