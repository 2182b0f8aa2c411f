import { describeError, failsEveryRequest } from './cli-error.js';
import type { StowageClient } from './client.js';
import type { Io } from './io.js';
import { DELETE_FILE, type DeleteFileData } from './operations.js';

/**
 * `stowage rm <fileId...>`: deletes each file with all its versions, printing `deleted <fileId>`; a file
 * that cannot be deleted is reported and the others still are, unless the server is unreachable or refuses
 * the key.
 * @returns 1 when any deletion failed, else 0.
 */
export async function runRemove(client: StowageClient, fileIds: readonly string[], io: Io): Promise<number> {
  let exitCode = 0;
  for (const fileId of fileIds) {
    try {
      await client.request<DeleteFileData>(DELETE_FILE, { fileId });
      io.stdout.write(`deleted ${fileId}\n`);
    } catch (error) {
      if (failsEveryRequest(error)) throw error;
      io.stderr.write(`error: ${fileId}: ${describeError(error)}\n`);
      exitCode = 1;
    }
  }
  return exitCode;
}
