import { bundledModelPaths, loadBundledGraphModel } from './bundled-graph-model.js';
import { COCO_LABELS, type CocoLabel } from './coco-labels.js';
import type { RgbaImage } from './decode-rgba.js';
import { ModelLoadError } from './errors.js';

/** The CenterNet model takes a square RGB picture of this many pixels a side. */
export const CENTERNET_INPUT_SIZE = 512;

/** The best score the model gave one COCO class anywhere in the picture. */
export interface Detection {
  label: CocoLabel;
  /** 0–1. */
  score: number;
}

/** The COCO object detector, loaded and ready. */
export interface ObjectDetector {
  /**
   * Runs the model on a {@link CENTERNET_INPUT_SIZE}-square picture and returns, for each class it found, its
   * best score, highest first. Transparent pixels are seen as white.
   */
  detect(image: RgbaImage): Promise<Detection[]>;
}

/** Where the model files are: `models/centernet.{json,bin}` inside the installed `@vladmandic/human`. */
export const centernetModelPaths = () => bundledModelPaths('centernet');

/**
 * Copies a square RGBA picture into the model's input layout: float32 RGB in 0–255, alpha composited on white
 * (the model has no notion of transparency).
 */
export function toModelInput(image: RgbaImage): Float32Array {
  const { data, width, height } = image;
  if (width !== CENTERNET_INPUT_SIZE || height !== CENTERNET_INPUT_SIZE) {
    throw new RangeError(`CenterNet needs a ${CENTERNET_INPUT_SIZE}×${CENTERNET_INPUT_SIZE} picture, got ${width}×${height}`);
  }
  const pixels = width * height;
  const input = new Float32Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const alpha = data[4 * p + 3]! / 255;
    const white = 255 * (1 - alpha);
    input[3 * p] = data[4 * p]! * alpha + white;
    input[3 * p + 1] = data[4 * p + 1]! * alpha + white;
    input[3 * p + 2] = data[4 * p + 2]! * alpha + white;
  }
  return input;
}

/**
 * The best score per class among the model's detections: rows of `[x1, y1, x2, y2, score, classIndex]`.
 * Rows with an unknown class or a non-finite score are skipped.
 */
export function bestScorePerLabel(rows: readonly (readonly number[])[]): Detection[] {
  const best = new Map<CocoLabel, number>();
  for (const row of rows) {
    const score = row[4];
    const label = COCO_LABELS[row[5] ?? -1];
    if (label === undefined || score === undefined || !Number.isFinite(score)) continue;
    if (score > (best.get(label) ?? -Infinity)) best.set(label, score);
  }
  return [...best]
    .map(([label, score]) => ({ label, score }))
    .sort((a, b) => b.score - a.score || a.label.localeCompare(b.label));
}

/**
 * Loads MobileNetV3-CenterNet (COCO, 80 classes, 4 MB of weights shipped inside `@vladmandic/human`) with
 * {@link loadBundledGraphModel} (TensorFlow.js on WebAssembly, local files only).
 *
 * @throws ModelLoadError when the runtime or the model files cannot be loaded.
 */
export async function loadCenternetDetector(): Promise<ObjectDetector> {
  try {
    const { tf, model } = await loadBundledGraphModel('centernet');

    return {
      async detect(image) {
        const input = tf.tensor4d(toModelInput(image), [1, CENTERNET_INPUT_SIZE, CENTERNET_INPUT_SIZE, 3]);
        try {
          const output = model.execute(input, 'tower_0/detections') as import('@tensorflow/tfjs-core').Tensor;
          try {
            const rows = (await output.array()) as number[][][];
            return bestScorePerLabel(rows[0] ?? []);
          } finally {
            output.dispose();
          }
        } finally {
          input.dispose();
        }
      },
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(`Cannot load the CenterNet object detector: ${reason}`, { cause: error });
  }
}
