import { serializeUploadOptions } from '@imagekit/nodejs/lib/serialization-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/errors.js';
import { parseExtensions } from '../../../src/extensions/extension-request.js';
import { parseResponseFields, RESPONSE_FIELDS } from '../../../src/rest/file-json.js';
import { decodeBoolean, decodeTags, decodeUploadFields } from '../../../src/rest/upload-form.js';

/** The form fields ImageKit's SDK sends for `params`: its own serialisation, then `String()` as its FormData does. */
const formOf = (params: Record<string, unknown>) =>
  new Map(Object.entries(serializeUploadOptions(params)).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));

/** The AppError `fn` throws (failing the test when it throws none or something else). */
function appErrorOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

const tag = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes(',') && s.trim() !== '');
const json = fc.jsonValue({ maxDepth: 2 });

describe('decoding ImageKit\'s upload form fields', () => {
  it('reads every boolean the SDK writes, in any case and with blanks around', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.constantFrom('', ' ', '\t'), fc.boolean(), (value, pad, upper) => {
        const raw = `${pad}${upper ? String(value).toUpperCase() : String(value)}${pad}`;
        expect(decodeBoolean('isPrivateFile', raw)).toBe(value);
      }),
    );
    expect(decodeBoolean('isPrivateFile', undefined)).toBeUndefined();
  });

  it('refuses any other boolean text, naming the field', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !['true', 'false'].includes(s.trim().toLowerCase())),
        (raw) => {
          const error = appErrorOf(() => decodeBoolean('overwriteFile', raw));
          expect(error.parameter).toBe('overwriteFile');
          expect(error.message).toMatch(/^Your request contains invalid overwriteFile parameter\. It must be "true" or "false"/);
        },
      ),
    );
  });

  it('splits the comma-joined tags the SDK sends back into the list it was given', () => {
    fc.assert(
      fc.property(fc.array(tag, { minLength: 1, maxLength: 8 }), (tags) => {
        expect(decodeTags(formOf({ tags }).get('tags'))).toEqual(tags);
      }),
    );
    expect(decodeTags('')).toEqual([]);
    expect(decodeTags(undefined)).toBeUndefined();
  });

  it('decodes whatever the SDK encodes to the same upload parameters', () => {
    const params = fc.record(
      {
        fileName: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ''),
        useUniqueFileName: fc.boolean(),
        isPrivateFile: fc.boolean(),
        isPublished: fc.boolean(),
        overwriteFile: fc.boolean(),
        overwriteAITags: fc.boolean(),
        overwriteTags: fc.boolean(),
        overwriteCustomMetadata: fc.boolean(),
        tags: fc.array(tag, { minLength: 1, maxLength: 5 }),
        folder: fc.string({ maxLength: 20 }),
        customCoordinates: fc.string({ maxLength: 20 }),
        description: fc.string({ maxLength: 40 }),
        webhookUrl: fc.webUrl(),
        customMetadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), json, { maxKeys: 4 }),
        extensions: fc.array(
          fc.oneof(
            fc.record({ name: fc.constant('google-auto-tagging'), maxTags: fc.integer({ min: 0, max: 30 }), minConfidence: fc.integer({ min: 0, max: 100 }) }),
            fc.record({ name: fc.constant('remove-bg'), options: fc.record({ bg_color: fc.constantFrom('fff', '81d4fa') }) }),
          ),
          { maxLength: 2 },
        ),
        transformation: fc.record({ pre: fc.constantFrom('w-100', 'h-200,q-80') }),
      },
      { requiredKeys: ['fileName'] },
    );
    fc.assert(
      fc.property(params, fc.subarray([...RESPONSE_FIELDS]), (sent, responseFields) => {
        const decoded = decodeUploadFields(formOf({ ...sent, responseFields }));
        // The JSON fields come back as JSON has them (-0 as 0).
        const expected = { ...sent, ...JSON.parse(JSON.stringify({ customMetadata: sent.customMetadata, extensions: sent.extensions, transformation: sent.transformation })) };
        expect(decoded.params).toEqual(expected);
        expect([...decoded.responseFields].sort()).toEqual([...responseFields].sort());
      }),
    );
  });

  it('leaves extension objects to the pipeline\'s parser, which reads ImageKit\'s JSON', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom('google-auto-tagging', 'aws-auto-tagging'), (maxTags, minConfidence, name) => {
        const { params } = decodeUploadFields(formOf({ fileName: 'a.jpg', extensions: [{ name, maxTags, minConfidence }] }));
        expect(parseExtensions(params.extensions ?? [])).toEqual([{ name, maxTags, minConfidence }]);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 31 }), fc.integer({ max: -1 }), fc.double({ min: 0.1, max: 29.9 }).filter((n) => !Number.isInteger(n)), fc.string()), (maxTags) => {
        const error = appErrorOf(() => parseExtensions([{ name: 'google-auto-tagging', maxTags, minConfidence: 50 }]));
        expect(error.message).toContain('maxTags must be a whole number from 0 to 30');
      }),
    );
    expect(appErrorOf(() => parseExtensions([{ name: 'ai-auto-description' }])).message).toContain('Unsupported extension "ai-auto-description"');
    expect(appErrorOf(() => parseExtensions(['google-auto-tagging'])).message).toContain('Each item must be an object');
  });

  it('refuses JSON fields that do not parse or have the wrong type, naming the field', () => {
    fc.assert(
      fc.property(fc.constantFrom('customMetadata', 'transformation', 'extensions'), fc.string({ minLength: 1 }), (name, text) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {}
        const right = name === 'extensions' ? Array.isArray(parsed) : typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
        fc.pre(text.trim() !== '' && !right);
        const error = appErrorOf(() => decodeUploadFields(new Map([['fileName', 'a.jpg'], [name, text]])));
        expect(error.parameter).toBe(name);
        expect(error.message).toMatch(new RegExp(`^Your request contains invalid ${name} parameter\\. It must be`));
      }),
    );
  });

  it('needs fileName, and refuses checks', () => {
    expect(appErrorOf(() => decodeUploadFields(new Map())).message).toBe('Your request is missing fileName parameter.');
    expect(appErrorOf(() => decodeUploadFields(new Map([['fileName', ' ']]))).message).toBe('Your request is missing fileName parameter.');
    const checks = appErrorOf(() => decodeUploadFields(new Map([['fileName', 'a.jpg'], ['checks', '"file.size" < "1mb"']])));
    expect(checks.parameter).toBe('checks');
    expect(decodeUploadFields(new Map([['fileName', 'a.jpg'], ['checks', '']])).params).toEqual({ fileName: 'a.jpg' });
  });
});

describe('responseFields', () => {
  it('reads any comma-joined subset, blanks and empty items ignored', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...RESPONSE_FIELDS), { maxLength: 10 }), fc.constantFrom(',', ', ', ' ,'), (fields, separator) => {
        expect(parseResponseFields(fields.join(separator))).toEqual(new Set(fields));
      }),
    );
    expect(parseResponseFields(undefined)).toEqual(new Set());
  });

  it('refuses an unknown value', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((s) => !s.includes(',') && s.trim() !== '' && !(RESPONSE_FIELDS as readonly string[]).includes(s.trim())), (unknown) => {
        const error = appErrorOf(() => parseResponseFields(`tags,${unknown}`));
        expect(error.parameter).toBe('responseFields');
      }),
    );
  });
});
