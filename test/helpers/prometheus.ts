/** One sample of Prometheus' text exposition format: `name{label="value",…} 12.5`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

const unescape = (value: string) => value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** Parses the text format (comments skipped). Throws on a line that is neither, so malformed output fails tests. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`Not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL_PAIR)) labels[name as string] = unescape(value as string);
    // Prometheus reads special values case-insensitively (prom-client writes an empty histogram's mean as `Nan`).
    const raw = (match[3] as string).toLowerCase();
    const value = raw === '+inf' ? Number.POSITIVE_INFINITY : raw === '-inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`Not a sample value: ${line}`);
    samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

/** A scrape, queried: the samples of a metric whose labels include `labels`. */
export class Scrape {
  constructor(readonly samples: Sample[]) {}

  static parse(text: string): Scrape {
    return new Scrape(parsePrometheusText(text));
  }

  series(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The one sample matching; `undefined` when there is none. Throws when several match (the test is too vague). */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.series(name, labels);
    if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
    return found[0]?.value;
  }
}
