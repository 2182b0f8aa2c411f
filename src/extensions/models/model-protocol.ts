import type { Region } from '../../transform/face-finder.js';
import type { RemoveBackgroundOptions } from './background-remover.js';
import {
  BackgroundRemovalUnavailableError,
  InvalidRemoveBgOptionsError,
  ModelLoadError,
  UndecodableImageError,
} from './errors.js';
import type { Tag, TagLimits } from './rank-tags.js';

/** What the model process can be asked to do; each answer type is in {@link ModelAnswers}. */
export type ModelTask =
  | { kind: 'tag'; image: Uint8Array; limits: TagLimits }
  | { kind: 'remove-bg'; image: Uint8Array; options: RemoveBackgroundOptions }
  | { kind: 'faces'; image: Uint8Array };

export interface ModelAnswers {
  tag: Tag[];
  'remove-bg': Uint8Array;
  faces: Region[];
}

export interface ModelRequest {
  id: number;
  task: ModelTask;
}

export interface SerializedError {
  name: string;
  message: string;
}

export type ModelResponse = { id: number; result: ModelAnswers[ModelTask['kind']] } | { id: number; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}

/** The errors the models throw, rebuilt with their own class so callers can tell them apart across the process boundary. */
const KNOWN: Record<string, new (message: string) => Error> = {
  UndecodableImageError,
  ModelLoadError,
  BackgroundRemovalUnavailableError,
  InvalidRemoveBgOptionsError,
  RangeError,
  TypeError,
};

export function deserializeError(error: SerializedError): Error {
  const Known = KNOWN[error.name];
  if (Known) return new Known(error.message);
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}

/** Bytes that crossed the process boundary (structured clone gives a plain Uint8Array) as a Buffer, without copying. */
export const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
