import path from 'node:path';

/** The committed reference figures: written only on purpose, with `npm run bench -- --save-reference`. */
export const REFERENCE_RESULTS = 'results.json';
/** Where an ordinary run writes its figures: git-ignored, so running the benchmark never dirties the work tree. */
export const LOCAL_RESULTS = 'results.local.json';

/** The file a bench run writes its results to, given its command-line arguments. */
export const resultsFile = (benchDir: string, argv: readonly string[]): string =>
  path.join(benchDir, argv.includes('--save-reference') ? REFERENCE_RESULTS : LOCAL_RESULTS);
