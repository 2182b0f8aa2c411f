import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on `entry`. A compiled `.js` entry runs as is. A `.ts` entry (under tsx and vitest) needs
 * tsx's hooks, which a worker thread on Node 20 gets neither from its parent nor from `--import` in `execArgv`: a
 * small bootstrap registers them through tsx's ESM API in the worker, then imports the entry.
 */
export function startWorker(entry: URL): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry);
  // The package's `require` export of tsx/esm/api is CommonJS; its ESM twin sits beside it.
  const api = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/esm/api')), 'index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true });
}
