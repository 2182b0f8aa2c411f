import got from 'got';
import type { ImageTagger, Tag } from './extension-models.js';

export interface GoogleVisionOptions {
  apiKey: string;
  /** Default `https://vision.googleapis.com`. */
  endpoint?: string;
  timeoutMs?: number;
}

interface AnnotateResponse {
  responses?: { labelAnnotations?: { description: string; score: number }[]; error?: { message: string } }[];
}

/**
 * google-auto-tagging through Google Cloud Vision's label detection (REST `images:annotate` with an API key),
 * for deployments that configure `STOWAGE_GOOGLE_VISION_API_KEY`.
 */
export function createGoogleVisionTagger(options: GoogleVisionOptions): ImageTagger {
  const endpoint = (options.endpoint ?? 'https://vision.googleapis.com').replace(/\/+$/, '');
  return {
    async tag(image, { maxTags, minConfidence }): Promise<Tag[]> {
      const response = await got
        .post(`${endpoint}/v1/images:annotate`, {
          searchParams: { key: options.apiKey },
          json: { requests: [{ image: { content: image.toString('base64') }, features: [{ type: 'LABEL_DETECTION', maxResults: Math.max(maxTags, 1) }] }] },
          timeout: { request: options.timeoutMs ?? 20_000 },
          retry: { limit: 1 },
        })
        .json<AnnotateResponse>();
      const result = response.responses?.[0];
      if (result?.error) throw new Error(`Google Vision: ${result.error.message}`);
      return (result?.labelAnnotations ?? [])
        .map((l) => ({ name: l.description, confidence: Math.round(l.score * 10000) / 100 }))
        .filter((t) => t.confidence >= minConfidence)
        .sort((a, b) => b.confidence - a.confidence)
        .slice(0, maxTags);
    },
  };
}
