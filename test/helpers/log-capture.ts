import { createLogger, type Logger, type LogLevel } from '../../src/logger.js';

/** One JSON log line, parsed. */
export type LogRecord = Record<string, unknown> & { level: number; msg: string };

export interface CapturedLogs {
  /** Stowage's logger as configured for production (JSON, redaction, request ids), writing into memory. */
  logger: Logger;
  /** Every line written, as written. */
  lines: string[];
  /** Every line, parsed. */
  records(): LogRecord[];
}

/** A logger whose output a test can read: pass it as `AppOverrides.logger`. */
export function captureLogs(level: LogLevel = 'info'): CapturedLogs {
  const lines: string[] = [];
  const logger = createLogger({ level, format: 'json', isTTY: false, destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as LogRecord) };
}
