import type { AutoTaggingName } from './extension-request.js';
import { type AwsRekognitionOptions, createAwsRekognitionTagger } from './aws-rekognition-tagger.js';
import { createGoogleVisionTagger, type GoogleVisionOptions } from './google-vision-tagger.js';
import { type BackgroundRemover, type ExtensionModels, ExtensionUnavailableError, type ImageTagger } from './extension-models.js';


/**
 * The models that run on this machine: an image tagger (both auto-tagging names use it and keep their own name
 * as the tag `source`) and the background remover (an optional package; absent, remove-bg fails clearly).
 * With a Google Vision API key, google-auto-tagging asks Google instead; with an AWS region, aws-auto-tagging asks
 * Amazon Rekognition.
 */
export function createLocalModels(cloud: { googleVision?: GoogleVisionOptions; awsRekognition?: AwsRekognitionOptions } = {}): ExtensionModels {
  let tagger: Promise<ImageTagger> | undefined;
  let remover: Promise<BackgroundRemover> | undefined;
  const google = cloud.googleVision ? createGoogleVisionTagger(cloud.googleVision) : undefined;
  const aws = cloud.awsRekognition ? createAwsRekognitionTagger(cloud.awsRekognition) : undefined;
  return {
    tagger: (name: AutoTaggingName) => {
      if (name === 'google-auto-tagging' && google) return Promise.resolve(google);
      if (name === 'aws-auto-tagging' && aws) return Promise.resolve(aws);
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
