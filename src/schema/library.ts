import { assertPageSize, parseListPath, type SortKey } from '../library/list-assets.js';
import { parseAssetSort, SORT_KEYS } from '../library/listing-order.js';
import { AssetRef, type AssetValue, assetValue } from './asset.js';
import { builder } from './builder.js';

const SortEnum = builder.enumType('AssetSort', {
  description: 'ImageKit\'s `sort`: ASC_ or DESC_ plus NAME, CREATED, UPDATED, HEIGHT, WIDTH or SIZE. Files without a width or height sort as -1.',
  values: SORT_KEYS.flatMap((k) => [`ASC_${k}`, `DESC_${k}`]) as `${'ASC' | 'DESC'}_${SortKey}`[],
});

const FileTypeFilter = builder.enumType('FileTypeFilter', {
  values: { ALL: { value: 'all' }, IMAGE: { value: 'image' }, NON_IMAGE: { value: 'non-image' } } as const,
});

const AssetListType = builder.enumType('AssetListType', {
  description: 'Which assets to list: FILE (default), FILE_VERSION (non-current versions), FOLDER, or ALL (files and folders, not versions).',
  values: { FILE: { value: 'file' }, FILE_VERSION: { value: 'file-version' }, FOLDER: { value: 'folder' }, ALL: { value: 'all' } } as const,
});

interface PageShape {
  edges: { node: AssetValue; cursor: string }[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  totalCount: () => Promise<number>;
}

const PageInfo = builder.objectRef<PageShape>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.string({ nullable: true, resolve: (p) => p.edges[0]?.cursor ?? null }),
    endCursor: t.string({ nullable: true, resolve: (p) => p.edges[p.edges.length - 1]?.cursor ?? null }),
  }),
});

const AssetEdge = builder.objectRef<{ node: AssetValue; cursor: string }>('AssetEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor'),
    node: t.field({ type: AssetRef, resolve: (e) => e.node }),
  }),
});

const AssetConnection = builder.objectRef<PageShape>('AssetConnection').implement({
  description: 'A page of assets (Relay cursor connection). Pass `pageInfo.endCursor` as `after` for the next page.',
  fields: (t) => ({
    edges: t.field({ type: [AssetEdge], resolve: (p) => p.edges }),
    nodes: t.field({ type: [AssetRef], resolve: (p) => p.edges.map((e) => e.node) }),
    pageInfo: t.field({ type: PageInfo, resolve: (p) => p }),
    totalCount: t.int({ description: 'All matches, not just this page. Counting scans the matches: select it only when needed.', resolve: (p) => p.totalCount() }),
  }),
});

builder.queryField('files', (t) =>
  t.field({
    type: AssetConnection,
    description: 'The media library: files, versions and folders, filtered, searched and sorted, one page at a time.',
    args: {
      path: t.arg.string({ description: 'Only this folder (e.g. "/products"); with `recursive`, its subfolders too. Default: everywhere.' }),
      recursive: t.arg.boolean({ defaultValue: false }),
      fileType: t.arg({ type: FileTypeFilter, defaultValue: 'all' }),
      type: t.arg({ type: AssetListType, defaultValue: 'file' }),
      sort: t.arg({ type: SortEnum, defaultValue: 'ASC_CREATED' }),
      searchQuery: t.arg.string({ description: 'ImageKit\'s search language, e.g. `createdAt > "7d" AND tags IN ["sale"]`.' }),
      first: t.arg.int({ defaultValue: 100, description: '1 to 1000.' }),
      after: t.arg.string({ description: 'A cursor from the previous page.' }),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? 100;
      assertPageSize('first', first);
      const path = parseListPath(args.path);
      const page = await ctx.services.listAssets({
        path,
        recursive: args.recursive ?? false,
        fileType: args.fileType ?? 'all',
        type: args.type ?? 'file',
        sort: parseAssetSort(args.sort ?? 'ASC_CREATED'),
        searchQuery: args.searchQuery ?? null,
        first,
        after: args.after ?? null,
      });
      return {
        edges: page.edges.map((e) => ({ node: assetValue(e.node), cursor: e.cursor })),
        hasNextPage: page.hasNextPage,
        hasPreviousPage: args.after != null,
        totalCount: page.totalCount,
      };
    },
  }),
);

