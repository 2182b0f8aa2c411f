/**
 * Errors thrown by the local model modules (`src/extensions/models/*`). They are plain `Error` subclasses with
 * no HTTP or GraphQL meaning: the extension service decides how each maps onto an extension status.
 */

/** The input bytes are not an image that sharp can decode (corrupt, truncated, or not an image at all). */
export class UndecodableImageError extends Error {
  override readonly name = 'UndecodableImageError';
}

/** A model's files could not be loaded, or its runtime could not start. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
}

/**
 * Background removal cannot run here: its model package, `@imgly/background-removal-node` (AGPL-3.0, an
 * optional dependency), is not installed, or it is installed but its runtime (onnxruntime-node) cannot load.
 */
export class BackgroundRemovalUnavailableError extends Error {
  override readonly name = 'BackgroundRemovalUnavailableError';
}

/** The background-removal options are invalid (an unknown colour, or both a colour and an image). */
export class InvalidRemoveBgOptionsError extends Error {
  override readonly name = 'InvalidRemoveBgOptionsError';
}

/** The process running a model died (crashed, or was killed) before answering; the next request starts a new one. */
export class ModelProcessCrashedError extends Error {
  override readonly name = 'ModelProcessCrashedError';
}
