import { sql } from 'drizzle-orm';
import { bigint, boolean, customType, doublePrecision, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { AITag, CustomFieldSchema, ExtensionState, StoredAnalysis, WebhookAttempt } from '../schema.js';

/**
 * The PostgreSQL schema: the tables, columns, keys and indexes of `src/db/schema.ts` (SQLite) under the same names,
 * in the types `src/db/dialect/postgres.ts` writes its SQL for: `jsonb` documents, `timestamptz` times, `boolean`
 * flags, and byte-ordered (`COLLATE "C"`) text wherever rows are sorted, compared by range or joined by id, so
 * orders and keyset cursors agree with SQLite's BINARY collation. Counts of bytes and Unix-millisecond instants
 * are `bigint` (read as numbers): they outgrow `integer`'s 2^31.
 */

/** Text that compares and sorts by bytes, as SQLite's default BINARY collation does. */
const bytewiseText = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' });

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => instant('created_at').notNull();
const updatedAt = () => instant('updated_at').notNull();
const millis = (name: string) => bigint(name, { mode: 'number' });

/** One row per stored path; its attributes live on the current version. */
export const files = pgTable(
  'files',
  {
    id: bytewiseText('id').primaryKey(),
    filePath: bytewiseText('file_path').notNull(),
    folderPath: bytewiseText('folder_path').notNull(),
    name: bytewiseText('name').notNull(),
    currentVersionId: bytewiseText('current_version_id').notNull(),
    /** Highest version number ever assigned; numbers are never reused. */
    versionCounter: integer('version_counter').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('files_file_path_idx').on(t.filePath), index('files_folder_path_idx').on(t.folderPath, t.name)],
);

/** Every version of a file: see `fileVersions` in `src/db/schema.ts`. */
export const fileVersions = pgTable(
  'file_versions',
  {
    id: bytewiseText('id').primaryKey(),
    fileId: bytewiseText('file_id')
      .notNull()
      .references(() => files.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    isCurrent: boolean('is_current').notNull().default(false),
    folderPath: bytewiseText('folder_path').notNull().default('/'),
    name: bytewiseText('name').notNull().default(''),
    fileCreatedAt: instant('file_created_at').notNull().default(sql`to_timestamp(0)`),
    blobKey: text('blob_key').notNull(),
    size: millis('size').notNull(),
    mime: text('mime').notNull(),
    /** ImageKit's `format`: the detected type's usual extension (`jpg`, `png`, `mp4`…). */
    format: text('format'),
    hasTransparency: boolean('has_transparency'),
    fileType: text('file_type', { enum: ['image', 'non-image'] }).notNull(),
    width: integer('width'),
    height: integer('height'),
    tags: jsonb('tags').$type<string[]>(),
    aiTags: jsonb('ai_tags').$type<AITag[]>(),
    customCoordinates: text('custom_coordinates'),
    description: text('description'),
    customMetadata: jsonb('custom_metadata').$type<Record<string, unknown>>(),
    sha256: text('sha256'),
    pHash: text('phash'),
    analysis: jsonb('analysis').$type<StoredAnalysis>(),
    duration: doublePrecision('duration'),
    bitRate: bigint('bit_rate', { mode: 'number' }),
    videoCodec: text('video_codec'),
    audioCodec: text('audio_codec'),
    extensionStatus: jsonb('extension_status').$type<Record<string, ExtensionState>>(),
    embeddedMetadata: jsonb('embedded_metadata').$type<Record<string, unknown>>(),
    isPrivateFile: boolean('is_private_file').notNull(),
    isPublished: boolean('is_published').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('file_versions_file_id_number_idx').on(t.fileId, t.number),
    index('file_versions_current_folder_name_idx').on(t.isCurrent, t.folderPath, t.name, t.id),
    index('file_versions_current_name_idx').on(t.isCurrent, t.name, t.id),
    index('file_versions_current_file_created_at_idx').on(t.isCurrent, t.fileCreatedAt, t.id),
    index('file_versions_current_updated_at_idx').on(t.isCurrent, t.updatedAt, t.id),
    index('file_versions_current_size_idx').on(t.isCurrent, t.size, t.id),
    index('file_versions_current_width_idx').on(t.isCurrent, sql`coalesce(${t.width}, -1)`, t.id),
    index('file_versions_current_height_idx').on(t.isCurrent, sql`coalesce(${t.height}, -1)`, t.id),
    index('file_versions_sha256_idx').on(t.sha256),
  ],
);

/** The derivative cache's ledger: see `derivatives` in `src/db/schema.ts`. */
export const derivatives = pgTable(
  'derivatives',
  {
    key: text('key').primaryKey(),
    entry: text('entry').notNull(),
    versionId: bytewiseText('version_id')
      .notNull()
      .references(() => fileVersions.id, { onDelete: 'cascade' }),
    bytes: millis('bytes').notNull(),
    /** Unix milliseconds of the last store or cache hit. */
    lastUsedAt: millis('last_used_at').notNull(),
  },
  (t) => [index('derivatives_entry_idx').on(t.entry), index('derivatives_version_id_idx').on(t.versionId)],
);

/** Typed custom metadata fields. Names are never reused. */
export const customMetadataFields = pgTable(
  'custom_metadata_fields',
  {
    id: bytewiseText('id').primaryKey(),
    name: bytewiseText('name').notNull(),
    label: text('label').notNull(),
    schema: jsonb('schema').$type<CustomFieldSchema>().notNull(),
    description: text('description'),
    isDeleted: boolean('is_deleted').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('custom_metadata_fields_name_idx').on(t.name)],
);

export const folders = pgTable(
  'folders',
  {
    id: bytewiseText('id').primaryKey(),
    folderPath: bytewiseText('folder_path').notNull(),
    name: bytewiseText('name').notNull(),
    parentPath: bytewiseText('parent_path').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('folders_folder_path_idx').on(t.folderPath), index('folders_parent_path_idx').on(t.parentPath)],
);

/** The durable job queue. */
export const jobs = pgTable(
  'jobs',
  {
    id: bytewiseText('id').primaryKey(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['pending', 'running', 'done', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    /** Unix milliseconds, as on SQLite: the queue schedules by its clock's numbers. */
    runAt: millis('run_at').notNull(),
    leaseUntil: millis('lease_until'),
    lastError: text('last_error'),
    requestId: text('request_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('jobs_kind_status_run_at_idx').on(t.kind, t.status, t.runAt)],
);

/** Account-level webhook endpoints. */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: bytewiseText('id').primaryKey(),
  url: text('url').notNull(),
  /** Event types delivered; `null` means all. */
  events: jsonb('events').$type<string[]>(),
  createdAt: createdAt(),
});

/** The webhook outbox: one row per event and destination, kept with its attempts. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bytewiseText('id').primaryKey(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    url: text('url').notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    attempts: jsonb('attempts').$type<WebhookAttempt[]>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('webhook_deliveries_created_at_idx').on(t.createdAt)],
);

/** Used client-side upload tokens: see `uploadTokens` in `src/db/schema.ts`. */
export const uploadTokens = pgTable(
  'upload_tokens',
  {
    token: text('token').primaryKey(),
    /** Unix milliseconds: the upload's `expire`. */
    expiresAt: millis('expires_at').notNull(),
  },
  (t) => [index('upload_tokens_expires_at_idx').on(t.expiresAt)],
);
