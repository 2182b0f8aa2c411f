/**
 * The client of (h), run in a worker thread so that sending megabytes of uploads and reading responses happens on a
 * loop of its own, not on the server's event loop being measured (a `WorkerPool` of one runs it). Told
 * `{ kind: 'upload' }` it uploads one file; given a plan, `{ kind: 'load' }` drives the whole load and answers with
 * the extensions' final statuses and how long each kind of work took.
 */
import { serveWorkerTasks } from '../src/workers/serve-worker-tasks.js';

export interface LoadPlan {
  url: string;
  auth: string;
  photos: Uint8Array[];
  /** Widths of the cold `/tr:w-N/source.jpg` requests. */
  widths: number[];
  clip?: Uint8Array;
  modelPhoto: Uint8Array;
  /** GraphQL `extensions` arguments: each is one upload of `modelPhoto`, awaited until no extension is pending. */
  extensionUploads: string[];
  extensionsTimeoutMs: number;
}

export type ClientRequest =
  | { kind: 'upload'; url: string; auth: string; bytes: Uint8Array; fileName: string }
  /** Hands over the plan (megabytes of photos) before the measurement starts. */
  | { kind: 'prepare'; plan: LoadPlan }
  | { kind: 'load' };

let prepared: LoadPlan | undefined;

async function upload(url: string, auth: string, bytes: Uint8Array, fileName: string, extensions?: string): Promise<string> {
  const form = new FormData();
  const ext = extensions ? `, extensions: ${extensions}` : '';
  form.set('operations', JSON.stringify({ query: `mutation($f: Upload!) { uploadFile(file: $f, fileName: "${fileName}", useUniqueFileName: false${ext}) { fileId } }`, variables: { f: null } }));
  form.set('map', JSON.stringify({ 0: ['variables.f'] }));
  form.set('0', new Blob([bytes as Uint8Array<ArrayBuffer>]), fileName);
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { authorization: auth }, body: form });
  const json = (await res.json()) as { data?: { uploadFile?: { fileId: string } }; errors?: unknown };
  const fileId = json.data?.uploadFile?.fileId;
  if (!fileId) throw new Error(`upload of ${fileName} failed: ${JSON.stringify(json.errors)}`);
  return fileId;
}

async function settledStatuses(plan: LoadPlan, fileId: string): Promise<Record<string, string>> {
  const deadline = performance.now() + plan.extensionsTimeoutMs;
  for (;;) {
    const res = await fetch(`${plan.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: plan.auth },
      body: JSON.stringify({ query: 'query($id: ID!) { file(fileId: $id) { extensionStatus } }', variables: { id: fileId } }),
    });
    const json = (await res.json()) as { data?: { file: { extensionStatus: Record<string, string> } }; errors?: unknown };
    const status = json.data?.file.extensionStatus;
    if (!status) throw new Error(`status of ${fileId}: ${JSON.stringify(json.errors)}`);
    if (Object.values(status).every((s) => s !== 'pending')) return status;
    if (performance.now() > deadline) throw new Error(`extensions still pending after ${plan.extensionsTimeoutMs} ms: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const at = next++;
        await work(items[at] as T, at);
      }
    }),
  );
}

/** What a load run reports: the extensions' final statuses, and how long each kind of work took, in seconds. */
export interface LoadOutcome {
  statuses: Record<string, string>;
  seconds: { photos: number; renders: number; video: number; extensions: number };
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
}

async function drive(plan: LoadPlan): Promise<LoadOutcome> {
  const { url, auth } = plan;
  const [[, photos], [, renders], [, video], [statuses, extensions]] = await Promise.all([
    timed(() => inParallel(plan.photos, 2, (bytes, i) => upload(url, auth, bytes, `photo-${i}.jpg`))),
    timed(() =>
      inParallel(plan.widths, 4, async (w) => {
        const res = await fetch(`${url}/tr:w-${w}/source.jpg`, { headers: { accept: 'image/jpeg' } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`w-${w}: ${res.status}`);
      }),
    ),
    timed(async () => (plan.clip ? upload(url, auth, plan.clip, 'clip.mp4') : undefined)),
    timed(async () => {
      const each = await Promise.all(plan.extensionUploads.map((extensions, i) => upload(url, auth, plan.modelPhoto, `extensions-${i}.jpg`, extensions).then((id) => settledStatuses(plan, id))));
      return Object.assign({}, ...each) as Record<string, string>;
    }),
  ]);
  return { statuses, seconds: { photos, renders, video, extensions } };
}

serveWorkerTasks(async (request: ClientRequest): Promise<LoadOutcome | undefined> => {
  if (request.kind === 'prepare') prepared = request.plan;
  else if (request.kind === 'upload') await upload(request.url, request.auth, request.bytes, request.fileName);
  else if (prepared) return drive(prepared);
  else throw new Error('load before prepare');
  return undefined;
});
