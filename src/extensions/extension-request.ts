import { badRequest } from '../errors.js';

export type AutoTaggingName = 'google-auto-tagging' | 'aws-auto-tagging';
export const EXTENSION_NAMES = ['google-auto-tagging', 'aws-auto-tagging', 'remove-bg'] as const;
export type ExtensionName = (typeof EXTENSION_NAMES)[number];

export interface RemoveBgOptions {
  addShadow: boolean;
  semitransparency: boolean;
  bgColor: string | null;
  bgImageUrl: string | null;
}

export type ExtensionRequest =
  | { name: AutoTaggingName; maxTags: number; minConfidence: number }
  | { name: 'remove-bg'; options: RemoveBgOptions };

/** remove.bg's options, named as ImageKit names them. */
export interface RemoveBgOptionsSpec {
  add_shadow?: boolean | null;
  semitransparency?: boolean | null;
  bg_color?: string | null;
  bg_colour?: string | null;
  bg_image_url?: string | null;
}

/**
 * One extension as ImageKit's API takes it (`[{"name": "google-auto-tagging", "maxTags": 5, "minConfidence": 80}]`):
 * the neutral input both adapters build. The REST adapter passes the decoded JSON (so every value is checked at
 * run time by {@link parseExtensions}); the GraphQL adapter turns its `@oneOf` input into it.
 */
export type ExtensionSpec =
  | { name: AutoTaggingName; maxTags: number; minConfidence: number }
  | { name: 'remove-bg'; options?: RemoveBgOptionsSpec | null };

const COLOR = /^(#?[0-9a-f]{3}|#?[0-9a-f]{6}|[a-z]{3,20})$/i;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An optional boolean option of remove-bg. */
function optionalBoolean(options: Record<string, unknown>, key: string): boolean | null {
  const value = options[key];
  if (value == null) return null;
  if (typeof value !== 'boolean') throw badRequest('extensions', `Invalid remove-bg extension: ${key} must be true or false; got ${JSON.stringify(value)}.`);
  return value;
}

/** An optional string option of remove-bg. */
function optionalString(options: Record<string, unknown>, key: string): string | null {
  const value = options[key];
  if (value == null) return null;
  if (typeof value !== 'string') throw badRequest('extensions', `Invalid remove-bg extension: ${key} must be a string; got ${JSON.stringify(value)}.`);
  return value;
}

function parseAutoTagging(name: AutoTaggingName, input: Record<string, unknown>): ExtensionRequest {
  const { maxTags, minConfidence } = input;
  if (typeof maxTags !== 'number' || !Number.isInteger(maxTags) || maxTags < 0 || maxTags > 30) {
    throw badRequest('extensions', `Invalid ${name} extension: maxTags must be a whole number from 0 to 30; got ${JSON.stringify(maxTags ?? null)}.`);
  }
  if (typeof minConfidence !== 'number' || !(minConfidence >= 0 && minConfidence <= 100)) {
    throw badRequest('extensions', `Invalid ${name} extension: minConfidence must be from 0 to 100; got ${JSON.stringify(minConfidence ?? null)}.`);
  }
  return { name, maxTags, minConfidence };
}

function parseRemoveBg(input: Record<string, unknown>): ExtensionRequest {
  const raw = input.options ?? {};
  if (!isObject(raw)) throw badRequest('extensions', 'Invalid remove-bg extension: options must be an object.');
  const addShadow = optionalBoolean(raw, 'add_shadow');
  const semitransparency = optionalBoolean(raw, 'semitransparency');
  const color = optionalString(raw, 'bg_color');
  const colour = optionalString(raw, 'bg_colour');
  const bgImageUrl = optionalString(raw, 'bg_image_url');
  if (color !== null && colour !== null && color !== colour) throw badRequest('extensions', 'Invalid remove-bg extension: bg_color and bg_colour disagree; send one.');
  const bgColor = color ?? colour;
  if (bgColor !== null && !COLOR.test(bgColor)) throw badRequest('extensions', `Invalid remove-bg extension: bg_color must be a hex colour like "81d4fa" or "fff", or a colour name; got "${bgColor}".`);
  if (bgColor !== null && bgImageUrl !== null) throw badRequest('extensions', 'Invalid remove-bg extension: bg_color and bg_image_url are mutually exclusive.');
  if (bgImageUrl !== null && !/^https?:\/\//i.test(bgImageUrl)) throw badRequest('extensions', 'Invalid remove-bg extension: bg_image_url must be an http(s) URL.');
  return { name: 'remove-bg', options: { addShadow: addShadow ?? false, semitransparency: semitransparency ?? true, bgColor, bgImageUrl } };
}

/**
 * Validates `extensions` (ImageKit's objects, see {@link ExtensionSpec}) by ImageKit's rules: auto-tagging needs
 * maxTags 0–30 and minConfidence 0–100; remove-bg takes bg_color (or bg_colour) or bg_image_url, not both; each
 * extension at most once. Every value is checked at run time: the items may come straight from JSON.
 * @throws BAD_REQUEST (extensions) naming the offending extension or option.
 */
export function parseExtensions(inputs: readonly unknown[]): ExtensionRequest[] {
  const out: ExtensionRequest[] = [];
  for (const input of inputs) {
    if (!isObject(input)) throw badRequest('extensions', 'Your request contains invalid extensions parameter. Each item must be an object with a "name".');
    const { name } = input;
    let request: ExtensionRequest;
    if (name === 'google-auto-tagging' || name === 'aws-auto-tagging') request = parseAutoTagging(name, input);
    else if (name === 'remove-bg') request = parseRemoveBg(input);
    else {
      throw badRequest(
        'extensions',
        `Your request contains invalid extensions parameter. Unsupported extension ${JSON.stringify(name ?? null)}; Stowage runs ${EXTENSION_NAMES.join(', ')}.`,
      );
    }
    if (out.some((r) => r.name === request.name)) throw badRequest('extensions', `The extension ${request.name} is listed twice.`);
    out.push(request);
  }
  return out;
}
