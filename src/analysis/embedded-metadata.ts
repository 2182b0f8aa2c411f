import exifr from 'exifr';
import sharp from 'sharp';
import {
  isPrintableAscii,
  MAX_BINARY_BYTES,
  parseExifDate,
  toAsciiString,
  toIptcText,
  toNumberArray,
  toUcs2String,
  toUserComment,
  toXmpText,
} from './exif-values.js';

/** A group of tags: tag name → value. */
export type TagGroup = Record<string, unknown>;

/** ImageKit's legacy `metadata.exif` object: raw EXIF by IFD, empty groups as `{}`. */
export interface LegacyExif {
  /** IFD0: Make, Model, Orientation, XResolution, ModifyDate "YYYY:MM:DD HH:MM:SS"… */
  image: TagGroup;
  /** IFD1, the thumbnail's directory: Compression, ThumbnailOffset, ThumbnailLength… */
  thumbnail: TagGroup;
  /** The Exif IFD: ExposureTime, FNumber, ISO, DateTimeOriginal… */
  exif: TagGroup;
  /** The GPS IFD: GPSVersionID [2, 2, 0, 0], GPSLatitude… */
  gps: TagGroup;
  /** The interoperability IFD: InteropIndex "R98"… */
  interoperability: TagGroup;
  /** Maker notes are not parsed: always `{}`. */
  makernote: TagGroup;
}

const TIFF_BLOCKS = ['ifd0', 'exif', 'gps', 'interop'] as const;

/** Segments exifr must not read for our purposes (JFIF, ICC, PNG IHDR are not EXIF/IPTC/XMP). */
const NO_OTHER_SEGMENTS = { icc: false, jfif: false, ihdr: false, makerNote: false } as const;

/** Binary values kept by the legacy (raw) reader before they are dropped. */
const MAX_LEGACY_BINARY_BYTES = 1024;

/** Values exifr leaves as numbers although ExifTool (and ImageKit) print words. */
const EXTRA_VALUE_NAMES: Record<string, Record<number, string>> = {
  ColorSpace: { 1: 'sRGB', 2: 'Adobe RGB', 65533: 'Wide Gamut RGB', 65534: 'ICC Profile', 65535: 'Uncalibrated' },
  YCbCrPositioning: { 1: 'Centered', 2: 'Co-sited' },
  GPSAltitudeRef: { 0: 'Above Sea Level', 1: 'Below Sea Level' },
};

const COMPONENT_NAMES = ['-', 'Y', 'Cb', 'Cr', 'R', 'G', 'B'];

/** ExifTool's names for the fields of the IPTC Core `CreatorContactInfo` structure. */
const CREATOR_CONTACT_NAMES: Record<string, string> = {
  CiAdrCity: 'CreatorCity',
  CiAdrCtry: 'CreatorCountry',
  CiAdrExtadr: 'CreatorAddress',
  CiAdrPcode: 'CreatorPostalCode',
  CiAdrRegion: 'CreatorRegion',
  CiEmailWork: 'CreatorWorkEmail',
  CiTelWork: 'CreatorWorkTelephone',
  CiUrlWork: 'CreatorWorkURL',
};

/** The XMP parser class exifr registers; its static `parse` takes an XMP packet as a string. */
interface XmpParser {
  parse(xmp: string): Record<string, unknown> | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

const hasKeys = (value: unknown): value is Record<string, unknown> => isRecord(value) && Object.keys(value).length > 0;

/** exifr.parse that answers `undefined` for data it cannot read instead of throwing. */
async function parseQuietly(data: Uint8Array, options: Parameters<typeof exifr.parse>[1]): Promise<Record<string, unknown> | undefined> {
  try {
    const out: unknown = await exifr.parse(data, options);
    if (!isRecord(out)) return undefined;
    delete out.errors; // silentErrors collects problems here; a partial result is still useful
    return out;
  } catch {
    return undefined;
  }
}

/**
 * EXIF and XMP as sharp/libvips extracted them, for formats exifr does not read itself (WebP, AVIF, GIF) or
 * stores where exifr does not look (XMP in PNG iTXt). Header only: no pixel is decoded.
 */
interface SharpSegments {
  tiff?: Uint8Array;
  xmp?: string;
}

async function readSegmentsWithSharp(data: Uint8Array): Promise<SharpSegments> {
  try {
    const meta = await sharp(data, { limitInputPixels: false }).metadata();
    const exif = meta.exif;
    // libvips keeps the APP1 "Exif\0\0" prefix in front of the TIFF structure.
    const tiff = exif && exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
    return { tiff, xmp: meta.xmpAsString };
  } catch {
    return {};
  }
}

/** Runs `load` at most once, on first call. */
const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let result: Promise<T> | undefined;
  return () => (result ??= load());
};

/** Reads the TIFF blocks (EXIF) with the given value options; falls back to sharp's EXIF extraction. */
async function readTiffBlocks(
  data: Uint8Array,
  raw: boolean,
  sharpSegments: () => Promise<SharpSegments>,
): Promise<Record<string, unknown>> {
  const options = {
    tiff: true,
    ifd1: raw,
    exif: true,
    gps: true,
    interop: true,
    xmp: false,
    iptc: false,
    userComment: true,
    ...NO_OTHER_SEGMENTS,
    translateKeys: true,
    translateValues: !raw,
    reviveValues: false,
    sanitize: !raw,
    mergeOutput: false,
  };
  const direct = await parseQuietly(data, options);
  if (direct && (hasKeys(direct.ifd0) || hasKeys(direct.exif))) return direct;
  const { tiff } = await sharpSegments();
  return (tiff && (await parseQuietly(tiff, options))) ?? direct ?? {};
}

/** XMP namespaces → properties, from exifr or, failing that, from sharp's extraction. */
async function readXmp(data: Uint8Array, sharpSegments: () => Promise<SharpSegments>): Promise<Record<string, unknown>> {
  const direct = await parseQuietly(data, { tiff: false, xmp: true, iptc: false, ...NO_OTHER_SEGMENTS, mergeOutput: false });
  if (hasKeys(direct)) return direct;
  const { xmp } = await sharpSegments();
  if (!xmp) return {};
  try {
    const parser = exifr.segmentParsers.get('xmp') as XmpParser;
    return parser.parse(xmp) ?? {};
  } catch {
    return {};
  }
}

/** One EXIF value made human-readable and JSON-friendly; `undefined` drops it. */
export function toReadableExifValue(key: string, value: unknown): unknown {
  if (typeof value === 'string') return parseExifDate(value) ?? value;
  if (typeof value === 'number') return EXTRA_VALUE_NAMES[key]?.[value] ?? value;
  if (value instanceof Uint8Array || (key.startsWith('XP') && Array.isArray(value))) {
    const bytes = value instanceof Uint8Array ? value : Uint8Array.from(value as number[]);
    if (key.startsWith('XP')) return toUcs2String(bytes);
    if (key === 'UserComment') return toUserComment(bytes);
    if (key === 'ComponentsConfiguration') return Array.from(bytes, (b) => COMPONENT_NAMES[b] ?? String(b)).join(', ');
    if (key === 'GPSVersionID') return Array.from(bytes).join('.');
    if (isPrintableAscii(bytes)) return toAsciiString(bytes);
    return bytes.length <= MAX_BINARY_BYTES ? toNumberArray(bytes) : undefined;
  }
  return value;
}

/** GPS degrees/minutes/seconds plus a hemisphere reference → signed decimal degrees. */
function toDecimalDegrees(dms: unknown, ref: unknown): number | undefined {
  if (!Array.isArray(dms) || dms.length !== 3 || !dms.every((n) => typeof n === 'number' && Number.isFinite(n))) return undefined;
  const [d, m, s] = dms as [number, number, number];
  const sign = ref === 'S' || ref === 'W' ? -1 : 1;
  return sign * (d + m / 60 + s / 3600);
}

/** Copies entries into `target` unless the key is already there (earlier sources win). */
function assignMissing(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined || value === null || value === '' || key in target) return;
  target[key] = value;
}

function flattenXmpNamespace(target: Record<string, unknown>, properties: Record<string, unknown>): void {
  for (const [key, rawValue] of Object.entries(properties)) {
    if (key === 'parseType' || key === 'about') continue;
    const value = toXmpText(rawValue);
    if (isRecord(value)) {
      // A structure: ExifTool flattens its fields as StructName + FieldName.
      for (const [field, fieldValue] of Object.entries(value)) {
        if (field === 'parseType') continue;
        const name = key === 'CreatorContactInfo' ? (CREATOR_CONTACT_NAMES[field] ?? `Creator${field}`) : `${key}${field}`;
        assignMissing(target, name, toXmpText(fieldValue));
      }
    } else {
      assignMissing(target, key, value);
    }
  }
}

/**
 * EXIF, IPTC and XMP of an image merged into one flat object, the way ImageKit's `embeddedMetadata` looks:
 * tag names without group prefix, human-readable values (`Orientation: "Horizontal (normal)"`,
 * `ResolutionUnit: "inches"`, `ColorSpace: "Uncalibrated"`), EXIF dates as ISO strings read as UTC,
 * repeated IPTC fields and XMP lists as arrays, XMP language alternatives as their default text. Returns
 * `{}` when the file has none or cannot be read (never throws for bad data).
 *
 * Where EXIF, IPTC and XMP use the same name, EXIF wins over IPTC, and IPTC over XMP. When GPS coordinates
 * are present, `latitude`/`longitude` (signed decimal degrees) are added. Maker notes and binary values
 * longer than 64 bytes are left out.
 */
export async function readEmbeddedMetadata(data: Uint8Array): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const sharpSegments = once(() => readSegmentsWithSharp(data));
  const [tiff, iptc, xmp] = await Promise.all([
    readTiffBlocks(data, false, sharpSegments),
    parseQuietly(data, { tiff: false, iptc: true, xmp: false, ...NO_OTHER_SEGMENTS, mergeOutput: false }),
    readXmp(data, sharpSegments),
  ]);

  for (const block of TIFF_BLOCKS) {
    const tags = tiff[block];
    if (!isRecord(tags)) continue;
    for (const [key, value] of Object.entries(tags)) assignMissing(out, key, toReadableExifValue(key, value));
  }
  if (tiff.userComment instanceof Uint8Array) {
    assignMissing(out, 'UserComment', toReadableExifValue('UserComment', tiff.userComment));
  }
  const gps = tiff.gps;
  if (isRecord(gps)) {
    assignMissing(out, 'latitude', toDecimalDegrees(gps.GPSLatitude, gps.GPSLatitudeRef));
    assignMissing(out, 'longitude', toDecimalDegrees(gps.GPSLongitude, gps.GPSLongitudeRef));
  }

  const iptcTags = iptc?.iptc;
  if (isRecord(iptcTags)) {
    for (const [key, value] of Object.entries(iptcTags)) {
      if (key === 'ApplicationRecordVersion' && typeof value === 'string' && value.length === 2) {
        assignMissing(out, key, (value.charCodeAt(0) << 8) | value.charCodeAt(1));
      } else if (typeof value === 'string') {
        assignMissing(out, key, toIptcText(value));
      } else if (Array.isArray(value)) {
        assignMissing(out, key, value.map((v) => (typeof v === 'string' ? toIptcText(v) : v)));
      } else {
        assignMissing(out, key, value);
      }
    }
  }

  for (const properties of Object.values(xmp)) {
    if (isRecord(properties)) flattenXmpNamespace(out, properties);
  }
  return out;
}

/** A raw EXIF value in JSON-friendly form: binary as a number array (dropped when very long). */
function toRawExifValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.length <= MAX_LEGACY_BINARY_BYTES ? toNumberArray(value) : undefined;
  return value;
}

/** IFD pointer tags under the names ImageKit's legacy format (node `exif` package style) uses. */
const LEGACY_POINTER_NAMES: Record<string, string> = { ExifIFD: 'ExifOffset', GpsIFD: 'GPSInfo', InteropIFD: 'InteropOffset' };

/** Keys exifr computes itself (decimal GPS position); they are not EXIF tags. */
const COMPUTED_KEYS = new Set(['latitude', 'longitude']);

function toRawGroup(tags: unknown): TagGroup {
  const group: TagGroup = {};
  if (!isRecord(tags)) return group;
  for (const [key, value] of Object.entries(tags)) {
    if (COMPUTED_KEYS.has(key)) continue;
    const raw = toRawExifValue(value);
    if (raw !== undefined) group[LEGACY_POINTER_NAMES[key] ?? key] = raw;
  }
  return group;
}

/**
 * The EXIF of an image in ImageKit's legacy `metadata.exif` shape, with RAW values: numbers untranslated
 * (`Orientation: 1`, `ResolutionUnit: 2`), dates as EXIF writes them ("YYYY:MM:DD HH:MM:SS"), binary
 * values as number arrays (`GPSVersionID: [2, 2, 0, 0]`). Every group is present; empty ones are `{}`.
 * Never throws for bad data: unreadable input gives all groups empty.
 */
export async function readLegacyExif(data: Uint8Array): Promise<LegacyExif> {
  const blocks = await readTiffBlocks(data, true, () => readSegmentsWithSharp(data));
  const exif = toRawGroup(blocks.exif);
  if (blocks.userComment instanceof Uint8Array) {
    const comment = toRawExifValue(blocks.userComment);
    if (comment !== undefined) exif.UserComment = comment;
  }
  return {
    image: toRawGroup(blocks.ifd0),
    thumbnail: toRawGroup(blocks.ifd1),
    exif,
    gps: toRawGroup(blocks.gps),
    interoperability: toRawGroup(blocks.interop),
    makernote: {},
  };
}
