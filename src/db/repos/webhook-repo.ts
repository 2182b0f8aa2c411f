import { desc, eq } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../client.js';
import type { WebhookAttempt, WebhookDeliveryRow, WebhookEndpointRow, webhookDeliveries } from '../schema.js';
import type { Tables } from '../tables.js';
import type { Transactor } from '../transactor.js';

/** A delivery's row as the outbox writes it. */
export type NewWebhookDelivery = typeof webhookDeliveries.$inferInsert;

/** Where a delivery stands: waiting for (another) attempt, received, or given up on. */
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * The webhook queries that run inside a caller's transaction (the outbox writes in the transaction of the change).
 * Obtained from `WebhookRepo.inTx(tx)`.
 */
export class WebhookTxQueries {
  constructor(
    private readonly tx: DbOrTx,
    private readonly t: Tables,
  ) {}

  /** The endpoints added through the API. */
  async listEndpoints(): Promise<WebhookEndpointRow[]> {
    return await this.tx.select().from(this.t.webhookEndpoints);
  }

  async insertDelivery(delivery: NewWebhookDelivery): Promise<void> {
    await this.tx.insert(this.t.webhookDeliveries).values(delivery);
  }
}

/** Webhook endpoints added through the API and the deliveries of the outbox (`webhook_endpoints`, `webhook_deliveries`). */
export class WebhookRepo {
  private readonly queries: WebhookTxQueries;

  private readonly db: Db;

  private readonly t: Tables;

  /** Reads go to the transactor's reader connection, writes through the transactor. */
  constructor(private readonly transactor: Transactor) {
    this.db = transactor.reader;
    this.t = transactor.tables;
    this.queries = new WebhookTxQueries(this.db, this.t);
  }

  /** The queries for use inside a transaction callback (see {@link WebhookTxQueries}). */
  inTx(tx: Tx): WebhookTxQueries {
    return new WebhookTxQueries(tx, this.t);
  }

  /** The endpoints added through the API. */
  async listEndpoints(): Promise<WebhookEndpointRow[]> {
    return this.queries.listEndpoints();
  }

  async addEndpoint(endpoint: WebhookEndpointRow): Promise<WebhookEndpointRow> {
    const [inserted] = await this.transactor.write((db) => db.insert(this.t.webhookEndpoints).values(endpoint).returning());
    return inserted as WebhookEndpointRow;
  }

  /** @returns false when there was no endpoint with `id`. */
  async removeEndpoint(id: string): Promise<boolean> {
    const removed = await this.transactor.write((db) => db.delete(this.t.webhookEndpoints).where(eq(this.t.webhookEndpoints.id, id)).returning({ id: this.t.webhookEndpoints.id }));
    return removed.length > 0;
  }

  /** The `limit` newest deliveries, newest first (ties by id, descending). */
  async listDeliveries(limit: number): Promise<WebhookDeliveryRow[]> {
    return this.db.select().from(this.t.webhookDeliveries).orderBy(desc(this.t.webhookDeliveries.createdAt), desc(this.t.webhookDeliveries.id)).limit(limit);
  }

  async findDelivery(id: string): Promise<WebhookDeliveryRow | undefined> {
    return (await this.db.select().from(this.t.webhookDeliveries).where(eq(this.t.webhookDeliveries.id, id)).limit(1))[0];
  }

  /**
   * Appends `attempt` to the delivery's attempts and sets its status. Not atomic (read, then write): only the one
   * job that holds the delivery's lease records its attempts.
   */
  async recordAttempt(id: string, attempt: WebhookAttempt, status: WebhookDeliveryStatus, now: Date): Promise<void> {
    await this.transactor.write(async (db) => {
      const [row] = await db.select({ attempts: this.t.webhookDeliveries.attempts }).from(this.t.webhookDeliveries).where(eq(this.t.webhookDeliveries.id, id)).limit(1);
      await db
        .update(this.t.webhookDeliveries)
        .set({ attempts: [...(row?.attempts ?? []), attempt], status, updatedAt: now })
        .where(eq(this.t.webhookDeliveries.id, id));
    });
  }
}
