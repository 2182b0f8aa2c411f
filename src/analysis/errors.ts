/**
 * Errors thrown by the analysis modules (`src/analysis/*`). They are plain `Error` subclasses with no HTTP or
 * GraphQL meaning: the upload pipeline decides how each maps onto an `AppError`.
 */

/** The image (or one frame of it) has more pixels than allowed; detected from the header, before decoding. */
export class PixelLimitError extends Error {
  override readonly name = 'PixelLimitError';

  constructor(
    /** Pixels in the frame that would be decoded (width × height of one page). */
    readonly pixels: number,
    /** The limit in force. */
    readonly limit: number,
  ) {
    super(`Image has ${pixels} pixels, more than the limit of ${limit}`);
  }
}

/** The data looks like a supported image format but cannot be decoded (corrupt or truncated). */
export class CorruptImageError extends Error {
  override readonly name = 'CorruptImageError';
}

/** The data is not an image format the decoder knows. */
export class UnsupportedImageError extends Error {
  override readonly name = 'UnsupportedImageError';
}

/** A perceptual hash string is not 16 hexadecimal characters. */
export class InvalidPHashError extends Error {
  override readonly name = 'InvalidPHashError';
}

/** ffprobe could not read the file as audio or video. */
export class NotMediaError extends Error {
  override readonly name = 'NotMediaError';
}

/** ffprobe died on a signal (the bundled static build segfaults on MPEG-TS, for one) rather than judging the file. */
export class ProbeCrashedError extends Error {
  override readonly name = 'ProbeCrashedError';
}

/** An ffmpeg/ffprobe process ran longer than allowed and was killed. */
export class MediaTimeoutError extends Error {
  override readonly name = 'MediaTimeoutError';

  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`${command} did not finish within ${timeoutMs} ms and was killed`);
  }
}

/** ffmpeg ran but produced no frame. */
export class FrameExtractionError extends Error {
  override readonly name = 'FrameExtractionError';
}

/** No usable ffmpeg/ffprobe executable: neither the env override nor the npm package provides one. */
export class BinaryNotFoundError extends Error {
  override readonly name = 'BinaryNotFoundError';
}

/** libheif could not parse or decode a HEIC/HEIF file. */
export class HeicDecodeError extends Error {
  override readonly name = 'HeicDecodeError';
}
