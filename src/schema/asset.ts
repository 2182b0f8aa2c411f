import type { FileView } from '../db/repos/file-repo.js';
import type { FolderRow } from '../db/schema.js';
import type { Asset } from '../library/list-assets.js';
import { builder } from './builder.js';

export const AssetTypeEnum = builder.enumType('AssetType', {
  description: 'ImageKit\'s asset `type`: FILE ("file", a current version), FILE_VERSION ("file-version", a non-current version), FOLDER ("folder").',
  values: { FILE: { value: 'file' }, FILE_VERSION: { value: 'file-version' }, FOLDER: { value: 'folder' } } as const,
});

export type AssetValue = FileView | FolderRow;
export const isFileView = (value: AssetValue): value is FileView => 'version' in value;

/** The fields every asset has, for either backing shape. */
export function assetBasics(value: AssetValue): { type: 'file' | 'file-version' | 'folder'; name: string; createdAt: Date; updatedAt: Date } {
  if (!isFileView(value)) return { type: 'folder', name: value.name, createdAt: value.createdAt, updatedAt: value.updatedAt };
  const current = value.version.id === value.file.currentVersionId;
  return {
    type: current ? 'file' : 'file-version',
    name: value.file.name,
    createdAt: current ? value.file.createdAt : value.version.createdAt,
    updatedAt: value.version.updatedAt,
  };
}

export const AssetRef = builder.interfaceRef<AssetValue>('Asset').implement({
  description: 'A file, a file version or a folder of the media library.',
  fields: (t) => ({
    type: t.field({ type: AssetTypeEnum, resolve: (v) => assetBasics(v).type }),
    name: t.string({ resolve: (v) => assetBasics(v).name }),
    createdAt: t.field({ type: 'DateTime', resolve: (v) => assetBasics(v).createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (v) => assetBasics(v).updatedAt }),
  }),
});

export const assetValue = (asset: Asset): AssetValue => (asset.kind === 'file' ? asset.view : asset.folder);
