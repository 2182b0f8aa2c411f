import { signUrl } from '../delivery/signed-url.js';
import { encodeFilePath } from '../delivery/urls.js';
import { badRequest } from '../errors.js';
import { parseTransformation, printTransformation } from '../transform/transform-plan.js';
import { builder } from './builder.js';
import { requireFile } from './file.js';

builder.queryField('signedUrl', (t) =>
  t.string({
    description:
      'A signed delivery URL (ImageKit’s ik-s / ik-t), as ImageKit’s SDKs make them: for private files, optionally with a transformation and an expiry.',
    args: {
      fileId: t.arg.id({ required: true }),
      transformation: t.arg.string({ description: 'e.g. "w-300,h-200"; checked like delivery checks it.' }),
      expireSeconds: t.arg.int({ description: 'Valid for this many seconds from now; without it the URL never expires.' }),
    },
    resolve: (_r, args, ctx) => {
      const view = requireFile(ctx, args.fileId);
      if (args.expireSeconds != null && args.expireSeconds < 1) throw badRequest('expireSeconds', 'expireSeconds must be at least 1.');
      const tr = args.transformation ? printTransformation(parseTransformation(args.transformation)) : undefined;
      const rest = `${tr ? `tr:${tr}/` : ''}${encodeFilePath(view.file.filePath)}`;
      const expiresAt = args.expireSeconds == null ? undefined : Math.floor(Date.now() / 1000) + args.expireSeconds;
      return signUrl(ctx.services.config.urlEndpoint, rest, ctx.apiKey, expiresAt);
    },
  }),
);
