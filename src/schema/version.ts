import { requireVersion, requireVersions } from '../library/file-lookup.js';
import { builder } from './builder.js';
import { FileRef } from './file.js';

builder.queryField('fileVersions', (t) =>
  t.field({
    type: [FileRef],
    description: 'Every version of a file, oldest first. Non-current versions have `isCurrentVersion: false` and a `url` that names the version.',
    args: { fileId: t.arg.id({ required: true }) },
    resolve: (_root, { fileId }, ctx) => requireVersions(ctx.services.files, String(fileId)),
  }),
);

builder.queryField('fileVersion', (t) =>
  t.field({
    type: FileRef,
    nullable: true,
    description: 'One version of a file.',
    args: { fileId: t.arg.id({ required: true }), versionId: t.arg.id({ required: true }) },
    resolve: (_root, { fileId, versionId }, ctx) => requireVersion(ctx.services.files, String(fileId), String(versionId)),
  }),
);
