import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLocalTagger, TAGGER_LABELS, type ImageTagger } from '../../../src/extensions/models/auto-tagger.js';
import { loadCenternetDetector } from '../../../src/extensions/models/centernet-detector.js';
import { UndecodableImageError } from '../../../src/extensions/models/errors.js';

// The real model (MobileNetV3-CenterNet from @vladmandic/human on the tfjs wasm backend), loaded once for the
// file. Fixture: test/fixtures/person-at-table.jpg, a man at a dining table with a glass (see the README there).
// Measured on it: person 70.69, black 62.55, cup 53.28, gray 14.14 (defaults: objects ≥ 0.3, colours ≥ 10%).
const PERSON_THRESHOLD = 60;

let tagger: ImageTagger;
let loads = 0;
let person: Buffer;

beforeAll(async () => {
  person = await readFile(new URL('../../fixtures/person-at-table.jpg', import.meta.url));
  tagger = createLocalTagger({
    loadDetector: () => {
      loads++;
      return loadCenternetDetector();
    },
  });
  await tagger.tag(person, { maxTags: 1, minConfidence: 0 }); // loads the model
}, 60_000);

const solid = (background: string, width = 96, height = 64) =>
  sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();

describe('createLocalTagger (real model)', () => {
  it('finds the person in the fixture photo', async () => {
    const tags = await tagger.tag(person, { maxTags: 10, minConfidence: 0 });
    const found = tags.find((t) => t.name === 'person');
    expect(found?.confidence).toBeGreaterThanOrEqual(PERSON_THRESHOLD);
    expect(tags[0]?.name).toBe('person');
  });

  it('returns confidences in 0–100 with 2 decimals, highest first, and only known labels', async () => {
    const tags = await tagger.tag(person, { maxTags: 30, minConfidence: 0 });
    expect(tags.length).toBeGreaterThan(1);
    for (const tag of tags) {
      expect(TAGGER_LABELS).toContain(tag.name);
      expect(tag.confidence).toBeGreaterThanOrEqual(0);
      expect(tag.confidence).toBeLessThanOrEqual(100);
      expect(Math.round(tag.confidence * 100)).toBeCloseTo(tag.confidence * 100, 6);
    }
    const confidences = tags.map((t) => t.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    expect(new Set(tags.map((t) => t.name)).size).toBe(tags.length);
  });

  it('is deterministic', async () => {
    const a = await tagger.tag(person, { maxTags: 30, minConfidence: 0 });
    const b = await tagger.tag(person, { maxTags: 30, minConfidence: 0 });
    expect(b).toEqual(a);
  });

  it('honours maxTags', async () => {
    const all = await tagger.tag(person, { maxTags: 30, minConfidence: 0 });
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(await tagger.tag(person, { maxTags: 1, minConfidence: 0 })).toEqual(all.slice(0, 1));
    expect(await tagger.tag(person, { maxTags: 2, minConfidence: 0 })).toEqual(all.slice(0, 2));
    expect(await tagger.tag(person, { maxTags: 0, minConfidence: 0 })).toEqual([]);
  });

  it('honours minConfidence', async () => {
    const all = await tagger.tag(person, { maxTags: 30, minConfidence: 0 });
    const cut = PERSON_THRESHOLD;
    const high = await tagger.tag(person, { maxTags: 30, minConfidence: cut });
    expect(high).toEqual(all.filter((t) => t.confidence >= cut));
    expect(high.map((t) => t.name)).toContain('person');
    expect(high.length).toBeLessThan(all.length);
    expect(await tagger.tag(person, { maxTags: 30, minConfidence: 100.01 })).toEqual([]);
  });

  it('names the colour of a solid red picture', async () => {
    const tags = await tagger.tag(await solid('#ff0000'), { maxTags: 10, minConfidence: 0 });
    expect(tags).toContainEqual({ name: 'red', confidence: 100 });
  });

  it('names both colours of a half blue, half white picture', async () => {
    const picture = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ffffff' } })
      .composite([{ input: await sharp({ create: { width: 50, height: 100, channels: 3, background: '#0000ff' } }).png().toBuffer(), left: 0, top: 0 }])
      .png()
      .toBuffer();
    const colours = (await tagger.tag(picture, { maxTags: 10, minConfidence: 0 })).filter((t) => t.name === 'blue' || t.name === 'white');
    expect(colours.map((t) => t.name).sort()).toEqual(['blue', 'white']);
    for (const c of colours) expect(c.confidence).toBeCloseTo(50, -1);
  });

  it('ignores transparent pixels when naming colours', async () => {
    const picture = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0 } } })
      .composite([{ input: await solid('#00aa00', 32, 32), left: 16, top: 16 }])
      .png()
      .toBuffer();
    const names = (await tagger.tag(picture, { maxTags: 30, minConfidence: 0 })).map((t) => t.name);
    expect(names).toContain('green');
    expect(names).not.toContain('blue');
  });

  it('rejects a corrupt buffer with a clear error', async () => {
    const corrupt = Buffer.concat([person.subarray(0, 4), Buffer.alloc(200, 0x55)]);
    await expect(tagger.tag(corrupt, { maxTags: 5, minConfidence: 0 })).rejects.toThrow(UndecodableImageError);
    await expect(tagger.tag(Buffer.from('not an image'), { maxTags: 5, minConfidence: 0 })).rejects.toThrow(/Cannot decode the image/);
  });

  it('rejects unusable limits', async () => {
    await expect(tagger.tag(person, { maxTags: -1, minConfidence: 0 })).rejects.toThrow(RangeError);
    await expect(tagger.tag(person, { maxTags: 1.5, minConfidence: 0 })).rejects.toThrow(RangeError);
    await expect(tagger.tag(person, { maxTags: 5, minConfidence: Number.NaN })).rejects.toThrow(RangeError);
  });

  it('loaded the model once for all of the above', () => {
    expect(loads).toBe(1);
  });
});

describe('createLocalTagger (loading)', () => {
  it('does not load the model until the first call, and retries after a failed load', async () => {
    let calls = 0;
    const failing = createLocalTagger({
      loadDetector: async () => {
        calls++;
        throw new Error('boom');
      },
    });
    expect(calls).toBe(0);
    const red = await solid('#ff0000');
    await expect(failing.tag(red, { maxTags: 5, minConfidence: 0 })).rejects.toThrow('boom');
    await expect(failing.tag(red, { maxTags: 5, minConfidence: 0 })).rejects.toThrow('boom');
    expect(calls).toBe(2);
  });

  it('shares one load between concurrent first calls', async () => {
    let calls = 0;
    const fresh = createLocalTagger({
      loadDetector: async () => {
        calls++;
        return { detect: async () => [{ label: 'dog' as const, score: 0.9 }] };
      },
    });
    const red = await solid('#ff0000');
    const results = await Promise.all([1, 2, 3].map(() => fresh.tag(red, { maxTags: 5, minConfidence: 0 })));
    expect(calls).toBe(1);
    for (const tags of results) expect(tags).toEqual([{ name: 'red', confidence: 100 }, { name: 'dog', confidence: 90 }]);
  });

  it('drops detections under minObjectScore and colours under minColourShare', async () => {
    const fresh = createLocalTagger({
      minObjectScore: 0.5,
      minColourShare: 0.6,
      loadDetector: async () => ({
        detect: async () => [
          { label: 'dog' as const, score: 0.55 },
          { label: 'cat' as const, score: 0.45 },
        ],
      }),
    });
    const picture = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ffffff' } })
      .composite([{ input: await sharp({ create: { width: 50, height: 100, channels: 3, background: '#000000' } }).png().toBuffer(), left: 0, top: 0 }])
      .png()
      .toBuffer();
    expect(await fresh.tag(picture, { maxTags: 10, minConfidence: 0 })).toEqual([{ name: 'dog', confidence: 55 }]);
  });
});

describe('TAGGER_LABELS', () => {
  it('lists the 80 COCO classes and the colour names, each once', () => {
    expect(new Set(TAGGER_LABELS).size).toBe(TAGGER_LABELS.length);
    expect(TAGGER_LABELS).toEqual(expect.arrayContaining(['person', 'car', 'dog', 'red', 'blue', 'white', 'orange']));
    expect(TAGGER_LABELS.length).toBe(80 + 13 - 1); // 'orange' is a COCO class and a colour
  });
});
