import os from 'node:os';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { PostgresStartError } from './db/pg/client.js';
import { RedisStartError } from './events/redis-event-bus.js';

// Files Stowage creates are its own: modes are also set explicitly, this covers what libraries create.
process.umask(0o077);

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

/** The one line a person needs when the server cannot bind its address, or undefined for any other failure. */
function listenFailure(error: unknown, host: string, port: number): string | undefined {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  if (code === 'EADDRINUSE') return `Port ${port} on ${host} is already in use; set PORT to another port.`;
  if (code === 'EACCES') return `Not allowed to listen on port ${port} on ${host}; set PORT to a port above 1023.`;
  if (code === 'EADDRNOTAVAIL') return `Address ${host} does not belong to this machine; set HOST to one of its addresses, or 0.0.0.0.`;
  return undefined;
}

let app: Awaited<ReturnType<typeof createApp>>;
try {
  app = await createApp(config);
} catch (error) {
  // PostgreSQL or Redis unreachable, or a migration failed: already one line that names the server, not its password.
  if (!(error instanceof PostgresStartError || error instanceof RedisStartError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
let address: string;
try {
  address = await app.listen();
} catch (error) {
  const line = listenFailure(error, config.host, config.port);
  if (!line) throw error;
  process.stderr.write(`${line}\n`);
  process.exit(1);
}
const metadata = config.database.kind === 'postgres' ? `, metadata in PostgreSQL schema ${config.database.schema}` : '';
process.stderr.write(`Stowage listening on ${address}; GraphiQL at ${config.urlEndpoint}/graphql, files under ${config.urlEndpoint}/ (data in ${config.dataDir}${metadata})\n`);

/** The exit code of a process ended by `signal`, as shells report it: 128 + the signal's number (SIGTERM: 143). */
const signalExitCode = (signal: NodeJS.Signals) => 128 + (os.constants.signals[signal] ?? 0);

// The first signal shuts down gracefully (STOWAGE_SHUTDOWN_TIMEOUT_MS at most); a second one exits at once.
let shuttingDown = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (shuttingDown) {
    process.stderr.write(`Received ${signal} again while shutting down: exiting now, cutting the work still in flight.\n`);
    process.exit(signalExitCode(signal));
  }
  shuttingDown = true;
  app.close({ reason: signal }).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`Shutdown failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, onSignal);
