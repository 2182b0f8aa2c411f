import type { FolderRow } from '../db/schema.js';
import { AssetRef, type AssetValue, isFileView } from './asset.js';
import { builder } from './builder.js';

export const FolderRef = builder.objectRef<FolderRow>('Folder').implement({
  interfaces: [AssetRef],
  isTypeOf: (value) => !isFileView(value as AssetValue),
  description: 'A folder, as ImageKit lists it.',
  fields: (t) => ({
    folderId: t.exposeID('id'),
    folderPath: t.exposeString('folderPath', { description: 'With a leading slash, e.g. "/products/shoes".' }),
    customMetadata: t.field({ type: 'JSONObject', resolve: () => ({}), description: 'Always `{}`: folders carry no custom metadata yet.' }),
  }),
});
