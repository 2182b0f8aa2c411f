/**
 * JPEG quality estimation from the quantisation tables (DQT segments), the way libjpeg (IJG) builds them:
 * the estimate is the IJG quality 1–100 whose scaled standard tables are closest to the file's tables.
 * Exact for files written by libjpeg, libjpeg-turbo, mozjpeg with standard tables (sharp's default), and a
 * close guess for encoders that use their own tables.
 */

/** One quantisation table from a DQT segment, in natural (row-major) order. */
export interface QuantTable {
  /** Table slot 0–3: 0 is luminance, 1 is usually chrominance. */
  id: number;
  /** 8 for 8-bit entries, 16 for 16-bit entries. */
  precision: 8 | 16;
  /** 64 quantiser values, row-major. */
  values: number[];
}

/** Zig-zag position → natural (row-major) index. */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35,
  42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62,
  63,
];

/** ITU T.81 Annex K.1 luminance table, row-major. */
const STD_LUMINANCE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80,
  62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98,
  112, 100, 103, 99,
];

/** ITU T.81 Annex K.2 chrominance table, row-major. */
const STD_CHROMINANCE = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99,
  99, ...Array<number>(32).fill(99),
];

const SOI = 0xd8;
const SOS = 0xda;
const DQT = 0xdb;

/** Markers that stand alone, with no length field: TEM and RST0–7 (SOI is handled before the loop). */
const isStandaloneMarker = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);

/**
 * Reads every quantisation table before the first scan. Returns `[]` for data that is not a JPEG or has no
 * DQT segment in the bytes given; a truncated header yields the tables read so far.
 */
export function parseJpegQuantTables(data: Uint8Array): QuantTable[] {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== SOI) return [];
  const tables: QuantTable[] = [];
  let pos = 2;
  while (pos + 4 <= data.length) {
    if (data[pos] !== 0xff) return tables; // lost sync: not a segment boundary
    const marker = data[pos + 1] ?? 0;
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (isStandaloneMarker(marker)) {
      pos += 2;
      continue;
    }
    if (marker === SOS) return tables;
    const length = ((data[pos + 2] ?? 0) << 8) | (data[pos + 3] ?? 0);
    if (length < 2) return tables;
    const end = Math.min(pos + 2 + length, data.length);
    if (marker === DQT) tables.push(...readDqtPayload(data.subarray(pos + 4, end)));
    pos += 2 + length;
  }
  return tables;
}

function readDqtPayload(payload: Uint8Array): QuantTable[] {
  const tables: QuantTable[] = [];
  let pos = 0;
  while (pos < payload.length) {
    const pqTq = payload[pos] ?? 0;
    const precision = pqTq >> 4 === 0 ? 8 : 16;
    const bytes = precision === 8 ? 1 : 2;
    if (pos + 1 + 64 * bytes > payload.length) return tables;
    const values = new Array<number>(64);
    for (let k = 0; k < 64; k++) {
      const at = pos + 1 + k * bytes;
      const value = bytes === 1 ? (payload[at] ?? 0) : ((payload[at] ?? 0) << 8) | (payload[at + 1] ?? 0);
      values[ZIGZAG[k] ?? 0] = value;
    }
    tables.push({ id: pqTq & 0x0f, precision, values });
    pos += 1 + 64 * bytes;
  }
  return tables;
}

/** The table libjpeg's `jpeg_set_quality(quality)` derives from `base` (force_baseline for 8-bit tables). */
export function toIjgTable(base: readonly number[], quality: number, precision: 8 | 16 = 8): number[] {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - q * 2;
  const max = precision === 8 ? 255 : 32767;
  return base.map((v) => Math.min(max, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

const distance = (a: readonly number[], b: readonly number[]) => a.reduce((sum, v, i) => sum + Math.abs(v - (b[i] ?? 0)), 0);

/**
 * Estimates the IJG quality (1–100) of a JPEG from its quantisation tables; `0` when it cannot be derived
 * (not a JPEG, or no luminance table in the bytes given).
 */
export function estimateJpegQuality(data: Uint8Array): number {
  const tables = parseJpegQuantTables(data);
  const luminance = tables.find((t) => t.id === 0);
  if (!luminance) return 0;
  const chrominance = tables.find((t) => t.id === 1);
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let quality = 1; quality <= 100; quality++) {
    let d = distance(luminance.values, toIjgTable(STD_LUMINANCE, quality, luminance.precision));
    if (chrominance) d += distance(chrominance.values, toIjgTable(STD_CHROMINANCE, quality, chrominance.precision));
    if (d < bestDistance) {
      bestDistance = d;
      best = quality;
    }
  }
  return best;
}
