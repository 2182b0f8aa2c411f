import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
export function centernetModelPaths(): { json: string; bin: string } {
  const require = createRequire(import.meta.url);
  // The package's `exports` has no './package.json' entry; its main file is `dist/human.node.js`.
  const models = join(dirname(dirname(require.resolve('@vladmandic/human'))), 'models');
  return { json: join(models, 'centernet.json'), bin: join(models, 'centernet.bin') };
}

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
 * Loads MobileNetV3-CenterNet (COCO, 80 classes, 4 MB of weights shipped inside `@vladmandic/human`) on the
 * TensorFlow.js WebAssembly backend, whose `.wasm` files ship inside `@tensorflow/tfjs-backend-wasm`. Reads
 * only local files; nothing is fetched. Selects the `wasm` backend for the whole process's TensorFlow.js.
 *
 * @throws ModelLoadError when the runtime or the model files cannot be loaded.
 */
export async function loadCenternetDetector(): Promise<ObjectDetector> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const { loadGraphModel } = await import('@tensorflow/tfjs-converter');

    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
    if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js wasm backend did not initialise');
    await tf.ready();

    const paths = centernetModelPaths();
    const manifest = JSON.parse(await readFile(paths.json, 'utf8')) as {
      modelTopology: object;
      weightsManifest: { weights: import('@tensorflow/tfjs-core').io.WeightsManifestEntry[] }[];
      format?: string;
      generatedBy?: string;
      convertedBy?: string;
      signature?: object;
    };
    const weights = await readFile(paths.bin);
    const model = await loadGraphModel(
      tf.io.fromMemory({
        modelTopology: manifest.modelTopology,
        weightSpecs: manifest.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        format: manifest.format,
        generatedBy: manifest.generatedBy,
        convertedBy: manifest.convertedBy,
        signature: manifest.signature,
      }),
    );

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
