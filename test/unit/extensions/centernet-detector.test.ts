import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bestScorePerLabel,
  CENTERNET_INPUT_SIZE,
  centernetModelPaths,
  toModelInput,
} from '../../../src/extensions/models/centernet-detector.js';
import { COCO_LABELS } from '../../../src/extensions/models/coco-labels.js';

describe('centernetModelPaths', () => {
  it('finds the model files shipped in @vladmandic/human', () => {
    const paths = centernetModelPaths();
    expect(paths.json).toMatch(/node_modules\/@vladmandic\/human\/models\/centernet\.json$/);
    expect(existsSync(paths.json)).toBe(true);
    expect(existsSync(paths.bin)).toBe(true);
  });
});

describe('bestScorePerLabel', () => {
  it('keeps the best score per class, highest first, skipping unknown classes and bad scores', () => {
    const rows = [
      [0, 0, 1, 1, 0.4, 0],
      [0, 0, 1, 1, 0.7, 0],
      [0, 0, 1, 1, 0.5, 16],
      [0, 0, 1, 1, 0.9, 80],
      [0, 0, 1, 1, 0.9, Number.NaN],
      [0, 0, 1, 1, Number.NaN, 2],
    ];
    expect(bestScorePerLabel(rows)).toEqual([
      { label: 'person', score: 0.7 },
      { label: 'dog', score: 0.5 },
    ]);
  });

  it('has 80 classes, person first', () => {
    expect(COCO_LABELS).toHaveLength(80);
    expect(COCO_LABELS[0]).toBe('person');
    expect(COCO_LABELS[79]).toBe('toothbrush');
  });
});

describe('toModelInput', () => {
  const size = CENTERNET_INPUT_SIZE;

  it('lays RGB out as float 0–255 and composites transparency on white', () => {
    const data = Buffer.alloc(size * size * 4);
    data.set([10, 20, 30, 255, 0, 0, 0, 0, 200, 100, 0, 128], 0);
    const input = toModelInput({ data, width: size, height: size });
    expect(input).toHaveLength(size * size * 3);
    expect([...input.subarray(0, 3)]).toEqual([10, 20, 30]);
    expect([...input.subarray(3, 6)]).toEqual([255, 255, 255]);
    const half = 128 / 255;
    expect(input[6]).toBeCloseTo(200 * half + 255 * (1 - half), 3);
    expect(input[8]).toBeCloseTo(255 * (1 - half), 3);
  });

  it('rejects another size', () => {
    expect(() => toModelInput({ data: Buffer.alloc(16), width: 2, height: 2 })).toThrow(RangeError);
  });
});
