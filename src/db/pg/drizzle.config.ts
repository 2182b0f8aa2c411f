import { defineConfig } from 'drizzle-kit';

/** drizzle-kit's configuration for the PostgreSQL migrations (`npm run db:generate:pg`); SQLite's is `../drizzle.config.ts`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg/schema.ts',
  out: './drizzle/postgres',
});
