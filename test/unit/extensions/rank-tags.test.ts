import { describe, expect, it } from 'vitest';
import { rankTags } from '../../../src/extensions/models/rank-tags.js';

describe('rankTags', () => {
  const candidates = [
    { name: 'dog', score: 0.91234 },
    { name: 'red', score: 0.5 },
    { name: 'cat', score: 0.5 },
    { name: 'dog', score: 0.4 },
    { name: 'tree', score: 0.123456 },
  ];

  it('converts to 0–100 with 2 decimals, keeps the best score per name, sorts by confidence then name', () => {
    expect(rankTags(candidates, { maxTags: 10, minConfidence: 0 })).toEqual([
      { name: 'dog', confidence: 91.23 },
      { name: 'cat', confidence: 50 },
      { name: 'red', confidence: 50 },
      { name: 'tree', confidence: 12.35 },
    ]);
  });

  it('applies minConfidence to the rounded confidence, then maxTags', () => {
    expect(rankTags(candidates, { maxTags: 10, minConfidence: 50 }).map((t) => t.name)).toEqual(['dog', 'cat', 'red']);
    expect(rankTags(candidates, { maxTags: 10, minConfidence: 12.35 }).map((t) => t.name)).toContain('tree');
    expect(rankTags(candidates, { maxTags: 2, minConfidence: 0 }).map((t) => t.name)).toEqual(['dog', 'cat']);
    expect(rankTags(candidates, { maxTags: 0, minConfidence: 0 })).toEqual([]);
  });

  it('clamps scores to 0–1 and skips non-finite ones', () => {
    expect(
      rankTags(
        [
          { name: 'a', score: 1.5 },
          { name: 'b', score: -1 },
          { name: 'c', score: Number.NaN },
        ],
        { maxTags: 10, minConfidence: 0 },
      ),
    ).toEqual([
      { name: 'a', confidence: 100 },
      { name: 'b', confidence: 0 },
    ]);
  });

  it('rejects unusable limits', () => {
    expect(() => rankTags([], { maxTags: -1, minConfidence: 0 })).toThrow(RangeError);
    expect(() => rankTags([], { maxTags: 2.5, minConfidence: 0 })).toThrow(RangeError);
    expect(() => rankTags([], { maxTags: 1, minConfidence: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});
