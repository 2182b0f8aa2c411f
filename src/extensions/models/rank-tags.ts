/** A label for a picture, as ImageKit's AITags report it (without `source`). */
export interface Tag {
  name: string;
  /** 0–100, rounded to 2 decimals. */
  confidence: number;
}

/** The caller's limits, as in ImageKit's auto-tagging extensions. */
export interface TagLimits {
  /** At most this many tags (0–30 in ImageKit; any non-negative integer here). */
  maxTags: number;
  /** Only tags whose rounded confidence is at least this (0–100). */
  minConfidence: number;
}

/**
 * Turns candidate labels with scores in 0–1 into tags: confidence = score × 100 rounded to 2 decimals; a name
 * given more than once keeps its best score; tags under `minConfidence` dropped; highest confidence first
 * (ties by name, so the order is stable); at most `maxTags`.
 *
 * @throws RangeError when `maxTags` is not a non-negative integer or `minConfidence` is not a finite number.
 */
export function rankTags(candidates: readonly { name: string; score: number }[], limits: TagLimits): Tag[] {
  const { maxTags, minConfidence } = limits;
  if (!Number.isInteger(maxTags) || maxTags < 0) throw new RangeError(`maxTags must be a non-negative integer, got ${maxTags}`);
  if (!Number.isFinite(minConfidence)) throw new RangeError(`minConfidence must be a finite number, got ${minConfidence}`);
  const best = new Map<string, number>();
  for (const { name, score } of candidates) {
    if (!Number.isFinite(score)) continue;
    const confidence = Math.round(Math.min(1, Math.max(0, score)) * 10_000) / 100;
    if (confidence > (best.get(name) ?? -1)) best.set(name, confidence);
  }
  return [...best]
    .map(([name, confidence]) => ({ name, confidence }))
    .filter((tag) => tag.confidence >= minConfidence)
    .sort((a, b) => b.confidence - a.confidence || a.name.localeCompare(b.name))
    .slice(0, maxTags);
}
