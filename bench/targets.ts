/**
 * The performance targets (issue 15 and the upload targets before it), judged from one run's results: each row
 * says what was measured against what, the target, and MET or NOT MET (or "not run" when its part was skipped).
 */

export interface TargetRow {
  benchmark: string;
  measured: string;
  target: string;
  verdict: 'MET' | 'NOT MET' | 'not run';
}

type Results = Record<string, unknown>;

/** `results[path...]` as a number, or undefined when any step is missing. */
function numberAt(results: Results, ...path: string[]): number | undefined {
  let value: unknown = results;
  for (const key of path) value = value && typeof value === 'object' ? (value as Results)[key] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

const fixed = (n: number, digits = 2) => n.toFixed(digits);
const verdict = (ok: boolean): TargetRow['verdict'] => (ok ? 'MET' : 'NOT MET');

function ratioRow(benchmark: string, target: string, subject: number | undefined, baseline: number | undefined, unit: string, ok: (ratio: number) => boolean): TargetRow {
  if (subject === undefined || baseline === undefined || baseline <= 0) return { benchmark, measured: '', target, verdict: 'not run' };
  const ratio = subject / baseline;
  return { benchmark, measured: `${fixed(ratio)}x (${fixed(subject, 1)} vs ${fixed(baseline, 1)} ${unit})`, target, verdict: verdict(ok(ratio)) };
}

function fanoutRow(results: Results, transport: 'graphqlWs' | 'sse', label: string): TargetRow {
  const benchmark = `(e) one event to 1,000 subscribers, ${label}, ms until all have it`;
  const target = '<= 150 ms and <= 1.5x a bare ws broadcast';
  const ms = numberAt(results, 'fanout', transport, 'mutationMs');
  const base = numberAt(results, 'fanout', 'baselineMs');
  if (ms === undefined || base === undefined) return { benchmark, measured: '', target, verdict: 'not run' };
  return { benchmark, measured: `${fixed(ms, 1)} ms, ${fixed(ms / base)}x (bare broadcast ${fixed(base, 1)} ms)`, target, verdict: verdict(ms <= 150 && ms / base <= 1.5) };
}

export function judgeTargets(results: Results): TargetRow[] {
  const lagP99 = numberAt(results, 'eventLoop', 'load', 'p99Ms');
  return [
    ratioRow('(a) 300 MiB multipart upload, MiB/s vs busboy → disk', '>= 0.8x', numberAt(results, 'large', 'stowage', 'mibPerSec'), numberAt(results, 'large', 'baseline', 'mibPerSec'), 'MiB/s', (r) => r >= 0.8),
    ratioRow('(b) 100 KB JPEG uploads/s @8 vs busboy that hashes and fsyncs (SQLite)', '>= 0.7x', numberAt(results, 'small', 'stowage', 'uploadsPerSec'), numberAt(results, 'small', 'baselineFsync', 'uploadsPerSec'), 'uploads/s', (r) => r >= 0.7),
    ratioRow('(g) 2000x1333 JPEG → w-500 cold, requests/s vs sharp alone', '>= 0.7x', numberAt(results, 'delivery', 'cold'), numberAt(results, 'delivery', 'baseline'), 'requests/s', (r) => r >= 0.7),
    fanoutRow(results, 'graphqlWs', 'graphql-ws'),
    fanoutRow(results, 'sse', 'SSE'),
    lagP99 === undefined
      ? { benchmark: '(h) event-loop lag p99 while models, renders and analysis run', measured: '', target: '< 50 ms', verdict: 'not run' }
      : { benchmark: '(h) event-loop lag p99 while models, renders and analysis run', measured: `${fixed(lagP99, 1)} ms`, target: '< 50 ms', verdict: verdict(lagP99 < 50) },
  ];
}

export function targetsTable(rows: TargetRow[]): string {
  return ['| benchmark | measured | target | verdict |', '|---|---|---|---|', ...rows.map((r) => `| ${r.benchmark} | ${r.measured || '—'} | ${r.target} | ${r.verdict} |`)].join('\n');
}
