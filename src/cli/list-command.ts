import type { StowageClient } from './client.js';
import { formatBytes } from './format.js';
import type { Io } from './io.js';
import { LIST_FILES, type ListFilesData } from './operations.js';

export interface ListOptions {
  query: string | undefined;
  recursive: boolean;
  json: boolean;
  /** Files asked for per request (1 to 1000). */
  pageSize: number;
}

/**
 * `stowage ls [folder]`: every matching file, page after page, as `fileId  size  path` lines or JSON
 * lines; the folder alone lists its own files, `--recursive` its subfolders' too.
 * @throws CliError from the server (e.g. BAD_REQUEST for an invalid `--query`).
 */
export async function runList(client: StowageClient, folder: string | undefined, options: ListOptions, io: Io): Promise<number> {
  let after: string | null = null;
  do {
    const page: ListFilesData['files'] = (
      await client.request<ListFilesData>(LIST_FILES, { path: folder, recursive: options.recursive, searchQuery: options.query, after, first: options.pageSize })
    ).files;
    for (const file of page.nodes) {
      io.stdout.write(options.json ? `${JSON.stringify(file)}\n` : `${file.fileId}  ${formatBytes(file.size).padStart(8)}  ${file.filePath}\n`);
    }
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after);
  return 0;
}
