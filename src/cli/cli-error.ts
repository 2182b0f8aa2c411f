/** Why a failure may go away when the same request is sent again. */
export type Transience = 'transient' | 'permanent';

export interface CliErrorOptions {
  /** The server's error code (`FORBIDDEN`, `FILE_TOO_LARGE`…) or a client-side one (`UNREACHABLE`, `HTTP_503`). */
  code?: string;
  /** The HTTP status the server answered with, when it answered. */
  status?: number;
  transience?: Transience;
  cause?: unknown;
}

/**
 * Every failure the CLI reports: one line, `CODE: message`, where the code is the server's own
 * (`extensions.code`) or, for failures before any answer, the CLI's (`UNREACHABLE`).
 */
export class CliError extends Error {
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly transience: Transience;

  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'CliError';
    this.code = options.code;
    this.status = options.status;
    this.transience = options.transience ?? 'permanent';
  }

  /** `FORBIDDEN: Your account cannot be authenticated.` */
  get line(): string {
    return this.code ? `${this.code}: ${this.message}` : this.message;
  }
}

/** One line for any failure; an unexpected exception keeps its own message. */
export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.line;
  return error instanceof Error ? error.message : String(error);
}

export const isTransient = (error: unknown): boolean => error instanceof CliError && error.transience === 'transient';

/** Failures that every further request would meet too (no server, a wrong key): no point going on. */
const FAILS_EVERY_REQUEST = new Set(['UNREACHABLE', 'FORBIDDEN', 'UNAUTHENTICATED']);

export const failsEveryRequest = (error: unknown): boolean => error instanceof CliError && error.code !== undefined && FAILS_EVERY_REQUEST.has(error.code);
