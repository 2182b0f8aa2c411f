import { desc, eq } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../client.js';
import { type WebhookAttempt, type WebhookDeliveryRow, type WebhookEndpointRow, webhookDeliveries, webhookEndpoints } from '../schema.js';

/** A delivery's row as the outbox writes it. */
export type NewWebhookDelivery = typeof webhookDeliveries.$inferInsert;

/** Where a delivery stands: waiting for (another) attempt, received, or given up on. */
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * The webhook queries that run inside a synchronous better-sqlite3 transaction callback (the outbox writes in the
 * caller's transaction), which cannot await. Obtained from `WebhookRepo.inTx(tx)`; they become async methods taking
 * the transaction when transactions do.
 */
export class WebhookTxQueries {
  constructor(private readonly tx: DbOrTx) {}

  /** The endpoints added through the API. */
  listEndpoints(): WebhookEndpointRow[] {
    return this.tx.select().from(webhookEndpoints).all();
  }

  insertDelivery(delivery: NewWebhookDelivery): void {
    this.tx.insert(webhookDeliveries).values(delivery).run();
  }
}

/** Webhook endpoints added through the API and the deliveries of the outbox (`webhook_endpoints`, `webhook_deliveries`). */
export class WebhookRepo {
  private readonly queries: WebhookTxQueries;

  constructor(private readonly db: Db) {
    this.queries = new WebhookTxQueries(db);
  }

  /** The synchronous queries, for use inside a transaction callback (see {@link WebhookTxQueries}). */
  inTx(tx: Tx): WebhookTxQueries {
    return new WebhookTxQueries(tx);
  }

  /** The endpoints added through the API. */
  async listEndpoints(): Promise<WebhookEndpointRow[]> {
    return this.queries.listEndpoints();
  }

  async addEndpoint(endpoint: WebhookEndpointRow): Promise<WebhookEndpointRow> {
    return this.db.insert(webhookEndpoints).values(endpoint).returning().get();
  }

  /** @returns false when there was no endpoint with `id`. */
  async removeEndpoint(id: string): Promise<boolean> {
    return this.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).run().changes > 0;
  }

  /** The `limit` newest deliveries, newest first (ties by id, descending). */
  async listDeliveries(limit: number): Promise<WebhookDeliveryRow[]> {
    return this.db.select().from(webhookDeliveries).orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id)).limit(limit).all();
  }

  async findDelivery(id: string): Promise<WebhookDeliveryRow | undefined> {
    return this.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).get();
  }

  /**
   * Appends `attempt` to the delivery's attempts and sets its status. Not atomic (read, then write): only the one
   * job that holds the delivery's lease records its attempts.
   */
  async recordAttempt(id: string, attempt: WebhookAttempt, status: WebhookDeliveryStatus, now: Date): Promise<void> {
    const row = this.db.select({ attempts: webhookDeliveries.attempts }).from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).get();
    this.db
      .update(webhookDeliveries)
      .set({ attempts: [...(row?.attempts ?? []), attempt], status, updatedAt: now })
      .where(eq(webhookDeliveries.id, id))
      .run();
  }
}
