import { createRequire } from 'node:module';
import type { FaceFinder } from '../transform/face-finder.js';
import type { BackgroundRemover, ImageTagger } from './extension-models.js';
import { BACKGROUND_REMOVAL_PACKAGE } from './models/background-remover.js';
import { BackgroundRemovalUnavailableError } from './models/errors.js';
import { ModelProcess } from './models/model-process.js';
import { asBuffer } from './models/model-protocol.js';

/** The local models, each run in a child process so inference never blocks the server's event loop. */
export interface ModelHosts {
  tagger: ImageTagger;
  /** @throws BackgroundRemovalUnavailableError (at once, without starting a process) when the optional package is absent. */
  remover(): BackgroundRemover;
  findFaces: FaceFinder;
  /** Stops the processes. */
  close(): Promise<void>;
}

function assertRemoverInstalled(): void {
  try {
    createRequire(import.meta.url).resolve(BACKGROUND_REMOVAL_PACKAGE);
  } catch (error) {
    throw new BackgroundRemovalUnavailableError(`the optional package ${BACKGROUND_REMOVAL_PACKAGE} is not installed`, { cause: error });
  }
}

/**
 * Two processes, started on first use: one for the TensorFlow.js models (auto-tagging and face detection, small
 * and quick), one for background removal (onnxruntime, about 1 GB and seconds a picture), so a long cut-out never
 * holds up tagging or `fo-face`.
 */
export function createModelHosts(): ModelHosts {
  // Within the jobs' leases (2 and 5 minutes), with room for a cold start on a busy machine.
  const tfjs = new ModelProcess({ name: 'tagging and face detection', timeoutMs: 90_000 });
  const onnx = new ModelProcess({ name: 'background removal', timeoutMs: 240_000 });
  return {
    tagger: { tag: (image, limits) => tfjs.run({ kind: 'tag', image, limits }) },
    remover: () => {
      assertRemoverInstalled();
      return { removeBackground: async (image, options) => asBuffer(await onnx.run({ kind: 'remove-bg', image, options })) };
    },
    findFaces: (image) => tfjs.run({ kind: 'faces', image }),
    close: async () => {
      await Promise.all([tfjs.close(), onnx.close()]);
    },
  };
}
