import { hammingDistance } from '../analysis/phash.js';
import type { FileView } from '../db/repos/file-repo.js';
import { builder } from './builder.js';
import { FileRef, requireFile } from './file.js';

/** ImageKit's legacy `metadata` object of one version. */
export const FileMetadataRef = builder.objectRef<FileView>('FileMetadata').implement({
  description: 'ImageKit\'s legacy metadata: image properties, raw EXIF groups, the perceptual hash, and video/audio properties.',
  fields: (t) => ({
    height: t.int({ nullable: true, resolve: (v) => v.version.height }),
    width: t.int({ nullable: true, resolve: (v) => v.version.width }),
    size: t.float({ resolve: (v) => v.version.size }),
    format: t.string({ nullable: true, resolve: (v) => v.version.format, description: 'e.g. "jpg", "png", "heic", "mp4".' }),
    hasColorProfile: t.boolean({ resolve: (v) => v.version.analysis?.hasColorProfile ?? false }),
    quality: t.int({ resolve: (v) => v.version.analysis?.quality ?? 0, description: 'Estimated JPEG quality (1-100); 0 when not derivable.' }),
    density: t.int({ nullable: true, resolve: (v) => v.version.analysis?.density ?? null, description: 'Pixels per inch, when the file states it.' }),
    hasTransparency: t.boolean({ resolve: (v) => v.version.hasTransparency ?? false }),
    pHash: t.string({ nullable: true, resolve: (v) => v.version.pHash, description: '64-bit DCT perceptual hash, 16 hex characters (images).' }),
    isAnimated: t.boolean({ resolve: (v) => v.version.analysis?.isAnimated ?? false }),
    exif: t.field({
      type: 'JSONObject',
      resolve: (v) => v.version.analysis?.exif ?? { image: {}, thumbnail: {}, exif: {}, gps: {}, interoperability: {}, makernote: {} },
      description: 'Raw EXIF tags by group: image, thumbnail, exif, gps, interoperability, makernote.',
    }),
    duration: t.float({ nullable: true, resolve: (v) => v.version.duration, description: 'Seconds (video/audio).' }),
    bitRate: t.float({ nullable: true, resolve: (v) => v.version.bitRate, description: 'Bits per second (video/audio).' }),
    videoCodec: t.string({ nullable: true, resolve: (v) => v.version.videoCodec }),
    audioCodec: t.string({ nullable: true, resolve: (v) => v.version.audioCodec }),
    frameRate: t.float({ nullable: true, resolve: (v) => v.version.analysis?.frameRate ?? null }),
  }),
});

builder.objectFields(FileRef, (t) => ({
  embeddedMetadata: t.field({ type: 'JSONObject', resolve: (v) => v.version.embeddedMetadata ?? {}, description: 'EXIF, IPTC and XMP merged into one flat object (`{}` when none).' }),
  metadata: t.field({ type: FileMetadataRef, resolve: (v) => v, description: 'ImageKit\'s legacy metadata object.' }),
  hasAlpha: t.boolean({ resolve: (v) => v.version.hasTransparency ?? false, description: 'Whether the image has transparent pixels.' }),
  duration: t.float({ nullable: true, resolve: (v) => v.version.duration, description: 'Seconds (video/audio).' }),
  bitRate: t.float({ nullable: true, resolve: (v) => v.version.bitRate, description: 'Bits per second (video/audio).' }),
  videoCodec: t.string({ nullable: true, resolve: (v) => v.version.videoCodec }),
  audioCodec: t.string({ nullable: true, resolve: (v) => v.version.audioCodec }),
}));

builder.queryField('fileMetadata', (t) =>
  t.field({
    type: FileMetadataRef,
    nullable: true,
    description: 'The legacy metadata of a file\'s current version (ImageKit\'s GET /files/{fileId}/metadata).',
    args: { fileId: t.arg.id({ required: true }) },
    resolve: (_r, { fileId }, ctx) => requireFile(ctx, fileId),
  }),
);

const SimilarFile = builder.objectRef<{ view: FileView; distance: number }>('SimilarFile').implement({
  fields: (t) => ({
    file: t.field({ type: FileRef, resolve: (s) => s.view }),
    distance: t.exposeInt('distance', { description: 'Hamming distance between the perceptual hashes (0-64; 0 = same picture).' }),
  }),
});

const Duplicates = builder.objectRef<{ exact: FileView[]; similar: { view: FileView; distance: number }[] }>('Duplicates').implement({
  fields: (t) => ({
    exact: t.field({ type: [FileRef], resolve: (d) => d.exact, description: 'Other files with byte-identical content (same SHA-256).' }),
    similar: t.field({ type: [SimilarFile], resolve: (d) => d.similar, description: 'Other images whose perceptual hash is within maxDistance, closest first.' }),
  }),
});

builder.queryField('duplicates', (t) =>
  t.field({
    type: Duplicates,
    description: 'Exact duplicates (same bytes) and near duplicates (similar pictures) of a file among current files.',
    args: {
      fileId: t.arg.id({ required: true }),
      maxDistance: t.arg.int({ defaultValue: 10, description: 'Largest Hamming distance (0-64) that counts as similar.' }),
    },
    resolve: async (_r, args, ctx) => {
      const view = await requireFile(ctx, args.fileId);
      const maxDistance = Math.max(0, Math.min(64, args.maxDistance ?? 10));
      const exact = view.version.sha256 ? (await ctx.services.files.findCurrentBySha256(view.version.sha256)).filter((v) => v.file.id !== view.file.id) : [];
      const pHash = view.version.pHash;
      const nearest = pHash
        ? (await ctx.services.files.listCurrentPHashes())
            .filter((c) => c.fileId !== view.file.id)
            .map((c) => ({ fileId: c.fileId, distance: hammingDistance(pHash, c.pHash) }))
            .filter((c) => c.distance <= maxDistance)
            .sort((a, b) => a.distance - b.distance)
            .slice(0, 100)
        : [];
      const found = await Promise.all(nearest.map(async (c) => ({ view: await ctx.services.files.findById(c.fileId), distance: c.distance })));
      const similar = found.flatMap((c) => (c.view ? [{ view: c.view, distance: c.distance }] : []));
      return { exact, similar };
    },
  }),
);

