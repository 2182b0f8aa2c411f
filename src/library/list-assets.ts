import type { FileView } from '../db/repos/file-repo.js';
import { AssetListingRepo, type ListingQuery } from '../db/repos/asset-listing-repo.js';
import type { CustomMetadataFieldRow, FolderRow } from '../db/schema.js';
import type { Transactor } from '../db/transactor.js';
import { type AssetType, comparePositions, decodeCursor, encodeCursor, type Position, type SortDirection, type SortKey } from './listing-order.js';
import { parseSearchQuery } from './search/parse-search-query.js';
import { badRequest } from '../errors.js';
import { normalizeFolder } from '../upload/naming.js';

export type { AssetType, SortKey } from './listing-order.js';

export interface ListAssetsOptions {
  /** A normalised folder; `null` lists everywhere. */
  path: string | null;
  recursive: boolean;
  fileType: 'all' | 'image' | 'non-image';
  type: AssetType;
  sort: { key: SortKey; direction: SortDirection };
  searchQuery: string | null;
  first: number;
  after: string | null;
}

/** The most assets one page holds. */
export const MAX_PAGE_SIZE = 1000;

/** @throws BAD_REQUEST (`parameter`) for a page size outside 1 to 1000, with ImageKit's messages. */
export function assertPageSize(parameter: string, value: number): void {
  if (value < 1) throw badRequest(parameter, `Minimum value of ${parameter} parameter is 1. Value sent is ${value}.`);
  if (value > MAX_PAGE_SIZE) throw badRequest(parameter, `Maximum value of ${parameter} parameter is ${MAX_PAGE_SIZE}. Value sent is ${value}.`);
}

/** A listing's folder (`null` when not given: everywhere), normalised. @throws BAD_REQUEST (path) */
export function parseListPath(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  try {
    return normalizeFolder(raw);
  } catch {
    throw badRequest('path', `Your request contains invalid path parameter: "${raw}" is not a folder path.`);
  }
}

export type Asset = { kind: 'file'; view: FileView } | { kind: 'folder'; folder: FolderRow };

export interface AssetPage {
  edges: { node: Asset; cursor: string }[];
  hasNextPage: boolean;
  /** Counts every match (not only this page); costs a scan, so only run when asked. */
  totalCount: () => Promise<number>;
}

/**
 * One page of files, versions and/or folders, in a stable order, with keyset cursors: a page costs the same at
 * any depth, and rows added while paging never shift the pages already read (no duplicates, no gaps). Files and
 * folders are each read from the cursor on, one more than the page, and merged.
 * @throws BAD_REQUEST for a malformed searchQuery or cursor (or a cursor of another sort).
 */
export async function listAssets(
  database: Pick<Transactor, 'reader' | 'tables' | 'dialect'>,
  fields: readonly CustomMetadataFieldRow[],
  options: ListAssetsOptions,
  now = new Date(),
): Promise<AssetPage> {
  const listing = new AssetListingRepo(database);
  const query: ListingQuery = {
    type: options.type,
    path: options.path,
    recursive: options.recursive,
    fileType: options.fileType,
    sort: options.sort,
    search: options.searchQuery?.trim() ? parseSearchQuery(options.searchQuery) : null,
    fields,
    now,
    cursor: options.after ? decodeCursor(options.after, options.sort.key) : null,
    limit: options.first + 1,
  };
  const wantFiles = options.type !== 'folder';
  const wantFolders = options.type === 'folder' || options.type === 'all';

  const positioned: { position: Position; node: Asset }[] = [];
  if (wantFiles) for (const { position, view } of await listing.files(query)) positioned.push({ position, node: { kind: 'file', view } });
  if (wantFolders) for (const { position, folder } of await listing.folders(query)) positioned.push({ position, node: { kind: 'folder', folder } });
  const descending = options.sort.direction === 'DESC';
  positioned.sort((a, b) => (descending ? -1 : 1) * comparePositions(a.position, b.position));
  const page = positioned.slice(0, options.first);

  return {
    edges: page.map(({ node, position }) => ({ node, cursor: encodeCursor(position) })),
    hasNextPage: positioned.length > options.first,
    totalCount: async () => {
      const [fileCount, folderCount] = await Promise.all([wantFiles ? listing.countFiles(query) : 0, wantFolders ? listing.countFolders(query) : 0]);
      return fileCount + folderCount;
    },
  };
}
