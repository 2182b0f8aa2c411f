import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/**
 * The blob store `config` selects: the S3 bucket when `STOWAGE_S3_BUCKET` is set (credentials from the AWS SDK's
 * default chain, checksums as the SDK defaults them), else `blobs/` in the data directory.
 */
export function openBlobStore(config: Config): BlobStore {
  const s3 = config.blobStore;
  if (s3.kind === 'local') return new LocalBlobStore(path.join(config.dataDir, 'blobs'));
  const client = new S3Client({ region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle });
  return new S3BlobStore({ client, bucket: s3.bucket, prefix: s3.prefix });
}
