/** A rendered derivative in the blob store (its key is built in `src/storage/blob-keys.ts`). */
export interface Derivative {
  key: string;
  mime: string;
  /** The bytes, when made for this request (just rendered, or made per request rather than stored): served without reading the store. */
  body?: Buffer;
}

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
