/**
 * The entry of a model process (see model-process.ts): loads each model on its first request, keeps it for the
 * next ones, and answers every request with a result or a serialized error. Runs nothing at import time but
 * listening, so the main thread never pays for the models.
 */
import type { FaceFinder } from '../../transform/face-finder.js';
import type { BackgroundRemover } from './background-remover.js';
import type { ImageTagger } from './auto-tagger.js';
import { asBuffer, type ModelAnswers, type ModelRequest, type ModelResponse, type ModelTask, serializeError } from './model-protocol.js';

/** Memoises a loader; a failed load is retried by the next call. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
}

const tagger = once<ImageTagger>(async () => (await import('./auto-tagger.js')).createLocalTagger());
const remover = once<BackgroundRemover>(async () => (await import('./background-remover.js')).createLocalBackgroundRemover());
const faceFinder = once<FaceFinder>(async () => (await import('../../transform/face-finder.js')).createFaceFinder());

async function perform(task: ModelTask): Promise<ModelAnswers[ModelTask['kind']]> {
  switch (task.kind) {
    case 'tag':
      return (await tagger()).tag(asBuffer(task.image), task.limits);
    case 'remove-bg': {
      const { bgImage } = task.options;
      const options = { ...task.options, bgImage: bgImage ? asBuffer(bgImage) : bgImage };
      return (await remover()).removeBackground(asBuffer(task.image), options);
    }
    case 'faces':
      return (await faceFinder())(asBuffer(task.image));
  }
}

const send = (response: ModelResponse) => process.send?.(response);

process.on('message', (request: ModelRequest) => {
  perform(request.task).then(
    (result) => send({ id: request.id, result }),
    (error: unknown) => send({ id: request.id, error: serializeError(error) }),
  );
});
// The server is gone (it crashed, or was killed): nothing will ask for work any more.
process.on('disconnect', () => process.exit(0));
