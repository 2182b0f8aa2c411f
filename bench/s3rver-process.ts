/**
 * The s3rver side of the benchmark's S3 rows, run as a child process by s3-bench-server.ts (`fork`), so that the
 * test server's own work (parsing each request, md5-hashing and writing every part, concatenating the parts when a
 * multipart upload completes) neither shares the benchmarked process's event loop nor counts in its CPU and RSS
 * figures: like a real S3 endpoint, it runs elsewhere.
 *
 * Arguments: `<directory> <bucket>`. Listens on a free port of 127.0.0.1, sends `{ port }` to the parent over IPC
 * once the bucket exists, and exits when the parent disconnects (which also happens when the parent dies).
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/** The part of s3rver 3.7.1 (untyped) used here. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket || !process.send) {
  process.stderr.write('usage: fork(s3rver-process.ts, [directory, bucket]) with an IPC channel\n');
  process.exit(2);
}

// Whatever happens to the parent, this process must not outlive it.
process.on('disconnect', () => process.exit(0));

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
const { port } = await server.run();
process.send({ port });
