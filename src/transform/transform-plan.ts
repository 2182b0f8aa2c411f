import { AppError } from '../errors.js';

/** A width or height: pixels, or a fraction (0–1) of the original. */
export type Dimension = { px: number } | { fraction: number };
export type CropStrategy = 'maintain_ratio' | 'force' | 'at_max' | 'at_max_enlarge' | 'at_least';
export type CropMode = 'pad_resize' | 'extract' | 'pad_extract';
export type Focus = 'center' | 'top' | 'left' | 'bottom' | 'right' | 'top_left' | 'top_right' | 'bottom_left' | 'bottom_right' | 'auto' | 'custom' | 'face';
export type OutputFormat = 'auto' | 'jpg' | 'png' | 'webp' | 'avif' | 'gif' | 'mp4' | 'webm' | 'orig';
export type VideoCodec = 'h264' | 'vp9' | 'av1' | 'none';
export type AudioCodec = 'aac' | 'opus' | 'none';
/** Rendition heights `sr-` accepts for adaptive bitrate streaming. */
export const STREAM_HEIGHTS = [240, 360, 480, 720, 1080, 1440, 2160] as const;
export type Effect = 'grayscale' | 'contrast' | 'sharpen' | 'usm';

/** One step of a transformation: what `w-300,h-200,c-force` asks for, typed and checked. */
export interface TransformStep {
  w?: Dimension;
  h?: Dimension;
  ar?: [number, number];
  c?: CropStrategy;
  cm?: CropMode;
  fo?: Focus;
  x?: number;
  y?: number;
  /** Zoom around the faces for `fo-face` without both sides: below 1 takes in more, above 1 less. */
  z?: number;
  xc?: number;
  yc?: number;
  q?: number;
  f?: OutputFormat;
  /** `RRGGBB` or `RRGGBBOO` (opacity 00–99), or `blurred[_<intensity>|_auto][_<brightness>|_N<darkness>]`. */
  bg?: string;
  b?: { width: number; color: string };
  /** Degrees clockwise, or `auto` (EXIF). */
  rt?: number | 'auto';
  r?: number | 'max';
  fl?: 'h' | 'v' | 'h_v';
  bl?: number;
  o?: number;
  e?: Effect[];
  dpr?: number;
  pr?: boolean;
  lo?: boolean;
  md?: boolean;
  cp?: boolean;
  t?: true | number;
  orig?: true;
  n?: string;
  /** Video: start offset, end offset and duration, in seconds. */
  so?: number;
  eo?: number;
  du?: number;
  vc?: VideoCodec;
  ac?: AudioCodec;
  /** Video: rendition heights for adaptive bitrate streaming (`sr-240_360_720`). */
  sr?: number[];
}

export type TransformPlan = TransformStep[];

export const invalidTransformation = (parameter: string, message: string) =>
  new AppError('BAD_REQUEST', `Invalid transformation parameter ${parameter}: ${message}`, { parameter: 'tr', details: { transformationParameter: parameter } });

const CSS_COLOURS: Record<string, string> = {
  white: 'ffffff', black: '000000', red: 'ff0000', green: '008000', blue: '0000ff', yellow: 'ffff00', gray: '808080', grey: '808080',
  orange: 'ffa500', purple: '800080', pink: 'ffc0cb', brown: 'a52a2a', transparent: '00000000',
};

/**
 * `ff0000`, `fff`, `FF000080` (the last two digits an opacity 00–99, as ImageKit), or a CSS name → the canonical
 * `RRGGBB` or `RRGGBBOO` form the plan keeps (see `toSharpColour`).
 */
export function parseColour(param: string, raw: string): string {
  const named = Object.hasOwn(CSS_COLOURS, raw.toLowerCase()) ? CSS_COLOURS[raw.toLowerCase()] : undefined;
  if (named) return named === '00000000' ? '00000000' : named.toUpperCase();
  if (/^[0-9a-f]{6}$/i.test(raw) || /^[0-9a-f]{6}[0-9]{2}$/i.test(raw)) return raw.toUpperCase();
  if (/^[0-9a-f]{3}$/i.test(raw)) return [...raw.toUpperCase()].map((c) => c + c).join('');
  throw invalidTransformation(param, `"${raw}" is not a colour (6 hex digits, 6 hex + 2 digit opacity, or a name).`);
}

/** A plan colour as sharp takes it. */
export function toSharpColour(colour: string): { r: number; g: number; b: number; alpha: number } {
  return {
    r: Number.parseInt(colour.slice(0, 2), 16),
    g: Number.parseInt(colour.slice(2, 4), 16),
    b: Number.parseInt(colour.slice(4, 6), 16),
    alpha: colour.length === 8 ? Number(colour.slice(6)) / 99 : 1,
  };
}

const BLURRED = /^blurred(?:_(auto|\d{1,3}))?(?:_(N?)(\d{1,3}))?$/;

/** The parts of a `bg-blurred…` value: blur intensity 1–100 (`auto` → 20) and a brightness shift -255–255. */
export function blurredBackground(bg: string): { intensity: number; brightness: number } | undefined {
  const m = BLURRED.exec(bg);
  if (!m) return undefined;
  const intensity = m[1] === undefined || m[1] === 'auto' ? 20 : Number(m[1]);
  const brightness = (m[2] === 'N' ? -1 : 1) * Number(m[3] ?? 0);
  if (intensity < 1 || intensity > 100 || Math.abs(brightness) > 255) return undefined;
  return { intensity, brightness };
}

/** `blurred`, `blurred_25`, `blurred_auto`, `blurred_25_N30`: kept as written once checked. */
function parseBlurredBackground(raw: string): string {
  if (!blurredBackground(raw)) {
    throw invalidTransformation('bg', `"${raw}" is not a blurred background: blurred[_<1-100>|_auto][_<0-255>|_N<0-255>].`);
  }
  return raw;
}

const isNumber = (raw: string) => /^-?\d+(\.\d+)?$/.test(raw);

function number(param: string, raw: string, min: number, max: number, integer = true): number {
  if (!isNumber(raw)) throw invalidTransformation(param, `"${raw}" is not a number.`);
  const n = Number(raw);
  if ((integer && !Number.isInteger(n)) || n < min || n > max) throw invalidTransformation(param, `must be ${integer ? 'a whole number ' : ''}from ${min} to ${max}; got ${raw}.`);
  return n;
}

function boolean(param: string, raw: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw invalidTransformation(param, `must be true or false; got "${raw}".`);
}

function oneOf<T extends string>(param: string, raw: string, values: readonly T[]): T {
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw invalidTransformation(param, `must be one of ${values.join(', ')}; got "${raw}".`);
}

/** Largest output side (ImageKit: 65535 px, 16383 for WebP). */
export const MAX_OUTPUT_SIDE = 16383;

function dimension(param: string, raw: string): Dimension {
  if (!isNumber(raw)) throw invalidTransformation(param, `"${raw}" is not a number of pixels or a fraction.`);
  const n = Number(raw);
  if (n > 0 && n < 1) return { fraction: n };
  return { px: number(param, raw, 1, MAX_OUTPUT_SIDE) };
}

const FOCI: readonly Focus[] = ['center', 'top', 'left', 'bottom', 'right', 'top_left', 'top_right', 'bottom_left', 'bottom_right', 'auto', 'custom', 'face'];

/** Applies one `key-value` parameter to `step`. */
function applyParam(step: TransformStep, token: string): void {
  const dash = token.indexOf('-');
  const key = dash < 0 ? token : token.slice(0, dash);
  const value = dash < 0 ? '' : token.slice(dash + 1);
  const need = () => {
    if (value === '') throw invalidTransformation(key, 'needs a value, e.g. w-300.');
    return value;
  };
  switch (key) {
    case 'w':
    case 'h':
      step[key] = dimension(key, need());
      return;
    case 'ar': {
      const m = /^(\d+(?:\.\d+)?)[-_](\d+(?:\.\d+)?)$/.exec(need());
      if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) throw invalidTransformation('ar', `must be width-height, e.g. ar-4-3; got "${value}".`);
      step.ar = [Number(m[1]), Number(m[2])];
      return;
    }
    case 'c':
      step.c = oneOf('c', need(), ['maintain_ratio', 'force', 'at_max', 'at_max_enlarge', 'at_least'] as const);
      return;
    case 'cm':
      step.cm = oneOf('cm', need(), ['pad_resize', 'extract', 'pad_extract'] as const);
      return;
    case 'fo':
      step.fo = oneOf('fo', need(), FOCI);
      return;
    case 'x':
    case 'y':
    case 'xc':
    case 'yc':
      step[key] = number(key, need(), 0, 65535);
      return;
    case 'z':
      step.z = number('z', need(), 0.1, 10, false);
      return;
    case 'q':
      step.q = number('q', need(), 1, 100);
      return;
    case 'f':
      step.f = need() === 'jpeg' ? 'jpg' : oneOf('f', value, ['auto', 'jpg', 'png', 'webp', 'avif', 'gif', 'mp4', 'webm', 'orig'] as const);
      return;
    case 'bg':
      step.bg = need().startsWith('blurred') ? parseBlurredBackground(value) : parseColour('bg', value);
      return;
    case 'b': {
      const [width, colour] = need().split('_');
      if (!width || !colour) throw invalidTransformation('b', `must be width_colour, e.g. b-5_FF0000; got "${value}".`);
      step.b = { width: number('b', width, 1, 1000), color: parseColour('b', colour) };
      return;
    }
    case 'rt':
      step.rt = need() === 'auto' ? 'auto' : value.startsWith('N') ? -number('rt', value.slice(1), 0, 360) || 0 : number('rt', value, 0, 360);
      return;
    case 'r':
      step.r = need() === 'max' ? 'max' : number('r', value, 1, 10000);
      return;
    case 'fl':
      step.fl = need() === 'v_h' ? 'h_v' : oneOf('fl', value, ['h', 'v', 'h_v'] as const);
      return;
    case 'bl':
      step.bl = number('bl', need(), 1, 100);
      return;
    case 'o':
      step.o = number('o', need(), 0, 100);
      return;
    case 'e': {
      const effect = oneOf('e', need().split('-')[0] as string, ['grayscale', 'contrast', 'sharpen', 'usm'] as const);
      step.e = [...(step.e ?? []).filter((x) => x !== effect), effect];
      return;
    }
    case 'dpr':
      step.dpr = number('dpr', need(), 0.1, 5, false);
      return;
    case 'pr':
    case 'lo':
    case 'md':
    case 'cp':
      step[key] = boolean(key, need());
      return;
    case 't':
      step.t = need() === 'true' ? true : number('t', value, 1, 99);
      return;
    case 'orig':
      if (!boolean('orig', need())) return;
      step.orig = true;
      return;
    case 'so':
    case 'eo':
      step[key] = number(key, need(), 0, 86400, false);
      return;
    case 'du':
      step.du = number('du', need(), 0.1, 86400, false);
      return;
    case 'vc':
      step.vc = oneOf('vc', need(), ['h264', 'vp9', 'av1', 'none'] as const);
      return;
    case 'ac':
      step.ac = oneOf('ac', need(), ['aac', 'opus', 'none'] as const);
      return;
    case 'sr': {
      const heights = need().split('_').map((h) => Number(oneOf('sr', h, STREAM_HEIGHTS.map(String))));
      step.sr = [...new Set(heights)].sort((a, b) => a - b);
      return;
    }
    case 'n':
      if (!/^[A-Za-z0-9_-]+$/.test(need())) throw invalidTransformation('n', `"${value}" is not a transformation name.`);
      step.n = value;
      return;
    default:
      throw invalidTransformation(key || token, `"${token}" is not a supported transformation parameter.`);
  }
}

/**
 * Parses ImageKit's transformation string: steps joined by `:`, parameters by `,`, each `key-value`.
 * @throws BAD_REQUEST (tr) naming the parameter and what it accepts.
 */
export function parseTransformation(input: string): TransformPlan {
  if (input.trim() === '') throw invalidTransformation('tr', 'is empty.');
  if (input.length > 2000) throw invalidTransformation('tr', 'is longer than 2000 characters.');
  return input.split(':').map((stepText) => {
    const step: TransformStep = {};
    for (const token of stepText.split(',')) {
      if (token === '') throw invalidTransformation('tr', `has an empty parameter in "${stepText}".`);
      applyParam(step, token);
    }
    const { w, h, ar } = step;
    if (ar && w && h) delete step.ar; // ImageKit ignores ar when both sides are given
    if (step.cm === 'extract' && !w && !h) throw invalidTransformation('cm', 'extract needs w and/or h.');
    if (step.du !== undefined && step.eo !== undefined) throw invalidTransformation('du', 'cannot be combined with eo; give the end (eo) or the duration (du).');
    if (step.eo !== undefined && step.eo <= (step.so ?? 0)) throw invalidTransformation('eo', `must be after the start offset (so-${step.so ?? 0}); got ${step.eo}.`);
    if (step.vc === 'none' && step.ac === 'none') throw invalidTransformation('vc', 'vc-none and ac-none together would leave nothing to deliver.');
    return step;
  });
}

const formatNumber = (n: number) => String(n);

/** Writes a plan back as a canonical transformation string; `parseTransformation(print(p))` gives `p` back. */
export function printTransformation(plan: TransformPlan): string {
  return plan
    .map((step) => {
      const out: string[] = [];
      const dim = (d: Dimension) => ('px' in d ? formatNumber(d.px) : formatNumber(d.fraction));
      if (step.w) out.push(`w-${dim(step.w)}`);
      if (step.h) out.push(`h-${dim(step.h)}`);
      if (step.ar) out.push(`ar-${step.ar[0]}-${step.ar[1]}`);
      if (step.c) out.push(`c-${step.c}`);
      if (step.cm) out.push(`cm-${step.cm}`);
      if (step.fo) out.push(`fo-${step.fo}`);
      for (const k of ['x', 'y', 'xc', 'yc', 'z', 'q'] as const) if (step[k] !== undefined) out.push(`${k}-${step[k]}`);
      if (step.f) out.push(`f-${step.f}`);
      if (step.bg) out.push(`bg-${step.bg}`);
      if (step.b) out.push(`b-${step.b.width}_${step.b.color}`);
      if (step.rt !== undefined) out.push(`rt-${step.rt === 'auto' ? 'auto' : step.rt < 0 ? `N${-step.rt}` : step.rt}`);
      if (step.r !== undefined) out.push(`r-${step.r}`);
      if (step.fl) out.push(`fl-${step.fl}`);
      if (step.bl !== undefined) out.push(`bl-${step.bl}`);
      if (step.o !== undefined) out.push(`o-${step.o}`);
      for (const e of step.e ?? []) out.push(`e-${e}`);
      if (step.dpr !== undefined) out.push(`dpr-${step.dpr}`);
      for (const k of ['pr', 'lo', 'md', 'cp'] as const) if (step[k] !== undefined) out.push(`${k}-${step[k]}`);
      if (step.t !== undefined) out.push(`t-${step.t}`);
      if (step.orig) out.push('orig-true');
      if (step.n) out.push(`n-${step.n}`);
      for (const k of ['so', 'eo', 'du', 'vc', 'ac'] as const) if (step[k] !== undefined) out.push(`${k}-${step[k]}`);
      if (step.sr) out.push(`sr-${step.sr.join('_')}`);
      return out.join(',');
    })
    .join(':');
}
