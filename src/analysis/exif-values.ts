/**
 * Conversions of individual EXIF/IPTC/XMP values, as exifr returns them, into JSON-friendly values. Used by
 * `embedded-metadata.ts`; kept apart because each is a small pure function with its own rules.
 */

/** Binary values longer than this are dropped rather than listed byte by byte. */
export const MAX_BINARY_BYTES = 64;

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2})(?: (\d{2}):(\d{2}):(\d{2})(\.\d+)?)?$/;

/**
 * An EXIF date "YYYY:MM:DD HH:MM:SS" (or date only) as an ISO string, read as UTC, the way ImageKit shows
 * `DateTimeOriginal: "2019-10-16T19:01:03.000Z"`. EXIF dates carry no zone, so no server time zone may
 * enter. Returns `undefined` for anything else, including all-zero placeholder dates.
 */
export function parseExifDate(value: string): string | undefined {
  const match = EXIF_DATE.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction] = match;
  const ms = fraction ? Math.round(Number(fraction) * 1000) : 0;
  const time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const date = new Date(time);
  // Reject dates that Date.UTC rolled over (month 13, day 0, "0000:00:00 00:00:00").
  if (Number.isNaN(time) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) return undefined;
  return date.toISOString();
}

/** True when every byte is printable ASCII (trailing NULs allowed), e.g. ExifVersion "0232". */
export function isPrintableAscii(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0) return false;
  for (let i = 0; i < end; i++) {
    const b = bytes[i] ?? 0;
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

/** ASCII bytes to a string without trailing NULs. */
export const toAsciiString = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1').replace(/\0+$/, '');

/** Windows XP* tags (XPTitle, XPKeywords…) hold UCS-2 little-endian text. */
export const toUcs2String = (bytes: Uint8Array | readonly number[]): string =>
  Buffer.from(Uint8Array.from(bytes)).toString('utf16le').replace(/\0+$/, '');

/**
 * EXIF UserComment: an 8-byte character-code header then text. Returns `undefined` for an empty comment
 * (cameras often write 8 header bytes and spaces or NULs).
 */
export function toUserComment(bytes: Uint8Array): string | undefined {
  const header = Buffer.from(bytes.subarray(0, 8)).toString('latin1').replace(/\0+$/, '');
  const body = Buffer.from(bytes.subarray(8));
  let text: string;
  if (header === 'UNICODE') {
    // Byte order is that of the TIFF; guess from where the zero bytes of ASCII-range text fall.
    const bigEndian = body.length >= 2 && body[0] === 0 && body[1] !== 0;
    text = bigEndian ? Buffer.from(body).swap16().toString('utf16le') : body.toString('utf16le');
  } else if (header === 'ASCII' || header === '') {
    text = body.toString('latin1');
  } else {
    text = body.toString('utf8'); // JIS and unknown codes: best effort
  }
  const trimmed = text.replace(/\0/g, '').trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * IPTC IIM text as exifr returns it is Latin-1; modern files store UTF-8 in it. Re-decodes as UTF-8 when
 * the bytes are valid UTF-8 with at least one multi-byte sequence, else keeps the Latin-1 reading.
 */
export function toIptcText(latin1: string): string {
  const bytes = Buffer.from(latin1, 'latin1');
  if (!bytes.some((b) => b >= 0x80)) return latin1;
  const utf8 = bytes.toString('utf8');
  return utf8.includes('\uFFFD') ? latin1 : utf8;
}

/** Typed arrays and plain arrays of numbers to a plain `number[]`. */
export const toNumberArray = (bytes: ArrayLike<number>): number[] => Array.from(bytes);

/**
 * XMP language alternatives (`[{ lang, value }]` or one `{ lang, value }`) collapse to the `x-default`
 * text, else the first; other values pass through.
 */
export function toXmpText(value: unknown): unknown {
  const isLangItem = (v: unknown): v is { lang: string; value: unknown } =>
    typeof v === 'object' && v !== null && 'lang' in v && 'value' in v;
  if (isLangItem(value)) return value.value;
  if (Array.isArray(value) && value.length > 0 && value.every(isLangItem)) {
    return (value.find((v) => v.lang === 'x-default') ?? value[0])?.value;
  }
  return value;
}
