import { describe, expect, it } from 'vitest';
import { judgeTargets } from '../../../bench/targets.js';

const verdicts = (results: Record<string, unknown>) => Object.fromEntries(judgeTargets(results).map((row) => [row.benchmark.slice(0, 3) + (row.benchmark.includes('SSE') ? ' sse' : ''), row.verdict]));

describe('benchmark targets', () => {
  it('says "not run" for every part missing from the results', () => {
    expect(new Set(judgeTargets({}).map((row) => row.verdict))).toEqual(new Set(['not run']));
  });

  it('judges each target from the same run: ratios against their baselines, the fan-out on both limits, the lag p99', () => {
    const results = {
      large: { baseline: { mibPerSec: 200 }, stowage: { mibPerSec: 170 } },
      small: { baselineFsync: { uploadsPerSec: 300 }, stowage: { uploadsPerSec: 150 } },
      delivery: { baseline: 80, cold: 60 },
      fanout: { baselineMs: 30, graphqlWs: { mutationMs: 40 }, sse: { mutationMs: 50 } },
      eventLoop: { load: { p99Ms: 49.9 } },
    };
    expect(verdicts(results)).toEqual({ '(a)': 'MET', '(b)': 'NOT MET', '(g)': 'MET', '(e)': 'MET', '(e) sse': 'NOT MET', '(h)': 'MET' });
  });

  it('fails the fan-out when it is within 1.5x but over 150 ms', () => {
    const rows = judgeTargets({ fanout: { baselineMs: 120, graphqlWs: { mutationMs: 160 }, sse: { mutationMs: 100 } } });
    expect(rows.filter((row) => row.benchmark.startsWith('(e)')).map((row) => row.verdict)).toEqual(['NOT MET', 'MET']);
  });
});
