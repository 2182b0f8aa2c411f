import type { AutoTaggingName, RemoveBgOptions } from './extension-request.js';

export interface Tag {
  name: string;
  /** 0–100. */
  confidence: number;
}

/** Something that labels a picture: the local model by default, or a cloud service when configured. */
export interface ImageTagger {
  tag(image: Buffer, options: { maxTags: number; minConfidence: number }): Promise<Tag[]>;
}

/** Something that cuts the subject out of a picture; returns a PNG (with alpha, or composited on a background). */
export interface BackgroundRemover {
  removeBackground(image: Buffer, options: RemoveBgOptions & { bgImage?: Buffer }): Promise<Buffer>;
}

/** Where the extensions find their models; loaded lazily, once. */
export interface ExtensionModels {
  tagger(name: AutoTaggingName): Promise<ImageTagger>;
  remover(): Promise<BackgroundRemover>;
}

/** Thrown when an extension's model cannot be used here (e.g. the optional package is not installed). */
export class ExtensionUnavailableError extends Error {
  override readonly name = 'ExtensionUnavailableError';
}
