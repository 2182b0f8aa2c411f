import { describe, expect, it } from 'vitest';
import { createGoogleVisionTagger } from '../../../src/extensions/google-vision-tagger.js';
import { startOriginServer } from '../../helpers/origin-server.js';

describe('Google Vision tagger', () => {
  it('sends label detection with the key and maps scores to ImageKit confidences', async () => {
    let request: { url?: string; body?: any } = {};
    const google = await startOriginServer({
      '/v1/images:annotate': (req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          request = { url: req.url, body: JSON.parse(body) };
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({ responses: [{ labelAnnotations: [{ description: 'Dog', score: 0.9712 }, { description: 'Grass', score: 0.61 }, { description: 'Pet', score: 0.33 }] }] }),
          );
        });
      },
    });
    try {
      const tagger = createGoogleVisionTagger({ apiKey: 'k123', endpoint: google.url });
      const tags = await tagger.tag(Buffer.from('image-bytes'), { maxTags: 2, minConfidence: 50 });
      expect(tags).toEqual([
        { name: 'Dog', confidence: 97.12 },
        { name: 'Grass', confidence: 61 },
      ]);
      expect(request.url).toBe('/v1/images:annotate?key=k123');
      expect(request.body.requests[0]).toEqual({ image: { content: Buffer.from('image-bytes').toString('base64') }, features: [{ type: 'LABEL_DETECTION', maxResults: 2 }] });
    } finally {
      await google.close();
    }
  });
});
