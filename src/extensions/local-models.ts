import type { AutoTaggingName } from './extension-request.js';
import { createGoogleVisionTagger, type GoogleVisionOptions } from './google-vision-tagger.js';
import { type BackgroundRemover, type ExtensionModels, ExtensionUnavailableError, type ImageTagger } from './extension-models.js';


/**
 * The models that run on this machine: an image tagger (both auto-tagging names use it and keep their own name
 * as the tag `source`) and the background remover (an optional package; absent, remove-bg fails clearly).
 * With a Google Vision API key, google-auto-tagging asks Google instead.
 */
export function createLocalModels(cloud: { googleVision?: GoogleVisionOptions } = {}): ExtensionModels {
  let tagger: Promise<ImageTagger> | undefined;
  let remover: Promise<BackgroundRemover> | undefined;
  const google = cloud.googleVision ? createGoogleVisionTagger(cloud.googleVision) : undefined;
  return {
    tagger: (name: AutoTaggingName) => {
      if (name === 'google-auto-tagging' && google) return Promise.resolve(google);
      // Imported on first use only: the models take seconds and hundreds of MB to load.
      tagger ??= import('./models/auto-tagger.js').then((m) => m.createLocalTagger());
      return tagger;
    },
    remover: () => {
      remover ??= import('./models/background-remover.js')
        .then((m) => m.createLocalBackgroundRemover())
        .catch((error: unknown) => {
          remover = undefined;
          throw new ExtensionUnavailableError(`remove-bg is not available here: ${(error as Error).message}`);
        });
      return remover;
    },
  };
}
