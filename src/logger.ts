import type { Config } from './config.js';

export interface Logger {
  error(message: string, error?: unknown): void;
  info(message: string): void;
  debug(message: string): void;
}

const RANK = { silent: 0, error: 1, info: 2, debug: 3 } as const;

/** Plain lines on stderr, filtered by `STOWAGE_LOG_LEVEL`. */
export function createLogger(level: Config['logLevel']): Logger {
  const at = RANK[level];
  const line = (tag: string, message: string) => process.stderr.write(`${new Date().toISOString()} ${tag} ${message}\n`);
  return {
    error: (message, error) => {
      if (at >= RANK.error) line('ERROR', error ? `${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` : message);
    },
    info: (message) => {
      if (at >= RANK.info) line('INFO', message);
    },
    debug: (message) => {
      if (at >= RANK.debug) line('DEBUG', message);
    },
  };
}
