import { signUrl } from '../delivery/signed-url.js';
import { encodeFilePath, VERSION_QUERY_PARAM } from '../delivery/urls.js';
import { badRequest, versionNotFound } from '../errors.js';
import { isObjectId } from '../upload/ids.js';
import { parseTransformation, printTransformation } from '../transform/transform-plan.js';
import { builder } from './builder.js';
import { requireFile } from './file.js';

const DeliverySuffix = builder.enumType('DeliverySuffix', {
  description: 'ImageKit\'s URL suffixes that deliver something made from the file rather than the file.',
  values: {
    THUMBNAIL: { value: 'ik-thumbnail.jpg', description: 'A video frame (at `so`), or an image as JPEG.' },
    GIF_VIDEO: { value: 'ik-gif-video.mp4', description: 'A GIF as MP4.' },
    HLS: { value: 'ik-master.m3u8', description: 'The HLS master playlist (needs `sr-…`).' },
    DASH: { value: 'ik-master.mpd', description: 'The DASH manifest (needs `sr-…`).' },
  } as const,
});

builder.queryField('signedUrl', (t) =>
  t.string({
    description:
      'A signed delivery URL (ImageKit’s ik-s / ik-t), as ImageKit’s SDKs make them: for private files, optionally with a transformation, a suffix, a version and an expiry.',
    args: {
      fileId: t.arg.id({ required: true }),
      transformation: t.arg.string({ description: 'e.g. "w-300,h-200"; checked like delivery checks it.' }),
      suffix: t.arg({ type: DeliverySuffix, description: 'Deliver a derivative at `<file>/<suffix>`, e.g. HLS with transformation "sr-240_360".' }),
      versionId: t.arg.id({ description: 'A non-current version (`ik-obj-version`).' }),
      expireSeconds: t.arg.int({ description: 'Valid for this many seconds from now; without it the URL never expires.' }),
    },
    resolve: async (_r, args, ctx) => {
      const view = await requireFile(ctx, args.fileId);
      if (args.expireSeconds != null && args.expireSeconds < 1) throw badRequest('expireSeconds', 'expireSeconds must be at least 1.');
      if (args.versionId != null) {
        if (!isObjectId(String(args.versionId))) throw badRequest('versionId', 'Your request contains invalid versionId parameter.');
        if (!(await ctx.services.files.findVersion(view.file.id, String(args.versionId)))) throw versionNotFound();
      }
      const tr = args.transformation ? printTransformation(parseTransformation(args.transformation)) : undefined;
      const version = args.versionId == null || args.versionId === view.file.currentVersionId ? '' : `?${VERSION_QUERY_PARAM}=${args.versionId}`;
      const rest = `${tr ? `tr:${tr}/` : ''}${encodeFilePath(view.file.filePath)}${args.suffix ? `/${args.suffix}` : ''}${version}`;
      const expiresAt = args.expireSeconds == null ? undefined : Math.floor(Date.now() / 1000) + args.expireSeconds;
      return signUrl(ctx.services.config.urlEndpoint, rest, ctx.apiKey, expiresAt);
    },
  }),
);
