import { AppError, badRequest, isAppError } from '../errors.js';
import type { StreamProtocol } from '../transform/adaptive-stream.js';
import { parseTransformation, type TransformPlan } from '../transform/transform-plan.js';

/** One `post` item as clients send it (ImageKit's JSON shape). */
export interface PostTransformationInput {
  type: string;
  value?: string | null;
  protocol?: string | null;
}

/** The `transformation` upload parameter as clients send it. */
export interface UploadTransformationInput {
  pre?: string | null;
  post?: readonly PostTransformationInput[] | null;
}

export type PostTransformation =
  | { type: 'transformation'; value: string }
  | { type: 'gif-to-video'; value?: string }
  | { type: 'thumbnail'; value?: string }
  | { type: 'abs'; value: string; protocol: StreamProtocol };

export interface UploadTransformation {
  pre: { value: string; plan: TransformPlan } | null;
  post: PostTransformation[];
}

const INVALID = 'The file could not be uploaded because the transformation field is invalid.';
const MAX_POST_ITEMS = 10;

const invalid = (detail: string) => badRequest('transformation', `${INVALID} ${detail}`);

/** A transformation string checked with the delivery parser; its error re-worded for the upload parameter. */
function checkedPlan(where: string, value: string): TransformPlan {
  try {
    return parseTransformation(value);
  } catch (error) {
    if (!isAppError(error)) throw error;
    throw invalid(`${where}: ${error.message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON types of the parameter (it may come straight from ImageKit's JSON text): `pre` a string, `post` an array of objects with string values. */
function assertShape(input: unknown): asserts input is UploadTransformationInput {
  if (!isObject(input)) throw invalid('It must be an object with pre, post or both.');
  if (input.pre != null && typeof input.pre !== 'string') throw invalid('pre must be a transformation string.');
  if (input.post == null) return;
  if (!Array.isArray(input.post)) throw invalid('post must be an array.');
  input.post.forEach((item: unknown, i) => {
    if (!isObject(item)) throw invalid(`post[${i}] must be an object with a type.`);
    if (item.value != null && typeof item.value !== 'string') throw invalid(`post[${i}].value must be a transformation string.`);
  });
}

/**
 * Checks the `transformation` parameter as ImageKit does (pre a non-empty transformation string; post an array
 * of typed items; `transformation` and `abs` need a value, `abs` a protocol) and parses every transformation in it.
 * @returns `null` when the parameter is absent.
 * @throws BAD_REQUEST (transformation) naming what is wrong.
 */
export function parseUploadTransformation(input: UploadTransformationInput | null | undefined): UploadTransformation | null {
  if (input == null) return null;
  assertShape(input);
  if ((input.pre == null || input.pre === '') && (input.post == null || input.post.length === 0)) {
    throw invalid('It must contain pre, post or both.');
  }
  const pre = input.pre == null ? null : { value: input.pre, plan: checkedPlan('pre', input.pre) };
  if (pre?.plan.some((step) => step.n !== undefined || step.sr !== undefined || step.orig)) {
    throw invalid('pre cannot use named transformations, orig or adaptive streaming (sr).');
  }
  const items = input.post ?? [];
  if (items.length > MAX_POST_ITEMS) throw invalid(`post has ${items.length} items; at most ${MAX_POST_ITEMS} are allowed.`);
  const post = items.map((item, i): PostTransformation => {
    const where = `post[${i}]`;
    const value = item.value == null || item.value === '' ? undefined : item.value;
    const plan = value === undefined ? undefined : checkedPlan(`${where}.value`, value);
    if (plan?.some((step) => step.n !== undefined)) throw invalid(`${where}.value cannot use named transformations.`);
    switch (item.type) {
      case 'transformation':
        if (!value || !plan) throw invalid(`${where}: a "transformation" item needs a value, e.g. "w-300,h-300".`);
        if (plan.some((step) => step.sr)) throw invalid(`${where}: adaptive streaming (sr) is the "abs" type.`);
        return { type: 'transformation', value };
      case 'gif-to-video':
      case 'thumbnail':
        return value === undefined ? { type: item.type } : { type: item.type, value };
      case 'abs': {
        const protocol = item.protocol;
        if (protocol !== 'hls' && protocol !== 'dash') throw invalid(`${where}: an "abs" item needs protocol "hls" or "dash".`);
        if (!value || !plan || plan.length !== 1 || Object.keys(plan[0] ?? {}).join() !== 'sr') {
          throw invalid(`${where}: an "abs" item needs a value naming the renditions only, e.g. "sr-240_360_480_720_1080".`);
        }
        return { type: 'abs', value, protocol };
      }
      default:
        throw invalid(`${where}.type must be transformation, gif-to-video, thumbnail or abs; got "${item.type}".`);
    }
  });
  return { pre, post };
}

/** What the upload's type sniffing found, as far as the type checks need it. */
export interface SniffedKind {
  mime: string;
  isImage: boolean;
  isVideo: boolean;
  ext: string | undefined;
}

/**
 * ImageKit's type checks, run as soon as the file type is known: transformations apply to images and videos;
 * `gif-to-video` needs a GIF, `thumbnail` and `abs` a video.
 * @throws BAD_REQUEST (transformation)
 */
export function assertTransformationFits(transformation: UploadTransformation, kind: SniffedKind): void {
  if (!kind.isImage && !kind.isVideo) {
    throw badRequest('transformation', `The file could not be uploaded because transformations are supported only for image and video files; this file is ${kind.mime}.`);
  }
  for (const item of transformation.post) {
    const fits = item.type === 'transformation' || (item.type === 'gif-to-video' ? kind.ext === 'gif' : kind.isVideo);
    if (!fits) {
      throw badRequest(
        'transformation',
        `The file could not be uploaded because the detected file type & post-transformation are incompatible: "${item.type}" does not apply to ${kind.mime}.`,
      );
    }
  }
}

/** A failed pre-transformation of an image, as the upload reports it (nothing is stored). */
export function preTransformFailed(error: unknown): AppError {
  const reason = error instanceof Error ? error.message : String(error);
  return new AppError('BAD_REQUEST', `${INVALID} The pre-transformation failed: ${reason}`, { parameter: 'transformation', cause: error });
}
