import { createHash } from 'node:crypto';

/** A rendered derivative in the blob store. */
export interface Derivative {
  key: string;
  mime: string;
}

/** `derived/<versionId>/<digest of what makes it>.<ext>`: the cache key of one derivative. */
export const derivativeKey = (versionId: string, identity: string, ext: string) =>
  `derived/${versionId}/${createHash('sha1').update(identity).digest('hex').slice(0, 20)}.${ext}`;

const MIME_BY_EXT: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  m3u8: 'application/vnd.apple.mpegurl',
  mpd: 'application/dash+xml',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
};

/** Content type of a derivative, by its key's extension. */
export const derivativeMime = (key: string): string => MIME_BY_EXT[key.slice(key.lastIndexOf('.') + 1)] ?? 'application/octet-stream';

/** Where derivatives live in the blob store: renders under `derived/<versionId>/`, library thumbnails as `thumbnails/<versionId>.webp`. */
export const DERIVATIVE_PREFIXES = ['derived/', 'thumbnails/'] as const;

/** Whom a derivative blob belongs to, and what the cache evicts with it. */
export interface DerivativeOwner {
  versionId: string;
  /** The blob itself, or for a file in a folder (a stream package's playlists and segments) the whole folder. */
  entry: string;
}

/** The owner of a derivative blob key; `undefined` for any other key. */
export function derivativeOwner(key: string): DerivativeOwner | undefined {
  const derived = /^derived\/([^/]+)\/(?:([^/]+)\/)?[^/]+$/.exec(key);
  if (derived) return { versionId: derived[1] as string, entry: derived[2] ? `derived/${derived[1]}/${derived[2]}/` : key };
  const thumbnail = /^thumbnails\/([^/]+)\.webp$/.exec(key);
  return thumbnail ? { versionId: thumbnail[1] as string, entry: key } : undefined;
}
