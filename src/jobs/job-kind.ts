import { z } from 'zod';

/** What a job carries, stored as JSON: ids, not data (handlers re-read what they need). */
export type JobPayload = Record<string, unknown>;

/**
 * A kind of job: its name in the queue and the zod schema of its payload. The payload is checked against the schema
 * when the job is enqueued (a bad one is the producer's bug: {@link InvalidJobPayloadError} is thrown there) and
 * again when the runner claims it (a stored payload that does not fit, e.g. one written by an older version, makes
 * the job dead at once, since retrying cannot help). Handlers registered with the kind receive the parsed payload.
 *
 * Define a kind beside the code that enqueues it, and pass the definition (not its name) to `JobOutbox.enqueue`
 * and `JobRunner.register`:
 * ```ts
 * export const webhookJob = defineJobKind('webhook', z.object({ deliveryId: z.string() }));
 * outbox.enqueue(webhookJob, { deliveryId }, {}, tx);
 * runner.register(webhookJob, { concurrency: 4, leaseMs: 60_000, run: (job) => send(job.payload.deliveryId) });
 * ```
 * A kind still named by a bare string is accepted by both too (see {@link toJobKind}); its payload is only checked
 * to be a JSON object. Giving it a schema later is the three lines above: nothing else changes.
 * @category Jobs
 */
export interface JobKind<P extends JobPayload = JobPayload> {
  readonly name: string;
  readonly schema: z.ZodType<P>;
}

/**
 * Defines a kind of job and its payload. The schema should not transform (no defaults, no coercion): the payload
 * stored is the one parsed at enqueue, and it is parsed again at claim.
 * @category Jobs
 */
export function defineJobKind<P extends JobPayload>(name: string, schema: z.ZodType<P>): JobKind<P> {
  return { name, schema };
}

/** The payload type of a kind. */
export type PayloadOf<K> = K extends JobKind<infer P> ? P : never;

/** What a kind named only by a string accepts: any JSON object. */
const ANY_PAYLOAD: z.ZodType<JobPayload> = z.record(z.string(), z.unknown());

/**
 * The kind itself, or for a bare name, a kind whose payload may be any JSON object.
 * @category Jobs
 */
export const toJobKind = <P extends JobPayload>(kind: JobKind<P> | string): JobKind<P> | JobKind =>
  typeof kind === 'string' ? defineJobKind(kind, ANY_PAYLOAD) : kind;

/** Where a payload was found wrong: handed to `enqueue`, or read back from the queue by the runner. */
export type PayloadCheck = 'enqueue' | 'claim';

/**
 * A payload that does not fit its kind's schema. A programming error (or a payload stored by another version), so a
 * plain `Error`, never an `AppError`: it must not reach a client as something they did wrong.
 * @category Jobs
 */
export class InvalidJobPayloadError extends Error {
  override readonly name = 'InvalidJobPayloadError';

  constructor(
    readonly kind: string,
    readonly check: PayloadCheck,
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    const problems = issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(payload)'}: ${issue.message}`).join('; ');
    super(`Invalid payload for job kind "${kind}" at ${check}: ${problems}`);
  }
}

/**
 * Checks `payload` against the kind's schema.
 * @returns the parsed payload
 * @throws {@link InvalidJobPayloadError} naming the kind and each offending field
 * @category Jobs
 */
export function parseJobPayload<P extends JobPayload>(kind: JobKind<P>, payload: unknown, check: PayloadCheck): P {
  const result = kind.schema.safeParse(payload);
  if (!result.success) throw new InvalidJobPayloadError(kind.name, check, result.error.issues);
  return result.data;
}
