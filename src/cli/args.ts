import { InvalidArgumentError } from 'commander';
import { CliError } from './cli-error.js';
import type { Connection } from './client.js';

export const DEFAULT_URL = 'http://localhost:3000';

/** The options every command takes. */
export interface GlobalOptions {
  url?: string;
  key?: string;
}

/**
 * The server and key, from the flags or else the environment (`STOWAGE_URL`, `STOWAGE_PRIVATE_KEY`; of a
 * comma-separated key list, as the server accepts, the first key is used).
 * @throws CliError when no key is given either way.
 */
export function resolveConnection(options: GlobalOptions, env: NodeJS.ProcessEnv): Connection {
  const url = options.url ?? (env.STOWAGE_URL?.trim() || DEFAULT_URL);
  const key = options.key ?? env.STOWAGE_PRIVATE_KEY?.split(',').map((k) => k.trim()).find(Boolean);
  if (!key) throw new CliError('no private key: pass --key <key> or set STOWAGE_PRIVATE_KEY (the server prints its key on first start).');
  return { url, key };
}

/** A commander option parser for whole numbers from `min` to `max`. */
export const integerIn =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    return n;
  };

/** `a, b,,c` → [`a`, `b`, `c`]. */
export function parseTags(value: string): string[] {
  const tags = value.split(',').map((tag) => tag.trim()).filter(Boolean);
  if (tags.length === 0) throw new InvalidArgumentError('expected comma-separated tags, e.g. "summer,beach".');
  return tags;
}
