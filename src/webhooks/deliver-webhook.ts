import got from 'got';
import { type Clock, systemClock } from '../clock.js';
import type { Transactor } from '../db/transactor.js';
import { WebhookRepo } from '../db/repos/webhook-repo.js';
import type { PayloadOf } from '../jobs/job-kind.js';
import type { JobHandler } from '../jobs/job-runner.js';
import { type AddressAllowlist, createGuardedAgents } from '../upload/ip-guard.js';
import type { webhookJob } from './outbox.js';
import { signWebhook } from './signatures.js';

export interface WebhookDeliveryOptions {
  secret: string;
  /** Receivers must answer within this (ImageKit: 30 s). */
  timeoutMs: number;
  /** Give up this long after the event (ImageKit: 24 h). */
  retryWindowMs: number;
  /** First retry delay; each further one doubles, at most an hour apart (default 5 s). */
  retryBaseMs: number;
  allowlist: AddressAllowlist;
  metrics?: WebhookMetrics;
  /** What the retry window is measured by (the system clock by default). */
  clock?: Clock;
}

/** How one delivery attempt ended: received (2xx), to be retried, or given up on (the retry window closed). */
export type WebhookOutcome = 'delivered' | 'retrying' | 'failed';

/** Where webhook deliveries are reported (see `src/metrics/metrics.ts`). */
export interface WebhookMetrics {
  attempted(outcome: WebhookOutcome): void;
}

/**
 * The `webhook` job: POSTs one outbox row, signed, and records the attempt. A non-2xx answer or a timeout is
 * retried with backoff until the retry window closes; then the delivery is marked failed.
 */
export function createWebhookHandler(transactor: Transactor, options: WebhookDeliveryOptions): JobHandler<PayloadOf<typeof webhookJob>> {
  const agent = createGuardedAgents(options.allowlist);
  const retryDelay = (attempt: number) => Math.min(60 * 60 * 1000, options.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  const webhooks = new WebhookRepo(transactor);
  return {
    concurrency: 4,
    leaseMs: options.timeoutMs + 30_000,
    retryDelayMs: retryDelay,
    async run(job) {
      const id = job.payload.deliveryId;
      const delivery = await webhooks.findDelivery(id);
      if (!delivery || delivery.status !== 'pending') return;
      const started = Date.now();
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        const response = await got.post(delivery.url, {
          body: delivery.body,
          headers: { 'content-type': 'application/json', 'user-agent': 'Stowage-Webhooks', ...signWebhook(options.secret, delivery.eventId, delivery.body, started) },
          agent,
          timeout: { request: options.timeoutMs },
          retry: { limit: 0 },
          throwHttpErrors: false,
          followRedirect: false,
        });
        statusCode = response.statusCode;
        if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      const attempt = { at: new Date(started).toISOString(), statusCode, error, durationMs: Date.now() - started };
      if (!error) {
        options.metrics?.attempted('delivered');
        return webhooks.recordAttempt(id, attempt, 'delivered', new Date());
      }
      const giveUp = (options.clock ?? systemClock).now() + retryDelay(job.attempt) - delivery.createdAt.getTime() > options.retryWindowMs;
      options.metrics?.attempted(giveUp ? 'failed' : 'retrying');
      await webhooks.recordAttempt(id, attempt, giveUp ? 'failed' : 'pending', new Date());
      if (!giveUp) throw new Error(`Webhook to ${delivery.url} failed: ${error}`);
    },
  };
}
