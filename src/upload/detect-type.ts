import { fileTypeFromBuffer } from 'file-type';

export interface DetectedType {
  mime: string;
  /** Canonical extension of the detected format (`jpg`, `png`, `mp4`, `svg`, `txt`…), or `undefined`. */
  ext: string | undefined;
  fileType: 'image' | 'non-image';
  isVideo: boolean;
}

/** Bytes that are enough to recognise every format file-type knows. */
export const SNIFF_BYTES = 4100;

const IMAGE_MIMES = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/heic',
  'image/heif',
  'image/tiff',
  'image/bmp',
  'image/svg+xml',
  'image/x-icon',
  'image/vnd.microsoft.icon',
]);

/** Text formats have no magic number; as on ImageKit, they are known by their extension. */
const TEXT_TYPES: Record<string, string> = {
  txt: 'text/plain',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  json: 'application/json',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  xml: 'application/xml',
  md: 'text/markdown',
  m3u8: 'application/vnd.apple.mpegurl',
  vtt: 'text/vtt',
  srt: 'application/x-subrip',
};

const extensionOf = (name: string): string | undefined => {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : undefined;
};

function looksLikeSvg(head: Buffer): boolean {
  const text = head.subarray(0, 2048).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return /^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(text);
}

function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  // The head may end inside a multi-byte character.
  return !head.subarray(0, Math.max(0, head.length - 3)).toString('utf8').includes('\uFFFD');
}

/**
 * Decides what a file is from its first bytes; the client's MIME type is never consulted. Binary formats are
 * recognised by magic number, SVG by its root element, other text formats by the file name's extension when
 * the bytes are text; anything else is `application/octet-stream`.
 */
export async function detectType(head: Buffer, fileName: string): Promise<DetectedType> {
  const found = await fileTypeFromBuffer(head);
  let mime = found?.mime as string | undefined;
  let ext = found?.ext as string | undefined;
  if (!found || mime === 'application/xml') {
    const nameExt = extensionOf(fileName);
    if (looksLikeSvg(head)) {
      mime = 'image/svg+xml';
      ext = 'svg';
    } else if (nameExt && Object.hasOwn(TEXT_TYPES, nameExt) && looksLikeText(head)) {
      mime = TEXT_TYPES[nameExt];
      ext = nameExt === 'htm' ? 'html' : nameExt;
    } else if (!found) {
      mime = 'application/octet-stream';
      ext = undefined;
    }
  }
  const finalMime = mime ?? 'application/octet-stream';
  return {
    mime: finalMime,
    ext,
    fileType: IMAGE_MIMES.has(finalMime) ? 'image' : 'non-image',
    isVideo: finalMime.startsWith('video/'),
  };
}
