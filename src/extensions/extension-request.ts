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

/** The GraphQL input: exactly one member per item, ImageKit's option names kept. */
export interface ExtensionInput {
  googleAutoTagging?: { maxTags: number; minConfidence: number } | null;
  awsAutoTagging?: { maxTags: number; minConfidence: number } | null;
  removeBg?: {
    options?: {
      add_shadow?: boolean | null;
      semitransparency?: boolean | null;
      bg_color?: string | null;
      bg_colour?: string | null;
      bg_image_url?: string | null;
    } | null;
  } | null;
}

const COLOR = /^(#?[0-9a-f]{3}|#?[0-9a-f]{6}|[a-z]{3,20})$/i;

/**
 * Validates `extensions` by ImageKit's rules: auto-tagging needs maxTags 0–30 and minConfidence 0–100; remove-bg
 * takes bg_color (or bg_colour) or bg_image_url, not both; each extension at most once.
 * @throws BAD_REQUEST (extensions) naming the offending option.
 */
export function parseExtensions(inputs: readonly ExtensionInput[]): ExtensionRequest[] {
  const out: ExtensionRequest[] = [];
  for (const input of inputs) {
    const tagging = input.googleAutoTagging ? (['google-auto-tagging', input.googleAutoTagging] as const) : input.awsAutoTagging ? (['aws-auto-tagging', input.awsAutoTagging] as const) : undefined;
    let request: ExtensionRequest;
    if (tagging) {
      const [name, { maxTags, minConfidence }] = tagging;
      if (!Number.isInteger(maxTags) || maxTags < 0 || maxTags > 30) throw badRequest('extensions', `Invalid ${name} extension: maxTags must be a whole number from 0 to 30; got ${maxTags}.`);
      if (!(minConfidence >= 0 && minConfidence <= 100)) throw badRequest('extensions', `Invalid ${name} extension: minConfidence must be from 0 to 100; got ${minConfidence}.`);
      request = { name, maxTags, minConfidence };
    } else if (input.removeBg) {
      const o = input.removeBg.options ?? {};
      if (o.bg_color != null && o.bg_colour != null && o.bg_color !== o.bg_colour) throw badRequest('extensions', 'Invalid remove-bg extension: bg_color and bg_colour disagree; send one.');
      const bgColor = o.bg_color ?? o.bg_colour ?? null;
      if (bgColor !== null && !COLOR.test(bgColor)) throw badRequest('extensions', `Invalid remove-bg extension: bg_color must be a hex colour like "81d4fa" or "fff", or a colour name; got "${bgColor}".`);
      if (bgColor !== null && o.bg_image_url != null) throw badRequest('extensions', 'Invalid remove-bg extension: bg_color and bg_image_url are mutually exclusive.');
      if (o.bg_image_url != null && !/^https?:\/\//i.test(o.bg_image_url)) throw badRequest('extensions', 'Invalid remove-bg extension: bg_image_url must be an http(s) URL.');
      request = { name: 'remove-bg', options: { addShadow: o.add_shadow ?? false, semitransparency: o.semitransparency ?? true, bgColor, bgImageUrl: o.bg_image_url ?? null } };
    } else {
      throw badRequest('extensions', 'Each extensions item must name exactly one extension: googleAutoTagging, awsAutoTagging or removeBg.');
    }
    if (out.some((r) => r.name === request.name)) throw badRequest('extensions', `The extension ${request.name} is listed twice.`);
    out.push(request);
  }
  return out;
}
