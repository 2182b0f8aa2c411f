import type { Tensor } from '@tensorflow/tfjs-core';
import { loadBundledGraphModel } from './bundled-graph-model.js';
import type { RgbaImage } from './decode-rgba.js';
import { ModelLoadError } from './errors.js';

/** BlazeFace (the variant shipped in `@vladmandic/human`) takes a square RGB picture of this many pixels a side. */
export const FACE_INPUT_SIZE = 256;

/** A face found in the picture, in the picture's own pixels. */
export interface FaceBox {
  left: number;
  top: number;
  width: number;
  height: number;
  /** 0–1. */
  score: number;
}

export interface FaceDetector {
  /** Faces in a {@link FACE_INPUT_SIZE}-square picture (stretched from the original), best first, in that square's pixels. */
  detect(image: RgbaImage): Promise<FaceBox[]>;
}

/**
 * BlazeFace's anchor centres for a 256-pixel input: two per cell of a 16×16 grid (stride 16), then six per cell of
 * an 8×8 grid (stride 32): 896 in all, in the order of the model's outputs.
 */
export function faceAnchors(inputSize = FACE_INPUT_SIZE): [number, number][] {
  const anchors: [number, number][] = [];
  for (const [stride, perCell] of [[inputSize / 16, 2], [inputSize / 8, 6]] as const) {
    const cells = Math.ceil(inputSize / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let n = 0; n < perCell; n++) anchors.push([stride * (x + 0.5), stride * (y + 0.5)]);
      }
    }
  }
  return anchors;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const iou = (a: FaceBox, b: FaceBox) => {
  const w = Math.max(0, Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left));
  const h = Math.max(0, Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top));
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
};

/**
 * Turns the model's rows (`[logit, dx, dy, w, h, …keypoints]` per anchor) into face boxes: score by sigmoid, box
 * centred on anchor + offset, then greedy non-maximum suppression.
 */
export function decodeFaces(rows: readonly (readonly number[])[], anchors: readonly [number, number][], minScore = 0.5, maxIou = 0.3): FaceBox[] {
  const candidates: FaceBox[] = [];
  rows.forEach((row, i) => {
    const score = sigmoid(row[0] ?? -Infinity);
    const anchor = anchors[i];
    if (!(score >= minScore) || !anchor) return;
    const [dx = 0, dy = 0, w = 0, h = 0] = row.slice(1, 5);
    if (w <= 0 || h <= 0) return;
    candidates.push({ left: anchor[0] + dx - w / 2, top: anchor[1] + dy - h / 2, width: w, height: h, score });
  });
  candidates.sort((a, b) => b.score - a.score);
  const kept: FaceBox[] = [];
  for (const box of candidates) if (kept.every((k) => iou(k, box) <= maxIou)) kept.push(box);
  return kept;
}

/**
 * Loads BlazeFace (weights shipped inside `@vladmandic/human`, MIT) on TensorFlow.js WebAssembly, local files only.
 * @throws ModelLoadError when the runtime or the model cannot be loaded.
 */
export async function loadFaceDetector(): Promise<FaceDetector> {
  let loaded: Awaited<ReturnType<typeof loadBundledGraphModel>>;
  try {
    loaded = await loadBundledGraphModel('blazeface');
  } catch (error) {
    throw new ModelLoadError(`Cannot load the BlazeFace face detector: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const { tf, model } = loaded;
  const anchors = faceAnchors();
  return {
    async detect(image) {
      const { data, width, height } = image;
      if (width !== FACE_INPUT_SIZE || height !== FACE_INPUT_SIZE) throw new RangeError(`BlazeFace needs a ${FACE_INPUT_SIZE}-pixel square, got ${width}×${height}`);
      const rgb = new Float32Array(width * height * 3);
      for (let p = 0; p < width * height; p++) {
        for (let c = 0; c < 3; c++) rgb[3 * p + c] = (data[4 * p + c] as number) / 127.5 - 1;
      }
      const input = tf.tensor4d(rgb, [1, height, width, 3]);
      const outputs = model.execute(input) as Tensor[];
      try {
        // Four outputs: scores and boxes for the 512 stride-16 anchors and for the 384 stride-32 anchors.
        const bySize = [...outputs].sort((a, b) => a.size - b.size);
        const [scores384, scores512, boxes384, boxes512] = (await Promise.all(bySize.map((t) => t.array()))) as number[][][][];
        const rows = [
          ...(boxes512?.[0] ?? []).map((box, i) => [scores512?.[0]?.[i]?.[0] ?? -Infinity, ...box]),
          ...(boxes384?.[0] ?? []).map((box, i) => [scores384?.[0]?.[i]?.[0] ?? -Infinity, ...box]),
        ];
        return decodeFaces(rows, anchors);
      } finally {
        input.dispose();
        for (const t of outputs) t.dispose();
      }
    },
  };
}
