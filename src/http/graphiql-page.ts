import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';

/** Where GraphiQL's scripts, styles and workers are served from: this server, never a CDN. */
export const GRAPHIQL_ASSETS_PATH = '/graphql/assets/';

/**
 * Headers of the GraphiQL page. The page runs on the origin that holds the API key, so it may load code
 * only from this server, talk only to it, and never be framed (clickjacking). Monaco and React inject
 * inline styles, and the bundled fonts are `data:` URIs; no inline script is needed.
 */
export const GRAPHIQL_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "worker-src 'self'",
    "connect-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * Runs before yoga's bundle: Monaco asks `MonacoEnvironment` for its workers' URLs. Options come from a
 * JSON data block in the page rather than an inline script, so the CSP needs no hash or nonce.
 */
const BOOT_SCRIPT = `(() => {
  const config = JSON.parse(document.getElementById('graphiql-config').textContent);
  self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => config.workers[label] };
  document.addEventListener('DOMContentLoaded', () => {
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), config.options);
  });
})();
`;

interface Asset {
  /** Content-hashed, so it can be cached for good. */
  url: string;
  contentType: string;
  body: Buffer;
  gzipped?: Promise<Buffer>;
}

type AssetName = 'css' | 'favicon' | 'boot' | 'bundle' | 'editorWorker' | 'jsonWorker' | 'graphqlWorker';

const JS = 'text/javascript; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';

function createAsset(fileName: string, contentType: string, body: Buffer): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const dot = fileName.lastIndexOf('.');
  return { url: `${GRAPHIQL_ASSETS_PATH}${fileName.slice(0, dot)}.${hash}${fileName.slice(dot)}`, contentType, body };
}

const fromDataUri = (uri: string): Buffer => Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64');

/** yoga's own GraphiQL build (the one its CDN page loads), shipped inside `@graphql-yoga/render-graphiql`. */
async function loadAssets(): Promise<Record<AssetName, Asset>> {
  const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
  return {
    css: createAsset('graphiql.css', 'text/css; charset=utf-8', Buffer.from(bundle.css)),
    favicon: createAsset('favicon.ico', 'image/x-icon', fromDataUri(bundle.favicon)),
    boot: createAsset('boot.js', JS, Buffer.from(BOOT_SCRIPT)),
    bundle: createAsset('yoga-graphiql.js', JS, Buffer.from(bundle.js)),
    editorWorker: createAsset('editor.worker.js', JS, Buffer.from(bundle.editorWorkerService)),
    jsonWorker: createAsset('json.worker.js', JS, Buffer.from(bundle.jsonWorker)),
    graphqlWorker: createAsset('graphql.worker.js', JS, Buffer.from(bundle.graphqlWorker)),
  };
}

// Loaded on first use: the bundle is about 9 MB, and most servers never show GraphiQL.
let assets: Promise<Record<AssetName, Asset>> | undefined;
const getAssets = () => (assets ??= loadAssets());

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** JSON inside `<script type="application/json">`: `<` escaped so no string can close the element. */
const toScriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** The GraphiQL page (yoga's `renderGraphiQL`): every script, style and worker comes from {@link GRAPHIQL_ASSETS_PATH}. */
export async function renderGraphiQLPage(options: GraphiQLOptions): Promise<string> {
  const a = await getAssets();
  const config = {
    options,
    workers: { editorWorkerService: a.editorWorker.url, json: a.jsonWorker.url, graphql: a.graphqlWorker.url },
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
<link rel="icon" href="${a.favicon.url}">
<link rel="stylesheet" href="${a.css.url}">
</head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run this app.</noscript>
<div id="root"></div>
<script id="graphiql-config" type="application/json">${toScriptJson(config)}</script>
<script src="${a.boot.url}"></script>
<script src="${a.bundle.url}"></script>
</body>
</html>
`;
}

const acceptsGzip = (req: IncomingMessage) => /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));

/**
 * Serves one of GraphiQL's assets for a GET or HEAD under {@link GRAPHIQL_ASSETS_PATH}; answers false
 * (nothing written) for any other request, so the caller can go on with it.
 */
export async function serveGraphiQLAsset(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const pathname = (req.url ?? '/').split('?')[0] ?? '';
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !pathname.startsWith(GRAPHIQL_ASSETS_PATH)) return false;
  const asset = Object.values(await getAssets()).find((candidate) => candidate.url === pathname);
  if (!asset) return false;
  const gzipped = acceptsGzip(req);
  const body = gzipped ? await (asset.gzipped ??= promisify(gzip)(asset.body)) : asset.body;
  res.writeHead(200, {
    'content-type': asset.contentType,
    'content-length': body.length,
    'cache-control': IMMUTABLE,
    'x-content-type-options': 'nosniff',
    vary: 'accept-encoding',
    ...(gzipped ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
