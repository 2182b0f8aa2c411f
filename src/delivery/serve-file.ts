import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileRepo, FileView } from '../db/repos/file-repo.js';
import { AppError, helpFor, isAppError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { parseRange } from './range.js';
import { hasThumbnail, THUMBNAIL_MIME, type ThumbnailMaker } from './thumbnail.js';
import { THUMBNAIL_TRANSFORMATION, VERSION_QUERY_PARAM } from './urls.js';
import { parseTransformation } from '../transform/transform-plan.js';
import { checkSignedUrl } from './signed-url.js';
import type { TransformedImages } from './transformed-image.js';
import type { TransformedVideos } from './transformed-video.js';
import { bindManifest, checkPass, NO_EXPIRY, parseStreamPass, STREAM_FOLDER } from './stream-access.js';
import { buffer } from 'node:stream/consumers';
import { type Derivative, derivativeMime } from './derivative.js';
import { MASTER_MANIFEST, type StreamProtocol } from '../transform/adaptive-stream.js';
import type { TransformPlan } from '../transform/transform-plan.js';

const THUMBNAIL_NAME = THUMBNAIL_TRANSFORMATION.slice(2);

export interface DeliveryDeps {
  files: FileRepo;
  store: BlobStore;
  thumbnails: ThumbnailMaker;
  /** Path prefix of the URL endpoint (`/` or e.g. `/media/`), under which files are served. */
  basePath: string;
  transformed: TransformedImages;
  videos: TransformedVideos;
  /** Keys that sign URLs (`ik-s`); the first also binds private streams to their signed URL's expiry. */
  privateKeys: readonly string[];
  /** `n-<name>` → transformation string (besides ik_ml_thumbnail). */
  namedTransformations: Readonly<Record<string, string>>;
  log: (error: unknown) => void;
}

/** Delivered files are user content: never let a browser run it in this origin. */
const SAFETY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; media-src 'self'; sandbox",
};

const notFound = () => new AppError('NOT_FOUND', 'The requested asset does not exist.');

/** What a URL asks of a file besides the file itself: ImageKit's suffixes, or a file of an adaptive stream. */
export type DeliverySuffix =
  | { kind: 'thumbnail' }
  | { kind: 'gif-video' }
  | { kind: 'stream'; protocol: StreamProtocol }
  | { kind: 'stream-file'; versionId: string; token: string; name: string };

interface DeliveryRequest {
  filePath: string;
  /** The same URL read as `<filePath>/<suffix>`, when it ends in one. */
  suffixed?: { filePath: string; suffix: DeliverySuffix };
  transformation: string | undefined;
  versionId: string | undefined;
  /** The URL after the base path, as signed URLs sign it. */
  rest: string;
  attachment: boolean;
}

const SUFFIXES: Record<string, DeliverySuffix> = {
  'ik-thumbnail.jpg': { kind: 'thumbnail' },
  'ik-gif-video.mp4': { kind: 'gif-video' },
  [MASTER_MANIFEST.hls]: { kind: 'stream', protocol: 'hls' },
  [MASTER_MANIFEST.dash]: { kind: 'stream', protocol: 'dash' },
};

const joinPath = (segments: readonly string[]) => `/${segments.join('/')}`;

function readSuffix(segments: readonly string[]): DeliveryRequest['suffixed'] {
  const last = segments[segments.length - 1] as string;
  if (segments.length >= 2 && Object.hasOwn(SUFFIXES, last)) return { filePath: joinPath(segments.slice(0, -1)), suffix: SUFFIXES[last] as DeliverySuffix };
  const at = segments.length - 4;
  if (at >= 1 && segments[at] === STREAM_FOLDER) {
    const [versionId, token, name] = segments.slice(at + 1) as [string, string, string];
    return { filePath: joinPath(segments.slice(0, at)), suffix: { kind: 'stream-file', versionId, token, name } };
  }
  return undefined;
}

/** `/tr:n-x/a/b.jpg?ik-obj-version=…` → file path, transformation and version; `undefined` if not under basePath. */
export function parseDeliveryUrl(rawUrl: string, basePath: string): DeliveryRequest | undefined {
  // `//a.jpg` would parse as a host name; ImageKit's SDK makes such URLs when the endpoint has no trailing slash.
  const url = new URL(rawUrl.replace(/^\/+/, '/'), 'http://stowage.invalid');
  if (!url.pathname.startsWith(basePath)) return undefined;
  const segments = url.pathname.slice(basePath.length).split('/').filter(Boolean);
  let transformation = url.searchParams.get('tr') ?? undefined;
  if (segments[0]?.startsWith('tr:')) {
    transformation = (segments.shift() as string).slice(3);
  }
  let decoded: string[];
  try {
    decoded = segments.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  if (decoded.length === 0 || decoded.some((s) => s === '.' || s === '..' || s.includes('/'))) return undefined;
  const rawPath = rawUrl.split('?')[0] as string;
  const query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?')) : '';
  return {
    filePath: joinPath(decoded),
    suffixed: readSuffix(decoded),
    transformation,
    versionId: url.searchParams.get(VERSION_QUERY_PARAM) ?? undefined,
    rest: rawPath.slice(basePath.length) + query,
    attachment: url.searchParams.get('ik-attachment') === 'true',
  };
}

function sendError(res: ServerResponse, error: AppError): void {
  const body = JSON.stringify({ message: error.message, help: helpFor(error.code), code: error.code });
  const retryAfter = error.details?.retryAfterSeconds;
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {}),
    ...SAFETY_HEADERS,
  });
  res.end(body);
}

/** The file and version a request names, and the suffix it asks for; unpublished versions are not found. */
async function resolveView(deps: DeliveryDeps, request: DeliveryRequest): Promise<{ view: FileView; suffix?: DeliverySuffix }> {
  let current = await deps.files.findByPath(request.filePath);
  let suffix: DeliverySuffix | undefined;
  if (!current && request.suffixed) {
    current = await deps.files.findByPath(request.suffixed.filePath);
    suffix = request.suffixed.suffix;
  }
  if (!current) throw notFound();
  const versionId = suffix?.kind === 'stream-file' ? suffix.versionId : request.versionId;
  const view = versionId ? await deps.files.findVersion(current.file.id, versionId) : current;
  if (!view || !view.version.isPublished) throw notFound();
  return { view, suffix };
}

interface Delivered extends Derivative {
  etag: string;
  varyAccept: boolean;
  /** The bytes at this URL never change (a stream file under its version and token). */
  immutable: boolean;
  /** Until when (unix seconds) the response may be cached, for a private file's stream file. */
  cacheUntil?: number;
}

const unauthenticated = (message: string, parameter?: string) => new AppError('UNAUTHENTICATED', message, { parameter });

/** Which blob answers the request: the original, its thumbnail, or a derivative rendered (once) for it. */
async function chooseBlob(deps: DeliveryDeps, request: DeliveryRequest, view: FileView, suffix: DeliverySuffix | undefined, client: { signed: boolean; accept: string }): Promise<Delivered> {
  const { version } = view;
  const original: Delivered = { key: version.blobKey, mime: version.mime, etag: `"${version.id}"`, varyAccept: false, immutable: false };
  const derived = (d: Derivative, varyAccept = false): Delivered => ({ ...d, etag: `"${version.id}-${d.key.split('/').pop()}"`, varyAccept, immutable: false });

  if (suffix?.kind === 'stream-file') {
    // The token in the path is the capability: only the master manifest hands it out. A private file's token is
    // also bound to the expiry of the signed URL that opened the master.
    const pass = parseStreamPass(suffix.token);
    const key = pass && deps.videos.streamFileKey(version.id, pass.token, suffix.name);
    if (!pass || !key) throw notFound();
    const etag = `"${version.id}-${pass.token}-${suffix.name}"`;
    if (!version.isPrivateFile) return { key, mime: derivativeMime(key), etag, varyAccept: false, immutable: true };
    const access = checkPass(pass, deps.privateKeys[0] as string, version.id);
    if (access === 'expired') throw unauthenticated('The signed URL this stream was opened with has expired; open the master manifest again.', 'ik-t');
    if (access !== 'valid') throw unauthenticated('This stream belongs to a private file: open it through a signed master manifest URL.');
    return { key, mime: derivativeMime(key), etag, varyAccept: false, immutable: false, cacheUntil: pass.expiresAt };
  }

  let plan = request.transformation === undefined ? undefined : parseTransformation(request.transformation);
  const namedOnly = plan?.every((step) => Object.keys(step).length === 1 && step.n !== undefined) ?? false;
  const name = namedOnly && plan?.length === 1 ? (plan[0]?.n as string) : undefined;
  const named = name !== undefined && Object.hasOwn(deps.namedTransformations, name) ? deps.namedTransformations[name] : undefined;
  if (named) plan = parseTransformation(named);
  if (version.isPrivateFile && !client.signed) {
    // Named transformations work unsigned on private images (as on ImageKit), but not to take a private video whole.
    const videoOutput = !!suffix || version.mime.startsWith('video/');
    if (!namedOnly || (named && videoOutput)) {
      throw unauthenticated('This file is private: its original and unnamed transformations (and any video output) are only served on a signed URL.');
    }
  }
  if (plan?.some((step) => step.orig) && !suffix) return original;
  if (plan && namedOnly && !named) {
    const names = plan.map((step) => step.n);
    if (names.length !== 1 || names[0] !== THUMBNAIL_NAME) {
      const known = [THUMBNAIL_NAME, ...Object.keys(deps.namedTransformations)].join(', ');
      throw new AppError('BAD_REQUEST', `Unknown named transformation "${names.join(':')}"; the named transformations here are ${known}.`, { parameter: 'tr' });
    }
    if (suffix) throw new AppError('BAD_REQUEST', `${THUMBNAIL_TRANSFORMATION} cannot be combined with a URL suffix.`, { parameter: 'tr' });
    if (!hasThumbnail(version)) throw new AppError('BAD_REQUEST', 'Thumbnails are made for images and videos only.', { parameter: 'tr' });
    return { key: await deps.thumbnails.thumbnailOf(version), mime: THUMBNAIL_MIME, etag: `"${version.id}-thumbnail"`, varyAccept: false, immutable: false };
  }
  if (plan?.some((step) => step.n !== undefined)) throw new AppError('BAD_REQUEST', 'A named transformation cannot be combined with other parameters here.', { parameter: 'tr' });
  const steps = plan ?? [];
  const varyAccept = steps.some((step) => step.f === 'auto');
  const { accept } = client;
  switch (suffix?.kind) {
    case 'thumbnail':
      return version.fileType === 'image'
        ? derived(await deps.transformed.get(version, withDefaultFormat(steps, 'jpg'), accept), varyAccept)
        : derived(await deps.videos.thumbnail(version, steps, accept), varyAccept);
    case 'gif-video':
      return derived(await deps.videos.gifVideo(version, steps));
    case 'stream': {
      const master = await deps.videos.streamMaster(version, steps, suffix.protocol);
      if (!version.isPrivateFile) return derived(master);
      const expiresAt = Number(new URLSearchParams(request.rest.split('?')[1] ?? '').get('ik-t') ?? NO_EXPIRY);
      const manifest = (await buffer(await deps.store.get(master.key))).toString('utf8');
      const body = Buffer.from(bindManifest(manifest, deps.privateKeys[0] as string, version.id, master.token, expiresAt));
      return { ...derived(master), etag: `"${version.id}-${master.token}-${expiresAt}"`, body, cacheUntil: expiresAt };
    }
    default:
      if (!plan) return original;
      return version.mime.startsWith('video/') ? derived(await deps.videos.video(version, steps)) : derived(await deps.transformed.get(version, steps, accept), varyAccept);
  }
}

/** Public derivatives under a version and token never change; a private file's stream files live as long as their signed URL. */
function cacheControl(isPrivate: boolean, delivered: Delivered): string {
  if (delivered.immutable) return `${isPrivate ? 'private' : 'public'}, max-age=31536000, immutable`;
  if (delivered.cacheUntil !== undefined) return `private, max-age=${Math.max(0, Math.min(31_536_000, delivered.cacheUntil - Math.floor(Date.now() / 1000)))}`;
  return `${isPrivate ? 'private' : 'public'}, no-cache`;
}

/** `plan` with `f-<format>` on its last step unless some step already chose a format. */
const withDefaultFormat = (plan: TransformPlan, format: 'jpg'): TransformPlan =>
  plan.some((s) => s.f) ? plan : plan.length === 0 ? [{ f: format }] : [...plan.slice(0, -1), { ...plan[plan.length - 1], f: format }];

/**
 * Serves a stored file (GET/HEAD) at `<basePath><filePath>`: the bytes of the current version, or of the
 * version named by `ik-obj-version`, or its thumbnail for `tr:n-ik_ml_thumbnail`; with Content-Type, ETag,
 * conditional requests and single byte ranges. Unpublished files are not found; private files are refused
 * unless a named transformation is asked for.
 * @returns false when the URL is not a delivery URL.
 */
export async function serveFile(deps: DeliveryDeps, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const request = parseDeliveryUrl(req.url ?? '/', deps.basePath);
  if (!request) return false;
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const signature = checkSignedUrl(request.rest, deps.privateKeys);
    if (signature === 'invalid') throw new AppError('UNAUTHENTICATED', 'The URL signature (ik-s) is not valid for this URL.', { parameter: 'ik-s' });
    if (signature === 'expired') throw new AppError('UNAUTHENTICATED', 'The signed URL has expired (ik-t).', { parameter: 'ik-t' });
    if (signature === 'malformed-expiry') throw new AppError('UNAUTHENTICATED', 'The signed URL\'s expiry (ik-t) must be unix seconds in exactly 10 digits.', { parameter: 'ik-t' });
    const { view, suffix } = await resolveView(deps, request);
    const delivered = await chooseBlob(deps, request, view, suffix, { signed: signature === 'valid', accept: req.headers.accept ?? '' });
    const { key: blobKey, mime, etag } = delivered;
    const { version } = view;
    const size = delivered.body ? delivered.body.length : (await deps.store.stat(blobKey))?.size;
    if (size === undefined) throw notFound();
    const headers: Record<string, string | number> = {
      'content-type': mime,
      etag,
      'last-modified': version.createdAt.toUTCString(),
      'accept-ranges': 'bytes',
      'cache-control': cacheControl(version.isPrivateFile, delivered),
      ...SAFETY_HEADERS,
      ...(delivered.varyAccept ? { vary: 'Accept' } : {}),
      ...(request.attachment ? { 'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(view.file.name)}` } : {}),
    };
    if (req.headers['if-none-match']?.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
      res.writeHead(304, headers).end();
      return true;
    }
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
      return true;
    }
    const status = range ? 206 : 200;
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['content-length'] = range ? range.end - range.start + 1 : size;
    if (req.method === 'HEAD') {
      res.writeHead(status, headers).end();
      return true;
    }
    const body = delivered.body
      ? Readable.from([range ? delivered.body.subarray(range.start, range.end + 1) : delivered.body])
      : await deps.store.get(blobKey, range ?? undefined);
    res.writeHead(status, headers);
    await pipeline(body, res).catch(() => {
      /* the client went away mid-download */
    });
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
    } else if (isAppError(error)) {
      sendError(res, error);
    } else {
      deps.log(error);
      sendError(res, new AppError('INTERNAL_SERVER_ERROR', 'We have experienced an internal error while processing your request.'));
    }
  }
  return true;
}
