import { DetectLabelsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import type { ImageTagger, Tag } from './extension-models.js';

export interface AwsRekognitionOptions {
  region: string;
  /** For a Rekognition-compatible endpoint (or a test stand-in); default AWS's. */
  endpoint?: string;
}

/**
 * aws-auto-tagging through Amazon Rekognition's DetectLabels, for deployments that set
 * `STOWAGE_AWS_REKOGNITION_REGION`. Credentials come from the AWS SDK's usual chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a profile, or an instance role).
 */
export function createAwsRekognitionTagger(options: AwsRekognitionOptions): ImageTagger {
  const client = new RekognitionClient({ region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}), maxAttempts: 2 });
  return {
    async tag(image, { maxTags, minConfidence }): Promise<Tag[]> {
      const result = await client.send(new DetectLabelsCommand({ Image: { Bytes: image }, MaxLabels: Math.max(maxTags, 1), MinConfidence: minConfidence }));
      return (result.Labels ?? [])
        .map((l) => ({ name: l.Name ?? '', confidence: Math.round((l.Confidence ?? 0) * 100) / 100 }))
        .filter((t) => t.name && t.confidence >= minConfidence)
        .sort((a, b) => b.confidence - a.confidence)
        .slice(0, maxTags);
    },
  };
}
