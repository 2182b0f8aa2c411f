import sharp from 'sharp';
import { CENTERNET_INPUT_SIZE, loadCenternetDetector, type ObjectDetector } from './centernet-detector.js';
import { COCO_LABELS } from './coco-labels.js';
import { COLOUR_NAMES, colourShares } from './colour-names.js';
import { decodeRgba, type RgbaImage } from './decode-rgba.js';
import { rankTags, type Tag, type TagLimits } from './rank-tags.js';

export type { Tag, TagLimits } from './rank-tags.js';

/** Something that labels a picture; ImageKit's `google-auto-tagging` and `aws-auto-tagging` map onto it. */
export interface ImageTagger {
  /**
   * Labels `image` (any format sharp decodes). Returns at most `maxTags` tags, each with a confidence of at least
   * `minConfidence` (0–100, 2 decimals), highest first.
   *
   * @throws UndecodableImageError when `image` cannot be decoded.
   * @throws ModelLoadError when the model cannot be loaded.
   * @throws RangeError when `maxTags` or `minConfidence` is not a usable number.
   */
  tag(image: Buffer, options: TagLimits): Promise<Tag[]>;
}

/** Tuning for {@link createLocalTagger}. */
export interface LocalTaggerOptions {
  /**
   * Object classes the detector scored below this (0–1) are never reported, whatever the caller's
   * `minConfidence`. The model gives a visible person about 0.35–0.8 and scatters guesses under 0.3.
   * Default 0.3.
   */
  minObjectScore?: number;
  /** Colour names covering less than this share (0–1) of the opaque pixels are never reported. Default 0.1. */
  minColourShare?: number;
  /** Loads the object detector; defaults to {@link loadCenternetDetector}. Called at most once per success. */
  loadDetector?: () => Promise<ObjectDetector>;
}

/**
 * Every label the local tagger can return: the 80 COCO object classes of its detector, then the colour names
 * (`orange` is both a COCO class, the fruit, and a colour; it is listed once, and a picture for which both
 * apply gets one `orange` tag with the higher confidence).
 */
export const TAGGER_LABELS: readonly string[] = [...new Set<string>([...COCO_LABELS, ...COLOUR_NAMES])];

/** Pixels a side of the downscaled copy whose colours are named. */
const COLOUR_SAMPLE_SIZE = 64;

async function downscale(image: RgbaImage, size: number): Promise<Uint8Array> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`expected 4 channels after downscaling, got ${info.channels}`);
  return data;
}

/**
 * A tagger that runs on this machine, offline, on the CPU. Its tags are:
 * - objects: the COCO classes (person, car, dog, …) found by MobileNetV3-CenterNet, whose weights ship inside
 *   `@vladmandic/human`; confidence = the detector's best score for the class × 100;
 * - colours: the names of the colours that cover at least `minColourShare` of the picture (red, blue, white,
 *   …); confidence = the share of opaque pixels × 100.
 *
 * The model loads on the first call to `tag` and is reused; a failed load is retried on the next call. Measured
 * on a 2-core CPU: load 0.6 s, first call 1.2 s in all, then about 0.4 s a picture whatever its size (a
 * 4000×3000 JPEG too); the process grows by about 190 MB (peak RSS 285 MB with tsx and sharp).
 */
export function createLocalTagger(options: LocalTaggerOptions = {}): ImageTagger {
  const minObjectScore = options.minObjectScore ?? 0.3;
  const minColourShare = options.minColourShare ?? 0.1;
  const loadDetector = options.loadDetector ?? loadCenternetDetector;
  let detector: Promise<ObjectDetector> | undefined;

  function getDetector(): Promise<ObjectDetector> {
    detector ??= loadDetector().catch((error: unknown) => {
      detector = undefined;
      throw error;
    });
    return detector;
  }

  return {
    async tag(image, limits) {
      rankTags([], limits); // validates the limits before any work
      const pixels = await decodeRgba(image, { width: CENTERNET_INPUT_SIZE, height: CENTERNET_INPUT_SIZE });
      if (limits.maxTags === 0) return [];
      const objects = await (await getDetector()).detect(pixels);
      const colours = colourShares(await downscale(pixels, COLOUR_SAMPLE_SIZE));
      return rankTags(
        [
          ...objects.filter((o) => o.score >= minObjectScore).map((o) => ({ name: o.label, score: o.score })),
          ...colours.filter((c) => c.share >= minColourShare).map((c) => ({ name: c.name, score: c.share })),
        ],
        limits,
      );
    },
  };
}
