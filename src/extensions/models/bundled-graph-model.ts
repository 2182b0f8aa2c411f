import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Tf = typeof import('@tensorflow/tfjs-core');
type GraphModel = import('@tensorflow/tfjs-converter').GraphModel;

/** Where a model shipped inside the installed `@vladmandic/human` lies: `models/<name>.{json,bin}`. */
export function bundledModelPaths(name: string): { json: string; bin: string } {
  const require = createRequire(import.meta.url);
  // The package's `exports` has no './package.json' entry; its main file is `dist/human.node.js`.
  const models = join(dirname(dirname(require.resolve('@vladmandic/human'))), 'models');
  return { json: join(models, `${name}.json`), bin: join(models, `${name}.bin`) };
}

/**
 * Loads one of the TensorFlow.js graph models shipped inside `@vladmandic/human` on the TensorFlow.js WebAssembly
 * backend (its `.wasm` files ship inside `@tensorflow/tfjs-backend-wasm`). Reads only local files; nothing is
 * fetched. Selects the `wasm` backend for the whole process's TensorFlow.js.
 * @throws Error when the runtime or the model files cannot be loaded.
 */
export async function loadBundledGraphModel(name: string): Promise<{ tf: Tf; model: GraphModel }> {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const { loadGraphModel } = await import('@tensorflow/tfjs-converter');

  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  if (tf.getBackend() !== 'wasm' && !(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js wasm backend did not initialise');
  await tf.ready();

  const paths = bundledModelPaths(name);
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
  return { tf, model };
}
