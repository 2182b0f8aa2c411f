import { assertFileIds, assertVersionId, MAX_BULK_DELETE } from '../library/file-lookup.js';
import type { FolderOperationResult as FolderOperationResultValue } from '../library/file-manager.js';
import { parseExtensions } from '../extensions/extension-request.js';
import { parseWebhookUrl } from '../upload/request.js';
import { builder } from './builder.js';
import { ExtensionInput, extensionSpecsOf } from './extensions.js';
import { assertFileId, FileRef } from './file.js';
import { FolderRef } from './folder.js';

const PublishInput = builder.inputType('PublishInput', {
  fields: (t) => ({
    isPublished: t.boolean({ required: true }),
    includeFileVersions: t.boolean({ defaultValue: false, description: 'Apply to every version, not only the current one.' }),
  }),
});

builder.mutationField('updateFileDetails', (t) =>
  t.field({
    type: FileRef,
    description:
      'Changes the current version\'s tags, customCoordinates, customMetadata (a key set to null is removed) or description; or, alone, publishes/unpublishes. An argument left out is left unchanged; null removes.',
    args: {
      fileId: t.arg.id({ required: true }),
      tags: t.arg.stringList({ description: 'Replaces the tags; null removes them all.' }),
      customCoordinates: t.arg.string(),
      customMetadata: t.arg({ type: 'JSONObject', description: 'Merged into the current values; a key set to null is removed.' }),
      description: t.arg.string(),
      publish: t.arg({ type: PublishInput, description: 'Cannot be combined with the other changes.' }),
      removeAITags: t.arg.stringList({ description: 'AI tag names to remove before extensions run; ["all"] removes every AI tag.' }),
      extensions: t.arg({ type: [ExtensionInput], description: 'Extensions to run on the current version, as on upload.' }),
      webhookUrl: t.arg.string({ description: 'Receives each pending extension\'s final status.' }),
    },
    resolve: (_r, args, ctx) => {
      assertFileId(String(args.fileId));
      const { fileId, extensions, webhookUrl, ...patch } = args;
      return ctx.services.manager.updateDetails(String(fileId), {
        ...patch,
        extensions: extensions ? parseExtensions(extensionSpecsOf(extensions) ?? []) : null,
        webhookUrl: parseWebhookUrl(webhookUrl),
      });
    },
  }),
);

builder.mutationField('deleteFile', (t) =>
  t.id({
    description: 'Deletes the file, all its versions and their bytes. Returns the fileId.',
    args: { fileId: t.arg.id({ required: true }) },
    resolve: async (_r, { fileId }, ctx) => {
      assertFileId(String(fileId));
      await ctx.services.manager.deleteFile(String(fileId));
      return fileId;
    },
  }),
);

const BulkDeleteResult = builder.objectRef<{ successfulFileIds: string[]; missingFileIds: string[] }>('BulkDeleteResult').implement({
  description: 'Per-id outcome of a bulk delete (ImageKit\'s 207 partial success).',
  fields: (t) => ({
    successfullyDeletedFileIds: t.idList({ resolve: (r) => r.successfulFileIds }),
    missingFileIds: t.idList({ resolve: (r) => r.missingFileIds }),
  }),
});

builder.mutationField('deleteFiles', (t) =>
  t.field({
    type: BulkDeleteResult,
    description: 'Deletes every existing file among the ids; ids that do not exist are reported, not fatal.',
    args: { fileIds: t.arg.idList({ required: true }) },
    resolve: (_r, { fileIds }, ctx) => {
      assertFileIds(fileIds.map(String), MAX_BULK_DELETE);
      return ctx.services.manager.deleteFiles(fileIds.map(String));
    },
  }),
);

builder.mutationField('restoreFileVersion', (t) =>
  t.field({
    type: FileRef,
    description: 'Makes an older version the current one.',
    args: { fileId: t.arg.id({ required: true }), versionId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => {
      assertFileId(String(args.fileId));
      assertVersionId(String(args.versionId));
      return ctx.services.manager.restoreVersion(String(args.fileId), String(args.versionId));
    },
  }),
);

builder.mutationField('deleteFileVersion', (t) =>
  t.id({
    description: 'Deletes a non-current version and its bytes. Returns the versionId.',
    args: { fileId: t.arg.id({ required: true }), versionId: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      assertFileId(String(args.fileId));
      assertVersionId(String(args.versionId));
      await ctx.services.manager.deleteVersion(String(args.fileId), String(args.versionId));
      return args.versionId;
    },
  }),
);

builder.mutationField('renameFile', (t) =>
  t.field({
    type: FileRef,
    description: 'Renames a file in place; the new name is sanitised like an upload\'s fileName.',
    args: { filePath: t.arg.string({ required: true }), newFileName: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.manager.rename(args.filePath, args.newFileName),
  }),
);

builder.mutationField('moveFile', (t) =>
  t.field({
    type: FileRef,
    description: 'Moves a file (all its versions) into another folder, created if missing.',
    args: { sourceFilePath: t.arg.string({ required: true }), destinationPath: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.manager.move(args.sourceFilePath, args.destinationPath),
  }),
);

builder.mutationField('copyFile', (t) =>
  t.field({
    type: FileRef,
    description:
      'Copies a file into a folder (created if missing), keeping its name: its current version, or with `includeFileVersions` every version. Returns the copy, a new file with its own bytes; when the folder has a file of that name, the copied versions become its newest versions instead.',
    args: {
      sourceFilePath: t.arg.string({ required: true }),
      destinationPath: t.arg.string({ required: true, description: 'The folder to copy into.' }),
      includeFileVersions: t.arg.boolean({ defaultValue: false, description: 'Copy every version, not only the current one (which stays current).' }),
    },
    resolve: (_r, args, ctx) => ctx.services.manager.copyFile(args.sourceFilePath, args.destinationPath, args.includeFileVersions ?? false),
  }),
);

const TagsResult = builder.objectRef<string[]>('BulkTagsResult').implement({
  fields: (t) => ({ successfullyUpdatedFileIds: t.idList({ resolve: (ids) => ids }) }),
});

for (const [name, mode, description] of [
  ['addTags', 'add', 'Adds tags to every file; all or nothing.'],
  ['removeTags', 'remove', 'Removes tags from every file; all or nothing.'],
] as const) {
  builder.mutationField(name, (t) =>
    t.field({
      type: TagsResult,
      description,
      args: { fileIds: t.arg.idList({ required: true }), tags: t.arg.stringList({ required: true }) },
      resolve: (_r, args, ctx) => {
        for (const id of args.fileIds) assertFileId(String(id));
        return ctx.services.manager.changeTags(args.fileIds.map(String), args.tags, mode);
      },
    }),
  );
}

builder.mutationField('removeAITags', (t) =>
  t.field({
    type: TagsResult,
    description: 'Removes AI tags, by name, from every file; all or nothing.',
    args: { fileIds: t.arg.idList({ required: true }), AITags: t.arg.stringList({ required: true }) },
    resolve: (_r, args, ctx) => {
      for (const id of args.fileIds) assertFileId(String(id));
      return ctx.services.manager.removeAITags(args.fileIds.map(String), args.AITags);
    },
  }),
);

builder.mutationField('createFolder', (t) =>
  t.field({
    type: FolderRef,
    description: 'Creates a folder (and missing parents). Creating a folder that exists returns it.',
    args: { folderName: t.arg.string({ required: true }), parentFolderPath: t.arg.string({ defaultValue: '/' }) },
    resolve: (_r, args, ctx) => ctx.services.manager.createFolder(args.folderName, args.parentFolderPath),
  }),
);

const DeleteFolderResult = builder.objectRef<{ deletedFiles: number; deletedFolders: number }>('DeleteFolderResult').implement({
  fields: (t) => ({ deletedFiles: t.exposeInt('deletedFiles'), deletedFolders: t.exposeInt('deletedFolders') }),
});

builder.mutationField('deleteFolder', (t) =>
  t.field({
    type: DeleteFolderResult,
    description: 'Deletes a folder; a non-empty folder only with `recursive: true`, which deletes everything in it.',
    args: { folderPath: t.arg.string({ required: true }), recursive: t.arg.boolean({ defaultValue: false }) },
    resolve: (_r, args, ctx) => ctx.services.manager.deleteFolder(args.folderPath, args.recursive ?? false),
  }),
);

const FolderOperationResult = builder.objectRef<FolderOperationResultValue>('FolderOperationResult').implement({
  description: 'What a folder copy, move or rename did. It is done when the mutation answers (ImageKit runs these as bulk jobs).',
  fields: (t) => ({
    folderPath: t.exposeString('folderPath', { description: 'Where the folder is now (for a copy: where the copy is).' }),
    files: t.exposeInt('files', { description: 'Files in it, subfolders included.' }),
    folders: t.exposeInt('folders', { description: 'Folders: itself and every subfolder.' }),
  }),
});

builder.mutationField('copyFolder', (t) =>
  t.field({
    type: FolderOperationResult,
    description: 'Copies a folder with its subfolders and files into `destinationPath` (`/a/b` into `/x` gives `/x/b`); each file as `copyFile` copies it.',
    args: {
      sourceFolderPath: t.arg.string({ required: true }),
      destinationPath: t.arg.string({ required: true }),
      includeVersions: t.arg.boolean({ defaultValue: false, description: 'Copy every version of each file, not only the current one.' }),
    },
    resolve: (_r, args, ctx) => ctx.services.manager.copyFolder(args.sourceFolderPath, args.destinationPath, args.includeVersions ?? false),
  }),
);

builder.mutationField('moveFolder', (t) =>
  t.field({
    type: FolderOperationResult,
    description: 'Moves a folder with its subfolders and files (all versions) into `destinationPath` (`/a/b` into `/x` gives `/x/b`, merged into an existing one); all or nothing.',
    args: { sourceFolderPath: t.arg.string({ required: true }), destinationPath: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.manager.moveFolder(args.sourceFolderPath, args.destinationPath),
  }),
);

builder.mutationField('renameFolder', (t) =>
  t.field({
    type: FolderOperationResult,
    description: 'Renames a folder in place; its files and subfolders move with it. Characters other than letters, numerals, `_` and `-` in the name become `_`.',
    args: { folderPath: t.arg.string({ required: true }), newFolderName: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.manager.renameFolder(args.folderPath, args.newFolderName),
  }),
);

builder.queryField('folders', (t) =>
  t.field({
    type: [FolderRef],
    description: 'The folders directly inside `path`, by name.',
    args: { path: t.arg.string({ defaultValue: '/' }) },
    resolve: (_r, args, ctx) => ctx.services.folders(args.path ?? '/'),
  }),
);
