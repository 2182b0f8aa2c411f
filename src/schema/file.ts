import type { FileView } from '../db/repos/file-repo.js';
import type { AITag } from '../db/schema.js';
import { fileUrl, thumbnailUrl } from '../delivery/urls.js';
import { assertFileId, requireFile as requireFileIn } from '../library/file-lookup.js';
import { AssetRef, type AssetValue, isFileView } from './asset.js';
import type { Context } from '../http/context.js';
import { builder } from './builder.js';

export const FileTypeEnum = builder.enumType('FileType', {
  description: 'ImageKit\'s `fileType`: `IMAGE` is ImageKit\'s "image", `NON_IMAGE` its "non-image" (video, PDF, text…). Decided from the bytes.',
  values: { IMAGE: { value: 'image' }, NON_IMAGE: { value: 'non-image' } } as const,
});

const VersionInfo = builder.objectRef<{ id: string; number: number }>('VersionInfo').implement({
  description: 'Which version of the file this is. Version 1\'s id equals the fileId.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.string({ description: '"Version N"', resolve: (v) => `Version ${v.number}` }),
  }),
});

const AITagRef = builder.objectRef<AITag>('AITag').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    confidence: t.exposeFloat('confidence', { description: '0 to 100, two decimals.' }),
    source: t.exposeString('source', { description: 'The extension that produced the tag, e.g. "google-auto-tagging".' }),
  }),
});

export const FileRef = builder.objectRef<FileView>('File').implement({
  interfaces: [AssetRef],
  isTypeOf: (value) => isFileView(value as AssetValue),
  description: 'A stored file, shaped like ImageKit\'s upload response and file details. Fields describe the version looked at (the current one unless a version was asked for).',
  fields: (t) => ({
    fileId: t.id({ resolve: (v) => v.file.id, description: '24 hex characters; stable across versions.' }),
    filePath: t.string({ resolve: (v) => v.file.filePath, description: 'Folder plus name, with a leading slash.' }),
    size: t.float({ resolve: (v) => v.version.size, description: 'Bytes.' }),
    versionInfo: t.field({ type: VersionInfo, resolve: (v) => ({ id: v.version.id, number: v.version.number }) }),
    fileType: t.field({ type: FileTypeEnum, resolve: (v) => v.version.fileType }),
    mime: t.string({ resolve: (v) => v.version.mime, description: 'Detected from the bytes, never taken from the client.' }),
    width: t.int({ nullable: true, resolve: (v) => v.version.width, description: 'Displayed width (EXIF orientation applied); images only.' }),
    height: t.int({ nullable: true, resolve: (v) => v.version.height, description: 'Displayed height; images only.' }),
    url: t.string({ resolve: (v, _a, ctx) => fileUrl(ctx.services.config.urlEndpoint, v) }),
    thumbnailUrl: t.string({ nullable: true, resolve: (v, _a, ctx) => thumbnailUrl(ctx.services.config.urlEndpoint, v), description: 'Images only.' }),
    tags: t.stringList({ nullable: true, resolve: (v) => (v.version.tags?.length ? v.version.tags : null), description: '`null` when there are none, as on ImageKit.' }),
    AITags: t.field({ type: [AITagRef], nullable: true, resolve: (v) => (v.version.aiTags?.length ? v.version.aiTags : null) }),
    isPrivateFile: t.boolean({ resolve: (v) => v.version.isPrivateFile }),
    isPublished: t.boolean({ resolve: (v) => v.version.isPublished }),
    customCoordinates: t.string({ nullable: true, resolve: (v) => v.version.customCoordinates, description: '"x,y,width,height"' }),
    description: t.string({ nullable: true, resolve: (v) => v.version.description }),
    customMetadata: t.field({ type: 'JSONObject', resolve: (v) => v.version.customMetadata ?? {}, description: '`{}` when none.' }),
    isCurrentVersion: t.boolean({ resolve: (v) => v.version.id === v.file.currentVersionId }),
  }),
});

export { assertFileId };

/** The file (current version) with this id. @throws BAD_REQUEST for a malformed id, NOT_FOUND when there is none. */
export const requireFile = (ctx: Context, fileId: string | number): Promise<FileView> => requireFileIn(ctx.services.files, String(fileId));

builder.queryField('file', (t) =>
  t.field({
    type: FileRef,
    nullable: true,
    description: 'One file by id, as its current version.',
    args: { fileId: t.arg.id({ required: true }) },
    resolve: (_root, { fileId }, ctx) => requireFile(ctx, fileId),
  }),
);
