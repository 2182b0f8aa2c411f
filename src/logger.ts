import pino, { type DestinationStream } from 'pino';
import pinoPretty from 'pino-pretty';
import { currentRequestId } from './logging/request-context.js';
import { REDACTED } from './logging/redact-url.js';

/** The logger every part of Stowage takes: pino's, so `child` bindings and `{ err }` objects work everywhere. */
export type Logger = pino.Logger;

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

/** `json`: one JSON object per line; `pretty`: readable lines (pino-pretty); `auto`: pretty on a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go. Default: stderr, written synchronously so nothing is lost when the process exits. */
  destination?: DestinationStream;
  /** Whether the destination is a terminal, which `auto` and colours follow. Default: whether stderr is one. */
  isTTY?: boolean;
}

const SECRET_KEYS = ['authorization', 'privateKey', 'privateKeys', 'apiKey', 'secret', 'password', 'signature', 'token'];

/** Credentials never logged, wherever they appear in a logged object (at the top or one level deep). */
export const REDACT_PATHS = ['req.headers.authorization', 'headers.authorization', ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`])];

/** Which format `auto` means for a destination that is (or is not) a terminal. */
export const resolveLogFormat = (format: LogFormat, isTTY: boolean): 'json' | 'pretty' => (format === 'auto' ? (isTTY ? 'pretty' : 'json') : format);

/**
 * Stowage's logger: pino, filtered by `STOWAGE_LOG_LEVEL`, in the `STOWAGE_LOG_FORMAT` format. Secrets are redacted
 * (see {@link REDACT_PATHS}), errors go under `err` with their stack, and every line written while serving a
 * request, or running a job a request caused, carries that `requestId`. Pretty output is formatted in-process (no
 * worker thread), so lines are written before the process exits.
 * @category Logging
 */
export function createLogger(options: LoggerOptions): Logger {
  const isTTY = options.isTTY ?? process.stderr.isTTY === true;
  const pretty = resolveLogFormat(options.format, isTTY) === 'pretty';
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  const stream = pretty ? pinoPretty({ destination, sync: true, colorize: isTTY, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : destination;
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
    },
    stream,
  );
}
