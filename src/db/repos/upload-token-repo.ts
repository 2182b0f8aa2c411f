import { lt } from 'drizzle-orm';
import type { Clock } from '../../clock.js';
import { isUniqueViolation } from '../errors.js';
import type { Tables } from '../tables.js';
import type { Transactor } from '../transactor.js';

/** How often, at most, used tokens whose `expire` has passed are deleted (on the next use of a token). */
const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * The tokens of client-side uploads already used (`upload_tokens`), kept in the database so that a token is
 * refused the second time on every instance sharing it.
 */
export class UploadTokenRepo {
  private readonly table: Tables['uploadTokens'];

  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly transactor: Transactor,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly onSweepError: (error: unknown) => void = () => {},
  ) {
    this.table = transactor.tables.uploadTokens;
  }

  /**
   * Records `token` as used until `expiresAtMs`. True when it was new; false when it had been used already (its row
   * is there: the primary key refuses a second insert, on every instance at once).
   */
  async use(token: string, expiresAtMs: number): Promise<boolean> {
    this.sweepNowAndThen();
    try {
      await this.transactor.write((db) => db.insert(this.table).values({ token, expiresAt: expiresAtMs }));
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** Deletes the tokens whose `expire` has passed; returns how many. */
  async deleteExpired(): Promise<number> {
    const now = this.clock.now();
    const deleted = await this.transactor.write((db) => db.delete(this.table).where(lt(this.table.expiresAt, now)).returning({ token: this.table.token }));
    return deleted.length;
  }

  /** Starts a sweep when the last one is old enough; it runs beside the caller's insert and never fails it. */
  private sweepNowAndThen(): void {
    const now = this.clock.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    this.deleteExpired().catch(this.onSweepError);
  }
}
