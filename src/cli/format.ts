const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** Bytes for people, in powers of 1000 as file managers show them: `123 B`, `12.3 MB`, `1.5 GB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A transfer rate: `2.1 MB/s`. */
export const formatRate = (bytesPerSecond: number): string => `${formatBytes(Math.max(0, bytesPerSecond))}/s`;

/** A duration for people: `850ms`, `4.2s`, `3m 05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
}
