import { createHmac, timingSafeEqual } from 'node:crypto';

/** The folder segment under a video's URL that holds adaptive-stream files: `<file>/ik-abs/<version>/<pass>/<name>`. */
export const STREAM_FOLDER = 'ik-abs';

/** ImageKit's "never expires" timestamp, as signed URLs use it. */
export const NO_EXPIRY = 9_999_999_999;

/**
 * The path segment that opens a stream package: its token alone (public files), or, for private files, the
 * token bound to the expiry of the signed URL that opened the master: `<token>.<expiry>.<signature>`.
 */
export interface StreamPass {
  token: string;
  expiresAt?: number;
  signature?: string;
}

export function parseStreamPass(segment: string): StreamPass | undefined {
  const m = /^([a-f0-9]{32})(?:\.(\d{1,10})\.([a-f0-9]{32}))?$/.exec(segment);
  if (!m) return undefined;
  return m[2] === undefined ? { token: m[1] as string } : { token: m[1] as string, expiresAt: Number(m[2]), signature: m[3] };
}

const passSignature = (key: string, versionId: string, token: string, expiresAt: number) =>
  createHmac('sha256', key).update(`${versionId}|${token}|${expiresAt}`).digest('hex').slice(0, 32);

/** The relative folder a master manifest names its files under. */
export const streamFolder = (versionId: string, pass: string) => `${STREAM_FOLDER}/${versionId}/${pass}/`;

/** A stored master manifest with its files' folder bound to `expiresAt`, for a private file's signed request. */
export function bindManifest(manifest: string, key: string, versionId: string, token: string, expiresAt: number): string {
  const bound = `${token}.${expiresAt}.${passSignature(key, versionId, token, expiresAt)}`;
  return manifest.split(streamFolder(versionId, token)).join(streamFolder(versionId, bound));
}

/** Whether `pass` opens a private file's package now: bound to an unexpired expiry with a valid signature. */
export function checkPass(pass: StreamPass, key: string, versionId: string, nowSeconds = Math.floor(Date.now() / 1000)): 'valid' | 'expired' | 'invalid' {
  if (pass.expiresAt === undefined || pass.signature === undefined) return 'invalid';
  const expected = Buffer.from(passSignature(key, versionId, pass.token, pass.expiresAt));
  if (!timingSafeEqual(expected, Buffer.from(pass.signature))) return 'invalid';
  return pass.expiresAt < nowSeconds ? 'expired' : 'valid';
}
