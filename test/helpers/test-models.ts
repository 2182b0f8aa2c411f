import sharp from 'sharp';
import type { ExtensionModels, Tag } from '../../src/extensions/extension-models.js';

/** A gate that work waits at while it is held. */
function createGate() {
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  return {
    wait: () => gate,
    hold: () => {
      gate = new Promise((r) => (open = r));
    },
    release: () => open(),
  };
}

/**
 * Deterministic stand-ins for the models, to test the extension plumbing (queue, status, webhooks, restarts)
 * without loading the real ones; the real models have their own tests in test/unit/extensions.
 * `hold()` makes tagging wait until `release()`, to observe the pending state; `holdRemoval()` and
 * `releaseRemoval()` do the same for remove-bg, to order the two; `failRemoval` makes remove-bg throw.
 */
export function createTestModels(options: { failRemoval?: boolean } = {}) {
  const tagging = createGate();
  const removal = createGate();
  const calls = { tag: 0, remove: 0 };
  const models: ExtensionModels = {
    tagger: async () => ({
      tag: async (_image: Buffer, { maxTags, minConfidence }: { maxTags: number; minConfidence: number }): Promise<Tag[]> => {
        calls.tag++;
        await tagging.wait();
        return [
          { name: 'Sky', confidence: 95.5 },
          { name: 'Blue', confidence: 80 },
          { name: 'Cloud', confidence: 40 },
        ]
          .filter((t) => t.confidence >= minConfidence)
          .slice(0, maxTags);
      },
    }),
    remover: async () => ({
      removeBackground: async (image: Buffer) => {
        calls.remove++;
        await removal.wait();
        if (options.failRemoval) throw new Error('segmentation failed');
        return sharp(image).ensureAlpha(0.5).png().toBuffer();
      },
    }),
  };
  return {
    models,
    calls,
    hold: tagging.hold,
    release: tagging.release,
    holdRemoval: removal.hold,
    releaseRemoval: removal.release,
  };
}
