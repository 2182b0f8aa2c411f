import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { FileRepo, FileView } from '../db/repos/file-repo.js';
import { AppError, HELP_TEXT, isAppError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { parseRange } from './range.js';
import { hasThumbnail, THUMBNAIL_MIME, type ThumbnailMaker } from './thumbnail.js';
import { THUMBNAIL_TRANSFORMATION, VERSION_QUERY_PARAM } from './urls.js';
import { parseTransformation } from '../transform/transform-plan.js';
import { checkSignedUrl } from './signed-url.js';
import type { TransformedImages } from './transformed-image.js';

const THUMBNAIL_NAME = THUMBNAIL_TRANSFORMATION.slice(2);

export interface DeliveryDeps {
  files: FileRepo;
  store: BlobStore;
  thumbnails: ThumbnailMaker;
  /** Path prefix of the URL endpoint (`/` or e.g. `/media/`), under which files are served. */
  basePath: string;
  transformed: TransformedImages;
  /** Keys that sign URLs (`ik-s`). */
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

interface DeliveryRequest {
  filePath: string;
  transformation: string | undefined;
  versionId: string | undefined;
  /** The URL after the base path, as signed URLs sign it. */
  rest: string;
  attachment: boolean;
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
    filePath: `/${decoded.join('/')}`,
    transformation,
    versionId: url.searchParams.get(VERSION_QUERY_PARAM) ?? undefined,
    rest: rawPath.slice(basePath.length) + query,
    attachment: url.searchParams.get('ik-attachment') === 'true',
  };
}

function sendError(res: ServerResponse, error: AppError): void {
  const body = JSON.stringify({ message: error.message, help: HELP_TEXT, code: error.code });
  res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...SAFETY_HEADERS });
  res.end(body);
}

function resolveView(deps: DeliveryDeps, request: DeliveryRequest): FileView {
  const current = deps.files.findByPath(request.filePath);
  if (!current) throw notFound();
  const view = request.versionId ? deps.files.findVersion(current.file.id, request.versionId) : current;
  if (!view || !view.version.isPublished) throw notFound();
  return view;
}

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
    const view = resolveView(deps, request);
    const { version } = view;
    let blobKey = version.blobKey;
    let mime = version.mime;
    let etag = `"${version.id}"`;
    let varyAccept = false;
    let plan = request.transformation === undefined ? undefined : parseTransformation(request.transformation);
    const namedOnly = plan?.every((step) => Object.keys(step).length === 1 && step.n !== undefined) ?? false;
    const name = namedOnly && plan?.length === 1 ? (plan[0]?.n as string) : undefined;
    const named = name !== undefined && Object.hasOwn(deps.namedTransformations, name) ? deps.namedTransformations[name] : undefined;
    if (named) plan = parseTransformation(named);
    if (version.isPrivateFile && !namedOnly && signature !== 'valid') {
      throw new AppError('UNAUTHENTICATED', 'This file is private: its original and unnamed transformations are only served on a signed URL.');
    }
    if (plan && !plan.some((step) => step.orig)) {
      if (namedOnly && !named) {
        const names = plan.map((step) => step.n);
        if (names.length !== 1 || names[0] !== THUMBNAIL_NAME) {
          const known = [THUMBNAIL_NAME, ...Object.keys(deps.namedTransformations)].join(', ');
          throw new AppError('BAD_REQUEST', `Unknown named transformation "${names.join(':')}"; the named transformations here are ${known}.`, { parameter: 'tr' });
        }
        if (!hasThumbnail(version)) throw new AppError('BAD_REQUEST', 'Thumbnails are made for images and videos only.', { parameter: 'tr' });
        blobKey = await deps.thumbnails.thumbnailOf(version);
        mime = THUMBNAIL_MIME;
        etag = `"${version.id}-thumbnail"`;
      } else {
        if (plan.some((step) => step.n !== undefined)) throw new AppError('BAD_REQUEST', 'A named transformation cannot be combined with other parameters here.', { parameter: 'tr' });
        const derived = await deps.transformed.get(version, plan, req.headers.accept ?? '');
        blobKey = derived.key;
        mime = derived.mime;
        etag = `"${version.id}-${derived.key.split('/').pop()}"`;
        varyAccept = plan.some((step) => step.f === 'auto');
      }
    }

    const stat = await deps.store.stat(blobKey);
    if (!stat) throw notFound();
    const headers: Record<string, string | number> = {
      'content-type': mime,
      etag,
      'last-modified': version.createdAt.toUTCString(),
      'accept-ranges': 'bytes',
      'cache-control': version.isPrivateFile ? 'private, no-cache' : 'public, no-cache',
      ...SAFETY_HEADERS,
      ...(varyAccept ? { vary: 'Accept' } : {}),
      ...(request.attachment ? { 'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(view.file.name)}` } : {}),
    };
    if (req.headers['if-none-match']?.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
      res.writeHead(304, headers).end();
      return true;
    }
    const range = parseRange(req.headers.range, stat.size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${stat.size}` }).end();
      return true;
    }
    const status = range ? 206 : 200;
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${stat.size}`;
    headers['content-length'] = range ? range.end - range.start + 1 : stat.size;
    if (req.method === 'HEAD') {
      res.writeHead(status, headers).end();
      return true;
    }
    const body = await deps.store.get(blobKey, range ?? undefined);
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
