import { describe, expect, it } from 'vitest';
import { redactProcessOutput } from '../../../src/analysis/redact-output.js';
import { toErrorSummary } from '../../../src/analysis/run-process.js';

/** What the bundled ffmpeg printed for a truncated MP4 in the data directory. */
const FFMPEG_STDERR = `[h264 @ 0x2fb12600] Invalid NAL unit size (596 > 140).
[mov,mp4,m4a,3gp,3g2,mj2 @ 0x2fb10c00] stream 0, offset 0x2970: partial file
/tmp/stowage-test-abc/blobs/files/ab/cd/v1: Invalid data found when processing input
Could not open '/home/me/data/x.mp4'
Error opening file:/var/lib/stowage/tmp/out.mp4 (No such file)`;

describe('redactProcessOutput', () => {
  it('takes out absolute paths and heap addresses, keeping what ffmpeg said', () => {
    const out = redactProcessOutput(FFMPEG_STDERR);
    expect(out).not.toMatch(/\/tmp|\/home|\/var|0x/);
    expect(out).toContain('[h264] Invalid NAL unit size (596 > 140).');
    expect(out).toContain('stream 0, offset <hex>: partial file');
    expect(out).toContain('<file>: Invalid data found when processing input');
    expect(out).toContain("Could not open '<file>'");
    expect(out).toContain('Error opening file:<file> (No such file)');
  });

  it('takes out known paths whole, spaces and all', () => {
    const dir = '/srv/My Media/blobs';
    const out = redactProcessOutput(`${dir}/v1: Invalid data; also ${dir}/v2`, [`${dir}/v1`, '-i', 'pipe:1']);
    expect(out).toBe('<file>: Invalid data; also <file>/v2');
  });

  it('leaves ratios, filters and plain numbers alone', () => {
    const text = "scale=trunc(iw/2)*2:trunc(ih/2)*2 at 1/25 s, 595 > 542";
    expect(redactProcessOutput(text)).toBe(text);
  });

  it('is applied by the error summary of every ffmpeg and ffprobe failure', () => {
    expect(toErrorSummary(FFMPEG_STDERR)).not.toMatch(/\/tmp|\/home|\/var|0x/);
  });
});
