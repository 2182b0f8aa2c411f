import * as pgSchema from './pg/schema.js';
import * as sqliteSchema from './schema.js';

/**
 * The tables of either dialect, as queries name them (`this.tables.files`). Typed as SQLite's: the PostgreSQL
 * tables have the same names, columns and row types (`test/integration/postgres-schema.test.ts` checks), and drizzle
 * builds each dialect's SQL from the connection it runs on.
 */
export interface Tables {
  files: typeof sqliteSchema.files;
  fileVersions: typeof sqliteSchema.fileVersions;
  folders: typeof sqliteSchema.folders;
  derivatives: typeof sqliteSchema.derivatives;
  customMetadataFields: typeof sqliteSchema.customMetadataFields;
  jobs: typeof sqliteSchema.jobs;
  webhookEndpoints: typeof sqliteSchema.webhookEndpoints;
  webhookDeliveries: typeof sqliteSchema.webhookDeliveries;
  uploadTokens: typeof sqliteSchema.uploadTokens;
}

const pick = (schema: Tables): Tables => ({
  files: schema.files,
  fileVersions: schema.fileVersions,
  folders: schema.folders,
  derivatives: schema.derivatives,
  customMetadataFields: schema.customMetadataFields,
  jobs: schema.jobs,
  webhookEndpoints: schema.webhookEndpoints,
  webhookDeliveries: schema.webhookDeliveries,
  uploadTokens: schema.uploadTokens,
});

export const sqliteTables: Tables = pick(sqliteSchema);

export const postgresTables: Tables = pick(pgSchema as unknown as Tables);
