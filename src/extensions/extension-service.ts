import fs from 'node:fs/promises';
import { z } from 'zod';
import { type Clock, systemClock } from '../clock.js';
import type { Tx } from '../db/client.js';
import type { Transactor } from '../db/transactor.js';
import type { FileRepo, FileTxQueries, FileView } from '../db/repos/file-repo.js';
import type { AITag, ExtensionState, FileVersionRow } from '../db/schema.js';
import type { LibraryEvents } from '../events/library-events.js';
import type { EventBus, FileEvent } from '../events/pubsub.js';
import { defineJobKind, type PayloadOf } from '../jobs/job-kind.js';
import type { JobOutbox } from '../jobs/job-outbox.js';
import type { Job } from '../jobs/job-queue.js';
import { handleJobs, type JobRegistration } from '../jobs/job-runner.js';
import { toFileDetails } from '../library/file-details.js';
import type { Logger } from '../logger.js';
import type { BlobStore } from '../storage/blob-store.js';
import { withLocalFile } from '../storage/local-file.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';
import { VersionSupersededError } from '../upload/commit.js';
import type { AutoTaggingName, ExtensionRequest, RemoveBgOptions } from './extension-request.js';
import type { ExtensionModels } from './extension-models.js';

const isFinal = (state: ExtensionState | undefined) => state === 'success' || state === 'failed';

export const AUTO_TAG_JOB = 'extension.auto-tag';
export const REMOVE_BG_JOB = 'extension.remove-bg';

const autoTagging = z.object({ name: z.enum(['google-auto-tagging', 'aws-auto-tagging']), maxTags: z.number().int(), minConfidence: z.number() });
const removeBgOptions: z.ZodType<RemoveBgOptions> = z.object({ addShadow: z.boolean(), semitransparency: z.boolean(), bgColor: z.string().nullable(), bgImageUrl: z.string().nullable() });
const removeBg = z.object({ name: z.literal('remove-bg'), options: removeBgOptions });

/** An extension job: the version it runs on, the extension as requested, and the request's `webhookUrl`. */
const extensionJob = <E extends z.ZodType<ExtensionRequest>>(extension: E) =>
  z.object({ fileId: z.string().min(1), versionId: z.string().min(1), extension, webhookUrl: z.string().nullable() });

/** Google or AWS auto-tagging of one version. */
export const autoTagJob = defineJobKind(AUTO_TAG_JOB, extensionJob(autoTagging));
/** Background removal of one version (the cut-out becomes the next version). */
export const removeBgJob = defineJobKind(REMOVE_BG_JOB, extensionJob(removeBg));

export type ExtensionJobPayload = PayloadOf<typeof autoTagJob> | PayloadOf<typeof removeBgJob>;

export interface ExtensionServiceDeps {
  transactor: Transactor;
  files: FileRepo;
  store: BlobStore;
  queue: JobOutbox;
  outbox: WebhookOutbox;
  events: LibraryEvents;
  bus: EventBus;
  models: ExtensionModels;
  urlEndpoint: string;
  log: Logger;
  /** How long `uploadFile` waits for auto-tagging before answering `pending`. */
  syncBudgetMs: number;
  /** What job due times are set by (the system clock by default). */
  clock?: Clock;
  /** Creates the remove-bg version; provided by the upload pipeline. */
  storeNewVersion: (of: FileView, png: Buffer, extensionStatus: Record<string, ExtensionState>) => Promise<FileView>;
  fetchImage: (url: string) => Promise<Buffer>;
}

/**
 * Runs ImageKit's extensions: queues them with the upload (durably, in its transaction), tries auto-tagging
 * within a small time budget so the response can say `success`, and finishes the rest as jobs. Each result updates
 * `extensionStatus`, reaches subscribers, the request's `webhookUrl` (ImageKit's 5A payload) and account webhooks.
 */
export class ExtensionService {
  constructor(private readonly deps: ExtensionServiceDeps) {}

  /** Queues every extension inside the upload's transaction. Auto-tagging jobs wait out the sync attempt. */
  async enqueue(tx: Tx, view: FileView, requests: readonly ExtensionRequest[], webhookUrl: string | null): Promise<void> {
    const ids = { fileId: view.file.id, versionId: view.version.id, webhookUrl };
    for (const extension of requests) {
      if (extension.name === 'remove-bg') await this.deps.queue.enqueue(removeBgJob, { ...ids, extension }, { maxAttempts: 3 }, tx);
      else await this.deps.queue.enqueue(autoTagJob, { ...ids, extension }, { maxAttempts: 3, runAt: (this.deps.clock ?? systemClock).now() + this.deps.syncBudgetMs + 1000 }, tx);
    }
  }

  /** Tries the auto-tagging extensions now, for at most the sync budget; later results land through the job. */
  async trySync(view: FileView, requests: readonly ExtensionRequest[], webhookUrl: string | null): Promise<void> {
    const tagging = requests.filter((r) => r.name !== 'remove-bg');
    if (tagging.length === 0) return;
    const work = Promise.all(tagging.map((extension) => this.autoTag({ fileId: view.file.id, versionId: view.version.id, extension, webhookUrl }).catch(() => undefined)));
    await Promise.race([work, new Promise((r) => setTimeout(r, this.deps.syncBudgetMs).unref())]);
  }

  handlers(): JobRegistration[] {
    const onDead = (job: Job<ExtensionJobPayload>, error: unknown) => this.fail(job.payload, error);
    return [
      handleJobs(autoTagJob, { concurrency: 1, leaseMs: 120_000, onDead, run: (job) => this.autoTag(job.payload) }),
      handleJobs(removeBgJob, { concurrency: 1, leaseMs: 300_000, onDead, run: (job) => this.removeBackground(job.payload) }),
    ];
  }

  private async version(payload: ExtensionJobPayload): Promise<FileVersionRow | undefined> {
    return (await this.deps.files.findVersion(payload.fileId, payload.versionId))?.version;
  }

  private async isPending(payload: ExtensionJobPayload): Promise<boolean> {
    return (await this.version(payload))?.extensionStatus?.[payload.extension.name] === 'pending';
  }

  private async autoTag(payload: ExtensionJobPayload): Promise<void> {
    if (payload.extension.name === 'remove-bg' || !(await this.isPending(payload))) return;
    const { maxTags, minConfidence } = payload.extension;
    const name: AutoTaggingName = payload.extension.name;
    const version = await this.version(payload);
    if (!version) return;
    const tagger = await this.deps.models.tagger(name);
    const image = await withLocalFile(this.deps.store, version.blobKey, (file) => fs.readFile(file));
    const tags = await tagger.tag(image, { maxTags, minConfidence });
    await this.settle(payload, 'success', async (q, current) => {
      const kept = (current.aiTags ?? []).filter((t) => t.source !== name);
      const added: AITag[] = tags.map((t) => ({ name: t.name, confidence: Math.round(t.confidence * 100) / 100, source: name }));
      await q.updateVersion(current.id, { aiTags: [...kept, ...added] });
    });
  }

  private async removeBackground(payload: ExtensionJobPayload): Promise<void> {
    if (payload.extension.name !== 'remove-bg' || !(await this.isPending(payload))) return;
    const options = payload.extension.options;
    const view = await this.deps.files.findVersion(payload.fileId, payload.versionId);
    if (!view) return;
    const remover = await this.deps.models.remover();
    const image = await withLocalFile(this.deps.store, view.version.blobKey, (file) => fs.readFile(file));
    const bgImage = options.bgImageUrl ? await this.deps.fetchImage(options.bgImageUrl) : undefined;
    const png = await remover.removeBackground(image, { ...options, ...(bgImage ? { bgImage } : {}) });
    if (!(await this.isPending(payload))) return;
    // What the other extensions reached while the model ran; any still pending reach the cut-out when they settle.
    const status = { ...((await this.version(payload))?.extensionStatus ?? {}), 'remove-bg': 'success' as const };
    try {
      await this.deps.storeNewVersion(view, png, status);
    } catch (error) {
      // A newer version came first: running the model again would not change that.
      if (!(error instanceof VersionSupersededError)) throw error;
      await this.fail(payload, new Error('The file has a newer version than the one the background was removed from; the cut-out was not stored.'));
      return;
    }
    await this.settle(payload, 'success', async () => {});
  }

  private async fail(payload: ExtensionJobPayload, error: unknown): Promise<void> {
    this.deps.log.error({ err: error, extension: payload.extension.name, fileId: payload.fileId }, `Extension ${payload.extension.name} failed for ${payload.fileId}`);
    await this.settle(payload, 'failed', async () => {}, error instanceof Error ? error.message : String(error));
  }

  /**
   * The version remove-bg made from `version` (the next one, which copied its extension statuses), if any.
   * Versions are numbered in order and the cut-out is only stored on top of its source, so it is the next number,
   * unless an older version was restored in between; then the statuses do not match and nothing is returned.
   */
  private async cutOutOf(q: FileTxQueries, version: FileVersionRow): Promise<FileVersionRow | undefined> {
    const source = version.extensionStatus ?? {};
    if (source['remove-bg'] !== 'success') return undefined;
    const next = await q.nextVersion(version.fileId, version.number);
    const copied = next?.extensionStatus ?? {};
    const sameRequests = Object.keys(copied).sort().join() === Object.keys(source).sort().join();
    return next && copied['remove-bg'] === 'success' && sameRequests ? next : undefined;
  }

  /**
   * Gives the cut-out of `source` the outcome (status and AI tags) of each of `names` that is final on `source`
   * and still pending on the cut-out: the cut-out copied the statuses when it was stored, and the extensions that
   * were still running then finish on the source. Returns the cut-out when it changed.
   */
  private async shareWithCutOut(q: FileTxQueries, source: FileVersionRow, names: readonly string[]): Promise<FileVersionRow | undefined> {
    const cutOut = await this.cutOutOf(q, source);
    if (!cutOut) return undefined;
    const status = { ...(cutOut.extensionStatus ?? {}) };
    let aiTags = cutOut.aiTags ?? [];
    const shared = names.filter((name) => status[name] === 'pending' && isFinal(source.extensionStatus?.[name]));
    if (shared.length === 0) return undefined;
    for (const name of shared) {
      status[name] = source.extensionStatus?.[name] as ExtensionState;
      aiTags = [...aiTags.filter((t) => t.source !== name), ...(source.aiTags ?? []).filter((t) => t.source === name)];
    }
    await q.updateVersion(cutOut.id, { extensionStatus: status, aiTags: aiTags.length > 0 ? aiTags : cutOut.aiTags, updatedAt: new Date() });
    return cutOut;
  }

  /**
   * Records the outcome once (a second settle of the same extension is a no-op) and tells everyone. When the
   * version already has a cut-out, the outcome reaches it too, whichever finished first; settling remove-bg
   * itself hands the cut-out whatever finished while the model ran.
   */
  private async settle(payload: ExtensionJobPayload, outcome: 'success' | 'failed', apply: (q: FileTxQueries, version: FileVersionRow) => Promise<void>, reason?: string): Promise<void> {
    const name = payload.extension.name;
    const published: FileEvent[] = [];
    const view = await this.deps.transactor.transaction(
      async (tx) => {
        const q = this.deps.files.inTx(tx);
        const version = await q.findVersionRow(payload.versionId);
        if (!version || version.extensionStatus?.[name] !== 'pending') return undefined;
        await apply(q, version);
        const status = { ...(version.extensionStatus ?? {}), [name]: outcome };
        await q.updateVersion(version.id, { extensionStatus: status, updatedAt: new Date() });
        const settled = (await q.findVersionRow(version.id)) as FileVersionRow;
        const cutOut = await this.shareWithCutOut(q, settled, name === 'remove-bg' ? Object.keys(status) : [name]);
        if (cutOut) published.push(await this.deps.events.record(tx, 'file.updated', (await q.findVersion(payload.fileId, cutOut.id)) as FileView));
        const updated = await q.findVersion(payload.fileId, payload.versionId);
        if (!updated) return undefined;
        if (payload.webhookUrl) {
          const body =
            outcome === 'success'
              ? { service: name, status: 'SUCCESS', fileObject: toFileDetails((await q.findById(payload.fileId)) ?? updated, this.deps.urlEndpoint) }
              : { service: name, status: 'FAILURE', fileId: payload.fileId, error: { reason: reason ?? 'extension failed' } };
          await this.deps.outbox.toUrl(tx, payload.webhookUrl, { id: crypto.randomUUID(), type: `extension.${name}`, body });
        }
        if (outcome === 'success' && name !== 'remove-bg' && !cutOut) published.push(await this.deps.events.record(tx, 'file.updated', updated));
        return updated;
      },
      { behavior: 'immediate' },
    );
    if (!view) return;
    this.deps.events.publish(published);
    this.deps.bus.publish('extensionStatus', payload.fileId, { fileId: payload.fileId, status: view.version.extensionStatus ?? {} });
  }
}
