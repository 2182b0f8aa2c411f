import { REDACTED } from './redact-url.js';

/** What a connection failure says when the configured URL does not parse. */
export const NOT_A_URL = 'the configured URL (not a valid URL)';

/** `scheme://user@host:port` of a server URL (`defaultPort` when it names none), never its password. @throws TypeError when `url` does not parse */
export function serverAddress(url: string, defaultPort: string): string {
  const u = new URL(url);
  const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
  return `${u.protocol}//${user}${u.hostname}:${u.port || defaultPort}`;
}

/** An error's own message, or its code or name when it has none (Node's network errors sometimes do not). */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message || (error as NodeJS.ErrnoException).code || error.name;
}

/** `messages` as one line (repeats dropped), with the password of `url` removed should a driver ever repeat it. */
export function oneLineReason(messages: readonly string[], url: string): string {
  let reason = [...new Set(messages)].join('; ').replace(/\s+/g, ' ').trim() || 'unknown error';
  for (const secret of passwordsIn(url)) reason = reason.split(secret).join(REDACTED);
  return reason;
}

function passwordsIn(url: string): string[] {
  try {
    const { password } = new URL(url);
    return password ? [...new Set([password, decodeURIComponent(password)])] : [];
  } catch {
    return [];
  }
}
