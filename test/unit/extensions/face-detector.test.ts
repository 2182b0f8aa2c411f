import fs from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeFaces, faceAnchors } from '../../../src/extensions/models/face-detector.js';
import { createFaceFinder, cropAround, unionOf } from '../../../src/transform/face-finder.js';

describe('BlazeFace decoding', () => {
  it('has 896 anchors: two per 16-pixel cell, then six per 32-pixel cell', () => {
    const anchors = faceAnchors();
    expect(anchors).toHaveLength(896);
    expect(anchors[0]).toEqual([8, 8]);
    expect(anchors[1]).toEqual([8, 8]);
    expect(anchors[512]).toEqual([16, 16]);
    expect(anchors[895]).toEqual([240, 240]);
  });

  it('keeps confident boxes and suppresses overlapping ones', () => {
    const anchors: [number, number][] = [[50, 50], [52, 50], [200, 200], [10, 10]];
    const rows = [
      [3, 0, 0, 40, 40],
      [2, 0, 0, 40, 40], // overlaps the first: suppressed
      [1, 0, 0, 20, 20],
      [-3, 0, 0, 20, 20], // not confident
    ];
    const faces = decodeFaces(rows, anchors);
    expect(faces.map((f) => [f.left, f.top, f.width])).toEqual([[30, 30, 40], [190, 190, 20]]);
  });

  it('crops around a point within the picture', () => {
    expect(cropAround(200, 100, 1, 190, 50)).toEqual({ left: 100, top: 0, width: 100, height: 100 });
    expect(cropAround(200, 100, 1, 10, 50)).toEqual({ left: 0, top: 0, width: 100, height: 100 });
    expect(unionOf([{ left: 10, top: 10, width: 10, height: 10 }, { left: 50, top: 0, width: 5, height: 5 }])).toEqual({ left: 10, top: 0, width: 45, height: 20 });
  });
});

describe('face finder (real model)', () => {
  const findFaces = createFaceFinder();

  it('finds the face of the man at the table, and none in a plain picture', async () => {
    const photo = await fs.readFile(new URL('../../fixtures/person-at-table.jpg', import.meta.url));
    const faces = await findFaces(photo);
    expect(faces).toHaveLength(1);
    const [face] = faces;
    // His face spans about x 107–145, y 8–58 of the 212×158 picture.
    expect(face!.left + face!.width / 2).toBeGreaterThan(110);
    expect(face!.left + face!.width / 2).toBeLessThan(140);
    expect(face!.top + face!.height / 2).toBeGreaterThan(20);
    expect(face!.top + face!.height / 2).toBeLessThan(60);
    const plain = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#7799aa' } }).png().toBuffer();
    expect(await findFaces(plain)).toEqual([]);
  }, 60_000);
});
