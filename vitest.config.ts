import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // Node loads graphql's CommonJS build for Pothos and Yoga; Vite would pick the ESM build for our own
  // imports, and two graphql instances cannot share a schema. Point both at the same file.
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // With STOWAGE_TEST_DATABASE_URL set, the run gets a PostgreSQL database of its own (see the file).
    globalSetup: ['test/setup/postgres-run-database.ts'],
  },
});
