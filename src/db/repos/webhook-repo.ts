import { desc, eq } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../client.js';
import type { Transactor } from '../transactor.js';
import { type WebhookAttempt, type WebhookDeliveryRow, type WebhookEndpointRow, webhookDeliveries, webhookEndpoints } from '../schema.js';

/** A delivery's row as the outbox writes it. */
export type NewWebhookDelivery = typeof webhookDeliveries.$inferInsert;

/** Where a delivery stands: waiting for (another) attempt, received, or given up on. */
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * The webhook queries that run inside a caller's transaction (the outbox writes in the transaction of the change).
 * Obtained from `WebhookRepo.inTx(tx)`.
 */
export class WebhookTxQueries {
  constructor(private readonly tx: DbOrTx) {}

  /** The endpoints added through the API. */
  async listEndpoints(): Promise<WebhookEndpointRow[]> {
    return await this.tx.select().from(webhookEndpoints);
  }

  async insertDelivery(delivery: NewWebhookDelivery): Promise<void> {
    await this.tx.insert(webhookDeliveries).values(delivery);
  }
}

/** Webhook endpoints added through the API and the deliveries of the outbox (`webhook_endpoints`, `webhook_deliveries`). */
export class WebhookRepo {
  private readonly queries: WebhookTxQueries;

  private readonly db: Db;

  /** Reads go to the transactor's reader connection, writes through the transactor. */
  constructor(private readonly transactor: Transactor) {
    this.db = transactor.reader;
    this.queries = new WebhookTxQueries(this.db);
  }

  /** The queries for use inside a transaction callback (see {@link WebhookTxQueries}). */
  inTx(tx: Tx): WebhookTxQueries {
    return new WebhookTxQueries(tx);
  }

  /** The endpoints added through the API. */
  async listEndpoints(): Promise<WebhookEndpointRow[]> {
    return this.queries.listEndpoints();
  }

  async addEndpoint(endpoint: WebhookEndpointRow): Promise<WebhookEndpointRow> {
    return this.transactor.write((db) => db.insert(webhookEndpoints).values(endpoint).returning().get());
  }

  /** @returns false when there was no endpoint with `id`. */
  async removeEndpoint(id: string): Promise<boolean> {
    return this.transactor.write((db) => db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).run().changes > 0);
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
    await this.transactor.write((db) => {
      const row = db.select({ attempts: webhookDeliveries.attempts }).from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).get();
      db.update(webhookDeliveries)
        .set({ attempts: [...(row?.attempts ?? []), attempt], status, updatedAt: now })
        .where(eq(webhookDeliveries.id, id))
        .run();
    });
  }
}
