import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

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

const app = await createApp(config);
const address = await app.listen();
process.stderr.write(`Stowage listening on ${address}; GraphiQL at ${config.urlEndpoint}/graphql, files under ${config.urlEndpoint}/ (data in ${config.dataDir})\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
