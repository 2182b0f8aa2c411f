import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, isAppError } from '../errors.js';
import { authenticate } from '../http/auth.js';
import { settleUnreadBody } from '../http/unread-body.js';
import type { FileSource } from '../upload/request.js';
import { bothAuthMethods, CLIENT_AUTH_FIELDS, verifyClientAuth } from './client-auth.js';
import { uploadResponseJson } from './file-json.js';
import { sendError, sendJson } from './responses.js';
import type { RestDeps } from './rest-api.js';
import { decodeUploadFields, type ReadyForm, readUploadForm, type UploadForm } from './upload-form.js';

/** The longest field other than `file` (JSON texts included). */
const MAX_FIELD_BYTES = 1_000_000;
/** ImageKit's form has about 25 fields. */
const MAX_FIELDS = 100;

const isMultipart = (req: IncomingMessage) => (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');

/** Answers before the body is read: what is still arriving is drained or the connection closed. */
function refuse(req: IncomingMessage, res: ServerResponse, error: AppError): void {
  settleUnreadBody(req, res);
  sendError(res, error);
}

/**
 * `POST /api/v1/files/upload`: ImageKit's upload form, authenticated by Basic auth (the private key) or by ImageKit's
 * client-side fields (`publicKey`, `signature`, `expire`, `token`), and handed to the same upload pipeline as
 * GraphQL's `uploadFile`. Answers ImageKit's upload response, or its `{message, help}` error body. Browsers on the
 * origins of `STOWAGE_CORS_ORIGINS` get CORS headers and preflight answers; other cross-site browser requests are
 * refused, as on `/graphql`.
 */
export async function handleUploadEndpoint(deps: RestDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [name, value] of Object.entries(deps.origins.corsHeaders(req.headers))) res.setHeader(name, value);
  const refusal = deps.origins.refusal(req.headers);
  if (refusal) return refuse(req, res, refusal);
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { allow: 'POST, OPTIONS', 'content-length': '0', ...deps.origins.preflightHeaders(req.headers) }).end();
    return;
  }
  if (req.method !== 'POST' || !isMultipart(req)) {
    res.setHeader('allow', 'POST, OPTIONS');
    return refuse(req, res, new AppError('BAD_REQUEST', 'Upload with POST and a multipart/form-data body (ImageKit\'s upload form).', { parameter: 'Content-Type' }));
  }
  // Basic auth is checked before the body is read; the client-side fields are in the body.
  const basic = req.headers.authorization === undefined ? undefined : authenticate(req.headers.authorization, deps.privateKeys);
  if (basic && !basic.ok) return refuse(req, res, basic.error);

  const config = deps.services.config;
  let form: UploadForm;
  try {
    form = readUploadForm(
      req,
      {
        maxFileBytes: deps.maxFileBytes,
        // As for base64 in a GraphQL JSON body: up to the (non-video) file limit.
        maxBase64FileBytes: config.limits.maxFileBytes,
        maxFieldBytes: MAX_FIELD_BYTES,
        maxFields: MAX_FIELDS,
      },
      // The file part is streamed straight on only when nothing the upload needs first can still come after it.
      (fields) => fields.has('fileName') && (basic !== undefined || CLIENT_AUTH_FIELDS.every((name) => fields.has(name))),
    );
  } catch {
    return refuse(req, res, new AppError('BAD_REQUEST', 'Invalid multipart request: the Content-Type needs a boundary.', { parameter: 'Content-Type' }));
  }
  settleUnreadBody(req, res, form);

  try {
    const ready = await form.ready;
    await authenticateForm(deps, ready, basic !== undefined);
    const file = fileSourceOf(ready);
    const { params, responseFields } = decodeUploadFields(ready.fields);
    const view = await deps.services.uploadFile({ ...params, file, requestId: String(res.getHeader('x-request-id') ?? '') || undefined });
    sendJson(res, 200, uploadResponseJson(view, deps.services, responseFields));
  } catch (error) {
    if (!isAppError(error)) deps.log.error({ err: error, requestId: res.getHeader('x-request-id') }, 'REST upload failed');
    sendError(res, error);
  } finally {
    form.dispose();
  }
}

/** Basic auth was checked already; a form without it must carry valid client-side fields, and one with it none. */
async function authenticateForm(deps: RestDeps, form: ReadyForm, hasBasicAuth: boolean): Promise<void> {
  if (hasBasicAuth) {
    if (['signature', 'expire', 'token'].some((name) => form.fields.has(name))) throw bothAuthMethods();
    return;
  }
  await verifyClientAuth(form.fields, {
    publicKeys: deps.publicKeys,
    privateKeys: deps.privateKeys,
    useToken: (token, expiresAtMs) => deps.uploadTokens.use(token, expiresAtMs),
    now: () => Date.now(),
  });
}

/** The file part, or the `file` string (base64, data URI, URL). @throws BAD_REQUEST when there is neither. */
function fileSourceOf(form: ReadyForm): FileSource {
  if (form.file) return { kind: 'stream', file: Promise.resolve(form.file) };
  const value = form.fields.get('file');
  if (value === undefined || value.trim() === '') throw new AppError('BAD_REQUEST', 'Your request is missing file parameter.', { parameter: 'file' });
  return { kind: 'string', value };
}
