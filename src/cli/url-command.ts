import type { StowageClient } from './client.js';
import type { Io } from './io.js';
import { SIGNED_URL, type SignedUrlData } from './operations.js';

export interface UrlOptions {
  transform: string | undefined;
  /** Seconds the URL stays valid; it never expires without it. */
  expires: number | undefined;
}

/** `stowage url <fileId>`: prints a signed delivery URL, e.g. for a private file. @throws CliError from the server. */
export async function runUrl(client: StowageClient, fileId: string, options: UrlOptions, io: Io): Promise<number> {
  const { signedUrl } = await client.request<SignedUrlData>(SIGNED_URL, { fileId, transformation: options.transform, expireSeconds: options.expires });
  io.stdout.write(`${signedUrl}\n`);
  return 0;
}
