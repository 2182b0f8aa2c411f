/**
 * The one error model of Stowage: every expected failure is an AppError with a stable machine-readable
 * `code`, an ImageKit-equivalent HTTP `status`, and, where one parameter is at fault, its name.
 * The GraphQL layer turns these into errors with `extensions`; anything else is masked.
 */
export const ERROR_CODES = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  CROSS_ORIGIN_REQUEST_REFUSED: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  QUERY_TOO_COMPLEX: 400,
  BAD_REQUEST: 400,
  FILE_TOO_LARGE: 400,
  FILE_TYPE_NOT_ALLOWED: 400,
  FILE_DOWNLOAD_FAILED: 400,
  FILE_ALREADY_EXISTS: 400,
  VERSION_LIMIT_REACHED: 400,
  NOT_FOUND: 404,
  FOLDER_NOT_EMPTY: 400,
  PAYLOAD_TOO_LARGE: 413,
  TRANSFORMATION_TIMEOUT: 503,
  TOO_MANY_TRANSFORMATIONS: 503,
  SHUTTING_DOWN: 503,
  INTERNAL_SERVER_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface AppErrorOptions {
  /** The request parameter at fault, named as the API names it (e.g. `fileName`). */
  parameter?: string;
  /** Extra machine-readable facts (e.g. `{ limitBytes }`). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly parameter: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_CODES[code];
    this.parameter = options.parameter;
    this.details = options.details;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** The `help` string of an error body (ImageKit's clients expect one): where Stowage documents the code. */
export const helpFor = (code: ErrorCode) => `${code}: see "Errors" in Stowage's README (README.md#errors).`;

export const badRequest = (parameter: string, message: string, details?: Record<string, unknown>) =>
  new AppError('BAD_REQUEST', message, { parameter, details });

export const fileTooLarge = (limitBytes: number) =>
  new AppError(
    'FILE_TOO_LARGE',
    `Your request contains invalid file parameter. The file size exceeds ${limitBytes} bytes limit.`,
    { parameter: 'file', details: { limitBytes } },
  );

export const fileNotFound = () =>
  new AppError('NOT_FOUND', 'The requested file does not exist.', { parameter: 'fileId' });

export const versionNotFound = () =>
  new AppError('NOT_FOUND', 'The requested file version does not exist.', { parameter: 'versionId' });
