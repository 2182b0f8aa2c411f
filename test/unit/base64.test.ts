import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { parseBase64 } from '../../src/upload/base64.js';

describe('base64 file strings', () => {
  it('decodes any bytes back exactly, in every accepted spelling (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200_000 }), fc.constantFrom('plain', 'unpadded', 'urlsafe', 'wrapped', 'datauri'), async (bytes, form) => {
        const data = Buffer.from(bytes);
        let text = data.toString('base64');
        if (form === 'unpadded') text = text.replace(/=+$/, '');
        if (form === 'urlsafe') text = data.toString('base64url');
        if (form === 'wrapped') text = text.replace(/.{76}/g, '$&\n');
        if (form === 'datauri') text = `data:image/png;base64,${text}`;
        const decoded = parseBase64(text);
        expect(decoded.size).toBe(data.length);
        expect(Buffer.compare(await buffer(decoded.stream()), data)).toBe(0);
        if (form === 'datauri') expect(decoded.mimeType).toBe('image/png');
      }),
      { numRuns: 60 },
    );
  });

  it.each(['not base64!', 'abcde', 'ab=c', 'data:text/plain,hello', 'data:image/png;base64'])('refuses %s with a BAD_REQUEST on file', (text) => {
    expect(() => parseBase64(text)).toThrowError(AppError);
    try {
      parseBase64(text);
    } catch (e) {
      expect((e as AppError).parameter).toBe('file');
    }
  });

  it('never throws anything but AppError (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          parseBase64(text);
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
        }
      }),
    );
  });
});
