import type { AutoTaggingName } from './extension-request.js';
import { type AwsRekognitionOptions, createAwsRekognitionTagger } from './aws-rekognition-tagger.js';
import { createGoogleVisionTagger, type GoogleVisionOptions } from './google-vision-tagger.js';
import { type ExtensionModels, ExtensionUnavailableError } from './extension-models.js';
import type { ModelHosts } from './model-hosts.js';

/**
 * The models that run on this machine, in `local`'s processes: an image tagger (both auto-tagging names use it and
 * keep their own name as the tag `source`) and the background remover (an optional package; absent, remove-bg
 * fails clearly). With a Google Vision API key, google-auto-tagging asks Google instead; with an AWS region,
 * aws-auto-tagging asks Amazon Rekognition.
 */
export function createLocalModels(local: ModelHosts, cloud: { googleVision?: GoogleVisionOptions; awsRekognition?: AwsRekognitionOptions } = {}): ExtensionModels {
  const google = cloud.googleVision ? createGoogleVisionTagger(cloud.googleVision) : undefined;
  const aws = cloud.awsRekognition ? createAwsRekognitionTagger(cloud.awsRekognition) : undefined;
  return {
    tagger: async (name: AutoTaggingName) => {
      if (name === 'google-auto-tagging' && google) return google;
      if (name === 'aws-auto-tagging' && aws) return aws;
      return local.tagger;
    },
    remover: async () => {
      try {
        return local.remover();
      } catch (error) {
        throw new ExtensionUnavailableError(`remove-bg is not available here: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}
