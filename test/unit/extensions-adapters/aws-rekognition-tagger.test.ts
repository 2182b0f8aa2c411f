import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsRekognitionTagger } from '../../../src/extensions/aws-rekognition-tagger.js';
import { startOriginServer } from '../../helpers/origin-server.js';

describe('AWS Rekognition tagger', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('sends a signed DetectLabels with the image and maps the labels', async () => {
    let seen: { target?: string; auth?: string; body?: any } = {};
    const aws = await startOriginServer({
      '/': (req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          seen = { target: String(req.headers['x-amz-target']), auth: String(req.headers.authorization), body: JSON.parse(body) };
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(
            JSON.stringify({ Labels: [{ Name: 'Dog', Confidence: 98.123 }, { Name: 'Pet', Confidence: 90 }, { Name: 'Grass', Confidence: 61 }] }),
          );
        });
      },
    });
    try {
      const tagger = createAwsRekognitionTagger({ region: 'eu-west-1', endpoint: aws.url });
      const tags = await tagger.tag(Buffer.from('image-bytes'), { maxTags: 2, minConfidence: 70 });
      expect(tags).toEqual([
        { name: 'Dog', confidence: 98.12 },
        { name: 'Pet', confidence: 90 },
      ]);
      expect(seen.target).toBe('RekognitionService.DetectLabels');
      expect(seen.auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/rekognition\/aws4_request/);
      expect(seen.body).toEqual({ Image: { Bytes: Buffer.from('image-bytes').toString('base64') }, MaxLabels: 2, MinConfidence: 70 });
    } finally {
      await aws.close();
    }
  });
});
