import sharp from 'sharp';
import type { ExtensionModels, Tag } from '../../src/extensions/extension-models.js';

/**
 * Deterministic stand-ins for the models, to test the extension plumbing (queue, status, webhooks, restarts)
 * without loading the real ones; the real models have their own tests in test/unit/extensions.
 * `hold()` makes tagging wait until `release()`, to observe the pending state; `failRemoval` makes remove-bg throw.
 */
export function createTestModels(options: { failRemoval?: boolean } = {}) {
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  const calls = { tag: 0, remove: 0 };
  const models: ExtensionModels = {
    tagger: async () => ({
      tag: async (_image: Buffer, { maxTags, minConfidence }: { maxTags: number; minConfidence: number }): Promise<Tag[]> => {
        calls.tag++;
        await gate;
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
        if (options.failRemoval) throw new Error('segmentation failed');
        return sharp(image).ensureAlpha(0.5).png().toBuffer();
      },
    }),
  };
  return {
    models,
    calls,
    hold: () => {
      gate = new Promise((r) => (open = r));
    },
    release: () => open(),
  };
}
