import type { AutoTaggingName } from './extension-request.js';
import { type BackgroundRemover, type ExtensionModels, ExtensionUnavailableError, type ImageTagger } from './extension-models.js';

// Loaded on first use only: the models take seconds and hundreds of MB to load.
const TAGGER_MODULE = './models/auto-tagger.js';
const REMOVER_MODULE = './models/background-remover.js';

/**
 * The models that run on this machine: an image tagger (both auto-tagging names use it and keep their own name
 * as the tag `source`) and the background remover (an optional package; absent, remove-bg fails clearly).
 */
export function createLocalModels(): ExtensionModels {
  let tagger: Promise<ImageTagger> | undefined;
  let remover: Promise<BackgroundRemover> | undefined;
  return {
    tagger: (_name: AutoTaggingName) => {
      tagger ??= import(TAGGER_MODULE).then((m: { createLocalTagger: () => ImageTagger }) => m.createLocalTagger());
      return tagger;
    },
    remover: () => {
      remover ??= import(REMOVER_MODULE)
        .then((m: { createLocalBackgroundRemover: () => Promise<BackgroundRemover> | BackgroundRemover }) => m.createLocalBackgroundRemover())
        .catch((error: unknown) => {
          remover = undefined;
          throw new ExtensionUnavailableError(`remove-bg is not available here: ${(error as Error).message}`);
        });
      return remover;
    },
  };
}
