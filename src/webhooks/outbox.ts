import { desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type WebhookDeliveryRow, type WebhookEndpointRow, webhookDeliveries, webhookEndpoints } from '../db/schema.js';
import { z } from 'zod';
import { defineJobKind } from '../jobs/job-kind.js';
import type { JobOutbox } from '../jobs/job-outbox.js';
import { createObjectId } from '../upload/ids.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

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
  constructor(
    private readonly db: Db,
    private readonly queue: JobOutbox,
    private readonly configuredUrls: readonly string[],
  ) {}

  endpoints(tx: Pick<Db, 'select'> = this.db): { url: string; events: string[] | null }[] {
    const stored = tx.select().from(webhookEndpoints).all();
    return [...this.configuredUrls.map((url) => ({ url, events: null })), ...stored.map((e) => ({ url: e.url, events: e.events }))];
  }

  /** Queues `event` for every account endpoint that wants its type. @returns how many deliveries were queued. */
  toEndpoints(tx: Tx, event: OutgoingEvent): number {
    const urls = this.endpoints(tx).filter((e) => !e.events || e.events.includes(event.type)).map((e) => e.url);
    for (const url of urls) this.toUrl(tx, url, event);
    return urls.length;
  }

  /** Queues `event` for one URL (a per-request `webhookUrl`). */
  toUrl(tx: Tx, url: string, event: OutgoingEvent): void {
    const id = createObjectId();
    const now = new Date();
    tx.insert(webhookDeliveries)
      .values({ id, eventId: event.id, eventType: event.type, url, body: JSON.stringify(event.body), status: 'pending', attempts: [], createdAt: now, updatedAt: now })
      .run();
    this.queue.enqueue(webhookJob, { deliveryId: id }, { maxAttempts: 1000 }, tx);
  }

  list(limit: number): WebhookDeliveryRow[] {
    return this.db.select().from(webhookDeliveries).orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id)).limit(limit).all();
  }

  storedEndpoints(): WebhookEndpointRow[] {
    return this.db.select().from(webhookEndpoints).all();
  }

  addEndpoint(url: string, events: string[] | null): WebhookEndpointRow {
    return this.db.insert(webhookEndpoints).values({ id: createObjectId(), url, events, createdAt: new Date() }).returning().get();
  }

  removeEndpoint(id: string): boolean {
    return this.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).run().changes > 0;
  }
}
