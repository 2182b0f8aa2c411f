import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultsFile } from '../../../bench/results-file.js';

const root = path.resolve(import.meta.dirname, '../../..');
const benchDir = path.join(root, 'bench');
const isIgnored = (file: string) => {
  try {
    execFileSync('git', ['check-ignore', '-q', file], { cwd: root });
    return true;
  } catch {
    return false;
  }
};

describe('npm run bench', () => {
  it('writes an ordinary run to a git-ignored file, never over the committed reference', () => {
    const file = resultsFile(benchDir, []);
    expect(file).not.toBe(path.join(benchDir, 'results.json'));
    expect(isIgnored(path.relative(root, file))).toBe(true);
    expect(isIgnored('bench/results.json')).toBe(false);
  });

  it('rewrites the committed reference only when asked to', () => {
    expect(resultsFile(benchDir, ['--save-reference'])).toBe(path.join(benchDir, 'results.json'));
  });
});
