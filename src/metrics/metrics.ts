import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DerivativeCacheMetrics } from '../delivery/derivative-cache.js';
import type { RenderMetrics } from '../delivery/render-queue.js';
import type { JanitorMetrics } from '../jobs/janitor.js';
import { type JobCount, QUEUED_JOB_STATES } from '../jobs/job-transport.js';
import type { AnalysisMetrics } from '../upload/analyze-file.js';
import type { UploadMetrics } from '../upload/upload-file.js';
import type { WebhookMetrics } from '../webhooks/deliver-webhook.js';
import type { HttpMetrics } from './http-metrics.js';

/** What is read when Prometheus scrapes, rather than counted as it happens. */
export interface ScrapeSources {
  renderQueues: Record<'image' | 'video', { depth(): { waiting: number; running: number } }>;
  /** The job kinds to report and where their counts come from (the job transport's `counts`). */
  jobs: { kinds: readonly string[]; counts(kinds: readonly string[]): Promise<JobCount[]> | JobCount[] };
  derivativeCache: { totalBytes(): Promise<number> | number };
}

/** Every Stowage metric, in a registry of its own, as the handles the code that records them takes. */
export interface Metrics {
  readonly registry: Registry;
  readonly http: HttpMetrics;
  readonly uploads: UploadMetrics;
  readonly analysis: AnalysisMetrics;
  readonly renders: RenderMetrics;
  readonly webhooks: WebhookMetrics;
  readonly derivativeCache: DerivativeCacheMetrics;
  readonly janitor: JanitorMetrics;
  /** Connects the gauges read at scrape time to what they read; until then they report nothing. */
  readFrom(sources: ScrapeSources): void;
}

// Renders and analyses of large videos take minutes; requests and image work take milliseconds.
const WORK_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const outcomeOf = (failed: boolean) => (failed ? 'failure' : 'success');

/**
 * Creates the metrics (names prefixed `stowage_`) and Node's default process metrics (`process_*`, `nodejs_*`,
 * including event-loop lag) in a new registry, so several apps in one process never share or clash.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let sources: ScrapeSources | undefined;

  const httpRequests = new Counter({
    name: 'stowage_http_requests_total',
    help: 'HTTP requests answered, by route class, method and status class.',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'stowage_http_request_duration_seconds',
    help: 'Time from a request arriving to its response finishing, by route class, method and status class.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  const uploads = new Counter({
    name: 'stowage_uploads_total',
    help: 'Uploads (uploadFile), by how the file was sent and how the upload ended (success or the error code).',
    labelNames: ['source', 'outcome'] as const,
    registers,
  });
  const uploadBytes = new Counter({
    name: 'stowage_upload_bytes_total',
    help: 'Bytes received by uploads, by how the file was sent and how the upload ended.',
    labelNames: ['source', 'outcome'] as const,
    registers,
  });
  const analysisDuration = new Histogram({
    name: 'stowage_analysis_duration_seconds',
    help: 'Time to analyse an uploaded file (metadata, probe, perceptual hash), including the wait for a slot.',
    labelNames: ['kind', 'outcome'] as const,
    buckets: WORK_BUCKETS,
    registers,
  });
  const renderDuration = new Histogram({
    name: 'stowage_render_duration_seconds',
    help: 'Time a render (transformation or thumbnail) ran in its slot, by kind and outcome.',
    labelNames: ['kind', 'outcome'] as const,
    buckets: WORK_BUCKETS,
    registers,
  });
  const renderRefusals = new Counter({
    name: 'stowage_render_refusals_total',
    help: 'Requests answered 503 instead of their render: too many waiting, or still rendering after the wait.',
    labelNames: ['kind', 'reason'] as const,
    registers,
  });
  new Gauge({
    name: 'stowage_render_queue_depth',
    help: 'Renders waiting for a slot or running, by queue (image, video).',
    labelNames: ['queue', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const [queue, renders] of Object.entries(sources?.renderQueues ?? {})) {
        const { waiting, running } = renders.depth();
        this.set({ queue, state: 'waiting' }, waiting);
        this.set({ queue, state: 'running' }, running);
      }
    },
  });
  new Gauge({
    name: 'stowage_job_queue_depth',
    help: 'Background jobs pending, running or dead, by kind and state.',
    labelNames: ['kind', 'state'] as const,
    registers,
    async collect() {
      if (!sources) return this.reset();
      const { kinds, counts } = sources.jobs;
      const found = await counts(kinds);
      // Reset only once the counts are in, so a scrape never reads the gauge half filled.
      this.reset();
      // Every kind and state is reported, 0 included, so an alert on a series never sees it vanish.
      for (const kind of kinds) for (const state of QUEUED_JOB_STATES) this.set({ kind, state }, 0);
      for (const { kind, state, count } of found) this.set({ kind, state }, count);
    },
  });
  const webhookDeliveries = new Counter({
    name: 'stowage_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome: delivered, retrying (will be tried again) or failed (given up).',
    labelNames: ['outcome'] as const,
    registers,
  });
  new Gauge({
    name: 'stowage_derivative_cache_bytes',
    help: 'Bytes of derivatives (renders, thumbnails, stream packages) the cache holds.',
    registers,
    async collect() {
      if (sources) this.set(await sources.derivativeCache.totalBytes());
    },
  });
  const evictions = new Counter({
    name: 'stowage_derivative_cache_evictions_total',
    help: 'Derivatives evicted (least recently used first) to keep the cache under STOWAGE_DERIVATIVE_CACHE_BYTES.',
    registers,
  });
  const evictedBytes = new Counter({
    name: 'stowage_derivative_cache_evicted_bytes_total',
    help: 'Bytes of derivatives evicted from the cache.',
    registers,
  });
  const janitorCollected = new Counter({
    name: 'stowage_janitor_collected_total',
    help: 'Orphans the janitor deleted, by kind: temp (interrupted writes), orphan (blobs with no version), derivative (of deleted versions).',
    labelNames: ['kind'] as const,
    registers,
  });

  return {
    registry,
    http: {
      observe(route, method, status, seconds) {
        const labels = { route, method, status };
        httpRequests.inc(labels);
        httpDuration.observe(labels, seconds);
      },
    },
    uploads: {
      uploaded(source, outcome, bytes) {
        uploads.inc({ source, outcome });
        uploadBytes.inc({ source, outcome }, bytes);
      },
    },
    analysis: {
      analyzed: (kind, seconds, failed) => analysisDuration.observe({ kind, outcome: outcomeOf(failed) }, seconds),
    },
    renders: {
      rendered: (kind, seconds, failed) => renderDuration.observe({ kind, outcome: outcomeOf(failed) }, seconds),
      refused: (kind, reason) => renderRefusals.inc({ kind, reason }),
    },
    webhooks: {
      attempted: (outcome) => webhookDeliveries.inc({ outcome }),
    },
    derivativeCache: {
      evicted(entries, bytes) {
        evictions.inc(entries);
        evictedBytes.inc(bytes);
      },
    },
    janitor: {
      // Incremented by 0 too, so every kind is reported from the first run on.
      collected: (kind, count) => janitorCollected.inc({ kind }, count),
    },
    readFrom(next) {
      sources = next;
    },
  };
}
