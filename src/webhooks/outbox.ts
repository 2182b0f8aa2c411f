import type { Tx } from '../db/client.js';
import type { Transactor } from '../db/transactor.js';
import { WebhookRepo } from '../db/repos/webhook-repo.js';
import type { WebhookDeliveryRow, WebhookEndpointRow } from '../db/schema.js';
import { z } from 'zod';
import { defineJobKind } from '../jobs/job-kind.js';
import type { JobOutbox } from '../jobs/job-outbox.js';
import { createObjectId } from '../upload/ids.js';

export const WEBHOOK_JOB = 'webhook';

/** One delivery to send: the id of its `webhook_deliveries` row, which holds the URL and the body. */
export const webhookJob = defineJobKind(WEBHOOK_JOB, z.object({ deliveryId: z.string().min(1) }));

/** An event to deliver: ImageKit's envelope (`type`, `id`, `created_at`, `data`) or a per-request payload. */
export interface OutgoingEvent {
  id: string;
  type: string;
  body: Record<string, unknown>;
}

export const createEventEnvelope = (type: string, data: Record<string, unknown>, request?: Record<string, unknown>): OutgoingEvent => {
  const id = crypto.randomUUID();
  return { id, type, body: { type, id, created_at: new Date().toISOString(), data, ...(request ? { request } : {}) } };
};

/**
 * The webhook outbox: events are written, with one job per destination, in the same transaction as the change
 * they describe, so a delivery is never lost to a crash; the `webhook` job sends and retries it.
 */
export class WebhookOutbox {
  private readonly webhooks: WebhookRepo;

  constructor(
    transactor: Transactor,
    private readonly queue: JobOutbox,
    private readonly configuredUrls: readonly string[],
  ) {
    this.webhooks = new WebhookRepo(transactor);
  }

  /** The account's endpoints inside `tx`: those configured (every event), then those added through the API. */
  private async endpoints(tx: Tx): Promise<{ url: string; events: string[] | null }[]> {
    const stored = await this.webhooks.inTx(tx).listEndpoints();
    return [...this.configuredUrls.map((url) => ({ url, events: null })), ...stored.map((e) => ({ url: e.url, events: e.events }))];
  }

  /** Queues `event` for every account endpoint that wants its type. @returns how many deliveries were queued. */
  async toEndpoints(tx: Tx, event: OutgoingEvent): Promise<number> {
    const urls = (await this.endpoints(tx)).filter((e) => !e.events || e.events.includes(event.type)).map((e) => e.url);
    for (const url of urls) await this.toUrl(tx, url, event);
    return urls.length;
  }

  /** Queues `event` for one URL (a per-request `webhookUrl`). */
  async toUrl(tx: Tx, url: string, event: OutgoingEvent): Promise<void> {
    const id = createObjectId();
    const now = new Date();
    await this.webhooks
      .inTx(tx)
      .insertDelivery({ id, eventId: event.id, eventType: event.type, url, body: JSON.stringify(event.body), status: 'pending', attempts: [], createdAt: now, updatedAt: now });
    await this.queue.enqueue(webhookJob, { deliveryId: id }, { maxAttempts: 1000 }, tx);
  }

  /** The `limit` newest deliveries, newest first. */
  list(limit: number): Promise<WebhookDeliveryRow[]> {
    return this.webhooks.listDeliveries(limit);
  }

  /** The endpoints added through the API (not the configured ones). */
  storedEndpoints(): Promise<WebhookEndpointRow[]> {
    return this.webhooks.listEndpoints();
  }

  addEndpoint(url: string, events: string[] | null): Promise<WebhookEndpointRow> {
    return this.webhooks.addEndpoint({ id: createObjectId(), url, events, createdAt: new Date() });
  }

  /** @returns false when there was no endpoint with `id`. */
  removeEndpoint(id: string): Promise<boolean> {
    return this.webhooks.removeEndpoint(id);
  }
}
