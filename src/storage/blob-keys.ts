import { createHash } from 'node:crypto';

/**
 * The blob key layout, in one place. Every key Stowage reads or writes in a blob store is built (and, for
 * derivatives, parsed) here; stores only see opaque `/`-separated keys (see `assertValidKey`), and a store with
 * a prefix of its own (S3's STOWAGE_S3_PREFIX) adds it beneath this layout.
 *
 * - `files/<versionId>`: a version's original bytes (the row's `blobKey`);
 * - `thumbnails/<versionId>.webp`: a version's library thumbnail;
 * - `derived/<versionId>/<digest>.<ext>`: one rendered derivative (transformed image or video, video thumbnail);
 * - `derived/<versionId>/abs-<token>/<name>`: one file of an adaptive-stream package (HLS/DASH).
 *
 * Everything a version owns besides its original lies under `derived/<versionId>/` or is its thumbnail, so
 * deleting a version and collecting orphans both go by `versionId`.
 */

/** Where originals live: the janitor lists this prefix for blobs no version row points to. */
export const ORIGINALS_PREFIX = 'files/';

/** Where library thumbnails live (the render queue tells thumbnails from other renders by it). */
export const THUMBNAILS_PREFIX = 'thumbnails/';

const DERIVED_PREFIX = 'derived/';

/** The key of a version's original bytes. */
export const originalKey = (versionId: string): string => `${ORIGINALS_PREFIX}${versionId}`;

/** The key of a version's library thumbnail. */
export const thumbnailKey = (versionId: string): string => `${THUMBNAILS_PREFIX}${versionId}.webp`;

/** The folder holding every derivative of a version (renders and stream packages). */
export const derivativesOf = (versionId: string): string => `${DERIVED_PREFIX}${versionId}/`;

/** `derived/<versionId>/<digest of what makes it>.<ext>`: the cache key of one derivative. */
export const derivativeKey = (versionId: string, identity: string, ext: string): string =>
  `${derivativesOf(versionId)}${createHash('sha1').update(identity).digest('hex').slice(0, 20)}.${ext}`;

/** One file (`name`) of the adaptive-stream package `token` of a version. */
export const streamPackageKey = (versionId: string, token: string, name: string): string => `${derivativesOf(versionId)}abs-${token}/${name}`;

/** Where derivatives live in the blob store: renders under `derived/<versionId>/`, library thumbnails as `thumbnails/<versionId>.webp`. */
export const DERIVATIVE_PREFIXES = [DERIVED_PREFIX, THUMBNAILS_PREFIX] as const;

/** Whom a derivative blob belongs to, and what the cache evicts with it. */
export interface DerivativeOwner {
  versionId: string;
  /** The blob itself, or for a file in a folder (a stream package's playlists and segments) the whole folder. */
  entry: string;
}

/** The owner of a derivative blob key; `undefined` for any other key. */
export function derivativeOwner(key: string): DerivativeOwner | undefined {
  const derived = /^derived\/([^/]+)\/(?:([^/]+)\/)?[^/]+$/.exec(key);
  if (derived) return { versionId: derived[1] as string, entry: derived[2] ? `${derivativesOf(derived[1] as string)}${derived[2]}/` : key };
  const thumbnail = /^thumbnails\/([^/]+)\.webp$/.exec(key);
  return thumbnail ? { versionId: thumbnail[1] as string, entry: key } : undefined;
}
