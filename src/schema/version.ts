import { badRequest, fileNotFound, versionNotFound } from '../errors.js';
import { isObjectId } from '../upload/ids.js';
import { builder } from './builder.js';
import { assertFileId, FileRef } from './file.js';

builder.queryField('fileVersions', (t) =>
  t.field({
    type: [FileRef],
    description: 'Every version of a file, oldest first. Non-current versions have `isCurrentVersion: false` and a `url` that names the version.',
    args: { fileId: t.arg.id({ required: true }) },
    resolve: async (_root, { fileId }, ctx) => {
      assertFileId(String(fileId));
      const versions = await ctx.services.files.listVersions(String(fileId));
      if (!versions) throw fileNotFound();
      return versions;
    },
  }),
);

builder.queryField('fileVersion', (t) =>
  t.field({
    type: FileRef,
    nullable: true,
    description: 'One version of a file.',
    args: { fileId: t.arg.id({ required: true }), versionId: t.arg.id({ required: true }) },
    resolve: async (_root, { fileId, versionId }, ctx) => {
      assertFileId(String(fileId));
      if (!isObjectId(String(versionId))) throw badRequest('versionId', 'Your request contains invalid versionId parameter.');
      const view = await ctx.services.files.findVersion(String(fileId), String(versionId));
      if (!view) {
        if (!(await ctx.services.files.findById(String(fileId)))) throw fileNotFound();
        throw versionNotFound();
      }
      return view;
    },
  }),
);
