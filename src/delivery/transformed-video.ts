import { createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Limiter } from '../analysis/concurrency.js';
import { FrameExtractionError, MediaTimeoutError } from '../analysis/errors.js';
import { DEFAULT_MEDIA_DEMUXERS } from '../analysis/media-formats.js';
import { redactProcessOutput } from '../analysis/redact-output.js';
import { extractVideoFrame } from '../analysis/video-frame.js';
import type { FileVersionRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { withLocalFile, withTempDir } from '../storage/local-file.js';
import { MASTER_MANIFEST, packageAdaptiveStream, planRenditions, type StreamProtocol } from '../transform/adaptive-stream.js';
import type { FaceFinder } from '../transform/face-finder.js';
import { chooseFormat, renderImage } from '../transform/render-image.js';
import { type FfmpegRun, flattenVideoPlan, renderVideo, timeWindow, VIDEO_MIME, videoContainer, VideoRenderError, type VideoSource } from '../transform/render-video.js';
import { invalidTransformation, printTransformation, type TransformPlan, type TransformStep } from '../transform/transform-plan.js';
import { assertVideoPlanWithinLimit, assertVideoWithinPixelLimit } from '../transform/video-limits.js';
import type { RenderQueue } from './render-queue.js';
import { streamFolder } from './stream-access.js';
import { derivativeKey, streamPackageKey } from '../storage/blob-keys.js';
import { type Derivative, derivativeMime } from './derivative.js';

export interface TransformedVideosOptions {
  ffmpeg: FfmpegRun;
  /** Bounds frame grabs (shared with the thumbnails and probing). */
  frameLimiter: Limiter;
  maxInputPixels: number;
  /** The most pixels a rendered video (every rendition of a stream) may have; larger asks are refused up front. */
  maxOutputPixels: number;
  /** Keys the stream tokens that make segment URLs unguessable. */
  tokenKey: string;
  /** For `fo-face` on frame thumbnails. */
  findFaces?: FaceFinder;
}

const isPlayableVideo = (v: FileVersionRow) => v.mime.startsWith('video/') && v.videoCodec !== null && !!v.width && !!v.height;

const notAVideo = (what: string, version: FileVersionRow) =>
  new AppError('BAD_REQUEST', `${what} applies to videos; this file is ${version.mime}.`, { parameter: 'tr' });

/**
 * ffmpeg refusing the input, failing to find a frame or running past its time or memory limit is a failure of this
 * transformation (400), not a fault of the server.
 */
const encodingFailed = (error: unknown) => {
  const fail = (why: string) => new AppError('BAD_REQUEST', `The video could not be transformed: ${redactProcessOutput(why)}`, { parameter: 'tr', cause: error });
  if (error instanceof MediaTimeoutError) {
    return fail(`the render took longer than the ${error.timeoutMs} ms allowed and was stopped; ask for a smaller or shorter video.`);
  }
  return error instanceof VideoRenderError || error instanceof FrameExtractionError ? fail(error.message) : error;
};

/**
 * Video derivatives on ffmpeg, cached in the blob store like images: transformed videos, GIFs turned into MP4,
 * frame thumbnails (`ik-thumbnail.jpg`), and adaptive-bitrate packages (HLS or DASH) whose files live under a
 * per-(version, plan) token.
 */
export class TransformedVideos {
  constructor(
    private readonly store: BlobStore,
    private readonly queue: RenderQueue,
    private readonly options: TransformedVideosOptions,
  ) {}

  /** `version` (a video) rendered with `plan`. */
  async video(version: FileVersionRow, plan: TransformPlan): Promise<Derivative> {
    if (!isPlayableVideo(version)) throw notAVideo('A video transformation', version);
    const step = flattenVideoPlan(plan);
    if (step.sr) throw invalidTransformation('sr', `adaptive streaming is delivered at <file>/${MASTER_MANIFEST.hls} or <file>/${MASTER_MANIFEST.dash}.`);
    return this.rendered(version, plan, this.sourceOf(version));
  }

  /** A GIF as an H.264 MP4 (`ik-gif-video.mp4`), with any video parameters of `plan`. */
  async gifVideo(version: FileVersionRow, plan: TransformPlan): Promise<Derivative> {
    if (version.format !== 'gif') throw new AppError('BAD_REQUEST', `ik-gif-video.mp4 turns GIF images into video; this file is ${version.mime}.`, { parameter: 'tr' });
    if (version.width && version.height && version.width * version.height > this.options.maxInputPixels) {
      throw new AppError('BAD_REQUEST', `The GIF has ${version.width * version.height} pixels, more than the ${this.options.maxInputPixels} that can be transformed.`, { parameter: 'tr' });
    }
    const mp4Plan: TransformPlan = [...plan, { f: 'mp4', vc: 'h264' }];
    const source = { file: '', width: version.width ?? 1, height: version.height ?? 1, duration: Number.MAX_SAFE_INTEGER, hasAudio: false, demuxers: ['gif'] };
    return this.rendered(version, mp4Plan, source);
  }

  /** A frame of the video at `so` (default: the first), with the plan's image parameters, as JPEG unless `f` says otherwise. */
  async thumbnail(version: FileVersionRow, plan: TransformPlan, accept: string): Promise<Derivative> {
    if (!isPlayableVideo(version)) throw notAVideo('ik-thumbnail.jpg', version);
    const merged: TransformStep = Object.assign({}, ...plan);
    for (const key of ['eo', 'du', 'vc', 'ac', 'sr'] as const) {
      if (merged[key] !== undefined) throw invalidTransformation(key, 'does not apply to a thumbnail; use so to pick the frame.');
    }
    if (merged.f === 'mp4' || merged.f === 'webm') throw invalidTransformation('f', `a thumbnail is an image; got f-${merged.f}.`);
    const at = merged.so ?? 0;
    timeWindow({ so: at }, version.duration ?? Number.MAX_SAFE_INTEGER);
    const imagePlan = plan.map(({ so: _so, ...rest }) => rest);
    const format = chooseFormat(merged.f ?? 'jpg', accept, 'jpg');
    const key = derivativeKey(version.id, `thumbnail|${printTransformation(plan)}|${format}`, format);
    return this.cached(key, async () => {
      const frame = await withLocalFile(this.store, version.blobKey, (file) =>
        extractVideoFrame(file, {
          ffmpegPath: this.options.ffmpeg.ffmpegPath,
          atSeconds: at,
          limiter: this.options.frameLimiter,
          jpegQScale: 2,
          maxMemoryBytes: this.options.ffmpeg.maxMemoryBytes,
          signal: this.options.ffmpeg.signal,
        }),
      ).catch((e) => Promise.reject(encodingFailed(e)));
      const withFormat = merged.f ? imagePlan : imagePlan.map((s, i) => (i === imagePlan.length - 1 ? { ...s, f: 'jpg' as const } : s));
      const rendered = await renderImage(frame, withFormat, { accept, originalFormat: 'jpg', customCoordinates: null, maxInputPixels: this.options.maxInputPixels, findFaces: this.options.findFaces });
      await this.store.put(key, Readable.from([rendered.data]));
      return { key, mime: rendered.mime };
    });
  }

  /** The token naming one adaptive-stream package: unguessable without the master manifest's URL. */
  streamToken(versionId: string, heights: readonly number[], protocol: StreamProtocol): string {
    return createHmac('sha256', this.options.tokenKey).update(`${versionId}|${heights.join('_')}|${protocol}`).digest('hex').slice(0, 32);
  }

  /** The master manifest of `version` packaged for `protocol` at the plan's `sr` heights (made on first request). */
  async streamMaster(version: FileVersionRow, plan: TransformPlan, protocol: StreamProtocol): Promise<Derivative & { token: string }> {
    if (!isPlayableVideo(version)) throw notAVideo('Adaptive bitrate streaming', version);
    const step = flattenVideoPlan(plan);
    const others = Object.keys(step).filter((k) => k !== 'sr');
    if (!step.sr) throw invalidTransformation('sr', `${MASTER_MANIFEST[protocol]} needs the renditions to make, e.g. tr=sr-240_360_480_720_1080.`);
    if (others.length > 0) throw invalidTransformation(others[0] as string, 'cannot be combined with sr (adaptive streaming).');
    const heights = step.sr;
    for (const rendition of planRenditions(heights, this.sourceOf(version))) assertVideoWithinPixelLimit(rendition, this.options.maxOutputPixels);
    const token = this.streamToken(version.id, heights, protocol);
    const key = streamPackageKey(version.id, token, MASTER_MANIFEST[protocol]);
    const derivative = { key, mime: derivativeMime(key), token };
    await this.cached(key, async () => {
      const folder = streamFolder(version.id, token);
      await withTempDir('render', async (dir) => {
        const names = await withLocalFile(this.store, version.blobKey, (file) =>
          packageAdaptiveStream(this.sourceOf(version, file), heights, protocol, dir, folder, this.options.ffmpeg).catch((e) => Promise.reject(encodingFailed(e))),
        );
        // The master last: once it exists, every file it names does too.
        for (const name of names.filter((n) => n !== MASTER_MANIFEST[protocol])) {
          await this.store.put(streamPackageKey(version.id, token, name), createReadStream(path.join(dir, name)));
        }
        await this.store.put(key, createReadStream(path.join(dir, MASTER_MANIFEST[protocol])));
      });
      return derivative;
    });
    return derivative;
  }

  /** Blob key of one file of a stream package, or `undefined` for a name no package has (masters included: they are served at `<file>/ik-master.*` only). */
  streamFileKey(versionId: string, token: string, name: string): string | undefined {
    if (!/^[a-f0-9]{32}$/.test(token) || !/^[A-Za-z0-9_-]+\.(m3u8|mpd|m4s|mp4)$/.test(name) || !/^[A-Za-z0-9_-]+$/.test(versionId)) return undefined;
    if (Object.values(MASTER_MANIFEST).includes(name)) return undefined;
    return streamPackageKey(versionId, token, name);
  }

  private sourceOf(version: FileVersionRow, file = ''): VideoSource {
    return {
      file,
      width: version.width ?? 1,
      height: version.height ?? 1,
      duration: version.duration ?? Number.MAX_SAFE_INTEGER,
      hasAudio: version.audioCodec !== null,
      frameRate: version.analysis?.frameRate,
      demuxers: DEFAULT_MEDIA_DEMUXERS,
    };
  }

  private async rendered(version: FileVersionRow, plan: TransformPlan, source: VideoSource): Promise<Derivative> {
    const step = flattenVideoPlan(plan);
    const container = videoContainer(step);
    timeWindow(step, source.duration);
    assertVideoPlanWithinLimit(step, source, this.options.maxOutputPixels);
    const key = derivativeKey(version.id, `video|${printTransformation(plan)}`, container);
    return this.cached(key, () =>
      withTempDir('render', async (dir) => {
        const out = path.join(dir, `out.${container}`);
        await withLocalFile(this.store, version.blobKey, (file) => renderVideo(plan, { ...source, file }, out, this.options.ffmpeg)).catch((e) => Promise.reject(encodingFailed(e)));
        await this.store.put(key, createReadStream(out));
        return { key, mime: VIDEO_MIME[container] };
      }),
    );
  }

  private async cached(key: string, make: () => Promise<Derivative>): Promise<Derivative> {
    if (await this.store.stat(key)) return { key, mime: derivativeMime(key) };
    return this.queue.run(key, make);
  }
}

