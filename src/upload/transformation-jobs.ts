import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Tx } from '../db/client.js';
import type { Transactor } from '../db/transactor.js';
import type { FileRepo, FileView } from '../db/repos/file-repo.js';
import type { Derivative } from '../delivery/derivative.js';
import type { TransformedImages } from '../delivery/transformed-image.js';
import type { TransformedVideos } from '../delivery/transformed-video.js';
import { fileUrl } from '../delivery/urls.js';
import { isAppError } from '../errors.js';
import { defineJobKind, type PayloadOf } from '../jobs/job-kind.js';
import type { JobOutbox } from '../jobs/job-outbox.js';
import { handleJobs, type JobRegistration } from '../jobs/job-runner.js';
import { toFileDetails } from '../library/file-details.js';
import type { Logger } from '../logger.js';
import type { BlobStore } from '../storage/blob-store.js';
import { MASTER_MANIFEST } from '../transform/adaptive-stream.js';
import { parseTransformation } from '../transform/transform-plan.js';
import { createEventEnvelope, type WebhookOutbox } from '../webhooks/outbox.js';
import { VersionSupersededError } from './commit.js';
import type { PostTransformation, UploadTransformation } from './upload-transformation.js';

export const PRE_TRANSFORM_JOB = 'upload.pre-transform';
export const POST_TRANSFORM_JOB = 'upload.post-transform';

const postTransformation: z.ZodType<PostTransformation> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('transformation'), value: z.string() }),
  z.object({ type: z.literal('gif-to-video'), value: z.string().optional() }),
  z.object({ type: z.literal('thumbnail'), value: z.string().optional() }),
  z.object({ type: z.literal('abs'), value: z.string(), protocol: z.enum(['hls', 'dash']) }),
]);

/** The version a transformation job works on, and the upload request it reports to (`x_request_id`). */
const target = { fileId: z.string().min(1), versionId: z.string().min(1), requestId: z.string() };

/** A video's `pre` transformation (its string, as sent) and the `post` items to queue for the version it makes. */
export const preTransformJob = defineJobKind(PRE_TRANSFORM_JOB, z.object({ ...target, value: z.string().min(1), post: z.array(postTransformation) }));
/** One `post` item to render into the derivative cache. */
export const postTransformJob = defineJobKind(POST_TRANSFORM_JOB, z.object({ ...target, item: postTransformation }));

type PrePayload = PayloadOf<typeof preTransformJob>;
type PostPayload = PayloadOf<typeof postTransformJob>;

export interface UploadTransformationDeps {
  transactor: Transactor;
  files: FileRepo;
  store: BlobStore;
  queue: JobOutbox;
  outbox: WebhookOutbox;
  images: TransformedImages;
  videos: TransformedVideos;
  urlEndpoint: string;
  log: Logger;
  /** Stores a video's pre-transformed bytes as the file's new current version; FILE_TOO_LARGE past the size limit. */
  addVersion: (of: FileView, body: Readable) => Promise<FileView>;
  /** Wakes the job runner after jobs were queued outside an upload. */
  notifyJobs: () => void;
  /** How long a claimed job is leased: longer than the longest render, so a running job is never run twice. */
  leaseMs: number;
}

/** Why a transformation failed, in ImageKit's words: the input could not be encoded, or something else broke. */
type FailureReason = 'encoding_failed' | 'internal_server_error';

/**
 * A failure of the input itself (400): reported at once. Anything else (the render still running, something
 * transient) is retried.
 */
const isPermanent = (error: unknown) => isAppError(error) && error.status === 400;

const reasonOf = (error: unknown): FailureReason => (isPermanent(error) ? 'encoding_failed' : 'internal_server_error');

/**
 * The `transformation` upload parameter's asynchronous half: a video's `pre` (rendered, then stored as the file's
 * new current version) and every `post` item (rendered into the derivative cache, where its URL finds it), each
 * reported to account webhooks as ImageKit's `upload.pre-transform.*` / `upload.post-transform.*` events.
 */
export class UploadTransformationJobs {
  constructor(private readonly deps: UploadTransformationDeps) {}

  /**
   * Queues the upload's transformation jobs inside its transaction. A video's `pre` runs first and queues the
   * `post` items for the version it makes; otherwise the `post` items run on the uploaded version.
   */
  async enqueue(tx: Tx, view: FileView, transformation: UploadTransformation, requestId: string, options: { videoPre: boolean }): Promise<void> {
    const ids = { fileId: view.file.id, versionId: view.version.id, requestId };
    if (transformation.pre && options.videoPre) {
      await this.deps.queue.enqueue(preTransformJob, { ...ids, value: transformation.pre.value, post: transformation.post }, { maxAttempts: 20 }, tx);
      return;
    }
    await this.enqueuePost(tx, ids, transformation.post);
  }

  handlers(): JobRegistration[] {
    const common = { concurrency: 1, leaseMs: this.deps.leaseMs, retryDelayMs: (attempt: number) => Math.min(60_000, 2000 * attempt) };
    return [
      handleJobs(preTransformJob, {
        ...common,
        run: (job) => this.runPre(job.payload),
        onDead: (job, error) => this.preFailed(job.payload, reasonOf(error)),
      }),
      handleJobs(postTransformJob, {
        ...common,
        concurrency: 2,
        run: (job) => this.runPost(job.payload),
        onDead: (job, error) => this.postFailed(job.payload, reasonOf(error)),
      }),
    ];
  }

  private async enqueuePost(tx: Tx, ids: Omit<PostPayload, 'item'>, items: readonly PostTransformation[]): Promise<void> {
    for (const item of items) await this.deps.queue.enqueue(postTransformJob, { ...ids, item }, { maxAttempts: 20 }, tx);
  }

  private async runPre(payload: PrePayload): Promise<void> {
    const view = await this.deps.files.findVersion(payload.fileId, payload.versionId);
    if (!view) return; // deleted meanwhile: nothing to report on
    let derivative: Derivative;
    try {
      derivative = await this.deps.videos.video(view.version, parseTransformation(payload.value));
    } catch (error) {
      if (!isPermanent(error)) throw error;
      await this.preRefused(payload, view, error);
      return;
    }
    let added: FileView;
    try {
      added = await this.deps.addVersion(view, await this.deps.store.get(derivative.key));
    } catch (error) {
      // Over the size limit: a retry would make the same bytes.
      if (isPermanent(error)) {
        await this.preRefused(payload, view, error);
        return;
      }
      if (!(error instanceof VersionSupersededError)) throw error;
      const current = await this.deps.files.findById(payload.fileId);
      // A run of this job that died after adding its version: finish what it left undone.
      if (current && current.version.sha256 === (await this.sha256Of(derivative.key))) {
        added = current;
      } else {
        // A newer upload came first, or the file was moved or deleted: never put an older video back on top.
        this.deps.log.info({ fileId: payload.fileId, reason: error.message }, `Pre-transformation of ${view.file.filePath} dropped: ${error.message}`);
        return;
      }
    }
    await this.deps.transactor.transaction(async (tx) => {
      await this.emit(tx, 'upload.pre-transform.success', toFileDetails(added, this.deps.urlEndpoint), { x_request_id: payload.requestId, transformation: payload.value });
      await this.enqueuePost(tx, { fileId: added.file.id, versionId: added.version.id, requestId: payload.requestId }, payload.post);
    });
    this.deps.notifyJobs();
  }

  private async sha256Of(key: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of await this.deps.store.get(key)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  /** The input itself cannot be pre-transformed (or its result not stored): reported at once, never retried. */
  private async preRefused(payload: PrePayload, view: FileView, error: unknown): Promise<void> {
    this.deps.log.warn({ err: error, fileId: payload.fileId }, `Pre-transformation of ${view.file.filePath} failed`);
    await this.preFailed(payload, 'encoding_failed');
  }

  private async preFailed(payload: PrePayload, reason: FailureReason): Promise<void> {
    const view = await this.deps.files.findVersion(payload.fileId, payload.versionId);
    await this.deps.transactor.transaction((tx) =>
      this.emit(
        tx,
        'upload.pre-transform.error',
        { name: view?.file.name ?? null, path: view?.file.filePath ?? null, transformation: { error: { reason } } },
        { x_request_id: payload.requestId, transformation: payload.value },
      ),
    );
    this.deps.notifyJobs();
  }

  private async runPost(payload: PostPayload): Promise<void> {
    const view = await this.deps.files.findVersion(payload.fileId, payload.versionId);
    if (!view) return;
    try {
      await this.render(view, payload.item);
    } catch (error) {
      if (!isPermanent(error)) throw error;
      this.deps.log.warn({ err: error, fileId: payload.fileId }, `Post-transformation ${payload.item.type} of ${view.file.filePath} failed`);
      await this.postFailed(payload, 'encoding_failed');
      return;
    }
    await this.deps.transactor.transaction((tx) =>
      this.emit(tx, 'upload.post-transform.success', { fileId: view.file.id, name: view.file.name, url: this.urlOf(view, payload.item) }, this.requestOf(payload)),
    );
    this.deps.notifyJobs();
  }

  private async postFailed(payload: PostPayload, reason: FailureReason): Promise<void> {
    const view = await this.deps.files.findVersion(payload.fileId, payload.versionId);
    await this.deps.transactor.transaction((tx) =>
      this.emit(
        tx,
        'upload.post-transform.error',
        { fileId: payload.fileId, name: view?.file.name ?? null, path: view?.file.filePath ?? null, url: view ? this.urlOf(view, payload.item) : null, transformation: { error: { reason } } },
        this.requestOf(payload),
      ),
    );
    this.deps.notifyJobs();
  }

  /** Renders the item's derivative into the cache (where a request for its URL will find it). */
  private async render(view: FileView, item: PostTransformation): Promise<Derivative> {
    const plan = item.value === undefined ? [] : parseTransformation(item.value);
    const { version } = view;
    switch (item.type) {
      case 'transformation':
        return version.mime.startsWith('video/') ? this.deps.videos.video(version, plan) : this.deps.images.get(version, plan, '');
      case 'gif-to-video':
        return this.deps.videos.gifVideo(version, plan);
      case 'thumbnail':
        return this.deps.videos.thumbnail(version, plan, '');
      case 'abs':
        return this.deps.videos.streamMaster(version, plan, item.protocol);
    }
  }

  /** The URL that delivers the item's derivative. */
  private urlOf(view: FileView, item: PostTransformation): string {
    const [base, query] = fileUrl(this.deps.urlEndpoint, view).split('?') as [string, string | undefined];
    const suffix = { transformation: '', 'gif-to-video': '/ik-gif-video.mp4', thumbnail: '/ik-thumbnail.jpg', abs: `/${item.type === 'abs' ? MASTER_MANIFEST[item.protocol] : ''}` }[item.type];
    const params = [query, item.value === undefined ? undefined : `tr=${item.value}`].filter(Boolean);
    return `${base}${suffix}${params.length ? `?${params.join('&')}` : ''}`;
  }

  private requestOf(payload: PostPayload) {
    const { type, value } = payload.item;
    const transformation = { type, ...(value === undefined ? {} : { value }), ...(payload.item.type === 'abs' ? { protocol: payload.item.protocol } : {}) };
    return { x_request_id: payload.requestId, transformation };
  }

  private async emit(tx: Tx, type: string, data: Record<string, unknown>, request: Record<string, unknown>): Promise<void> {
    await this.deps.outbox.toEndpoints(tx, createEventEnvelope(type, data, request));
  }
}
