import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const createdAt = () => integer('created_at', { mode: 'timestamp_ms' }).notNull();
const updatedAt = () => integer('updated_at', { mode: 'timestamp_ms' }).notNull();

/** One row per stored path; its attributes live on the current version. */
export const files = sqliteTable(
  'files',
  {
    id: text('id').primaryKey(),
    filePath: text('file_path').notNull(),
    folderPath: text('folder_path').notNull(),
    name: text('name').notNull(),
    currentVersionId: text('current_version_id').notNull(),
    /** Highest version number ever assigned; numbers are never reused. */
    versionCounter: integer('version_counter').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('files_file_path_idx').on(t.filePath), index('files_folder_path_idx').on(t.folderPath, t.name)],
);

/**
 * Every version of a file: its bytes (by blob key) and its attributes. The current version's row is the
 * source of truth for the file's attributes; non-current rows are read-only snapshots. The file's path and
 * creation time are repeated here so that listing and search run on this one table with its indexes.
 */
export const fileVersions = sqliteTable(
  'file_versions',
  {
    id: text('id').primaryKey(),
    fileId: text('file_id')
      .notNull()
      .references(() => files.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    isCurrent: integer('is_current', { mode: 'boolean' }).notNull().default(false),
    folderPath: text('folder_path').notNull().default('/'),
    name: text('name').notNull().default(''),
    fileCreatedAt: integer('file_created_at', { mode: 'timestamp_ms' }).notNull().default(sql`0`),
    blobKey: text('blob_key').notNull(),
    size: integer('size').notNull(),
    mime: text('mime').notNull(),
    /** ImageKit's `format`: the detected type's usual extension (`jpg`, `png`, `mp4`…). */
    format: text('format'),
    hasTransparency: integer('has_transparency', { mode: 'boolean' }),
    fileType: text('file_type', { enum: ['image', 'non-image'] }).notNull(),
    width: integer('width'),
    height: integer('height'),
    tags: text('tags', { mode: 'json' }).$type<string[]>(),
    aiTags: text('ai_tags', { mode: 'json' }).$type<AITag[]>(),
    customCoordinates: text('custom_coordinates'),
    description: text('description'),
    customMetadata: text('custom_metadata', { mode: 'json' }).$type<Record<string, unknown>>(),
    sha256: text('sha256'),
    pHash: text('phash'),
    /** What analysis found that has no column of its own: ImageKit's legacy `metadata` extras and EXIF groups. */
    analysis: text('analysis', { mode: 'json' }).$type<StoredAnalysis>(),
    duration: real('duration'),
    bitRate: integer('bit_rate'),
    videoCodec: text('video_codec'),
    audioCodec: text('audio_codec'),
    /** Extensions asked for on this version and where each stands: `{ "remove-bg": "pending" }`. */
    extensionStatus: text('extension_status', { mode: 'json' }).$type<Record<string, ExtensionState>>(),
    embeddedMetadata: text('embedded_metadata', { mode: 'json' }).$type<Record<string, unknown>>(),
    isPrivateFile: integer('is_private_file', { mode: 'boolean' }).notNull(),
    isPublished: integer('is_published', { mode: 'boolean' }).notNull(),
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
    index('file_versions_current_width_idx').on(t.isCurrent, sql`ifnull(${t.width}, -1)`, t.id),
    index('file_versions_current_height_idx').on(t.isCurrent, sql`ifnull(${t.height}, -1)`, t.id),
    index('file_versions_sha256_idx').on(t.sha256),
  ],
);

/**
 * The derivative cache's ledger (see `src/delivery/derivative-cache.ts`): one row per stored derivative blob, for
 * least-recently-used eviction. `entry` is what is evicted as a whole: the blob, or a stream package's folder.
 * Rows go with their version.
 */
export const derivatives = sqliteTable(
  'derivatives',
  {
    key: text('key').primaryKey(),
    entry: text('entry').notNull(),
    versionId: text('version_id')
      .notNull()
      .references(() => fileVersions.id, { onDelete: 'cascade' }),
    bytes: integer('bytes').notNull(),
    /** Unix milliseconds of the last store or cache hit (hits are written in batches). */
    lastUsedAt: integer('last_used_at').notNull(),
  },
  (t) => [index('derivatives_entry_idx').on(t.entry), index('derivatives_version_id_idx').on(t.versionId)],
);

/** Typed custom metadata fields (ImageKit's custom metadata fields API). Names are never reused. */
export const customMetadataFields = sqliteTable(
  'custom_metadata_fields',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    label: text('label').notNull(),
    schema: text('schema', { mode: 'json' }).$type<CustomFieldSchema>().notNull(),
    description: text('description'),
    isDeleted: integer('is_deleted', { mode: 'boolean' }).notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('custom_metadata_fields_name_idx').on(t.name)],
);

export type CustomFieldType = 'Text' | 'Textarea' | 'Number' | 'Date' | 'Boolean' | 'SingleSelect' | 'MultiSelect';
export type CustomFieldScalar = string | number | boolean;

export interface CustomFieldSchema {
  type: CustomFieldType;
  selectOptions?: CustomFieldScalar[];
  defaultValue?: CustomFieldScalar | CustomFieldScalar[];
  isValueRequired?: boolean;
  minValue?: string | number;
  maxValue?: string | number;
  minLength?: number;
  maxLength?: number;
}

export const folders = sqliteTable(
  'folders',
  {
    id: text('id').primaryKey(),
    folderPath: text('folder_path').notNull(),
    name: text('name').notNull(),
    parentPath: text('parent_path').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('folders_folder_path_idx').on(t.folderPath), index('folders_parent_path_idx').on(t.parentPath)],
);

/** Analysis results kept as JSON (see `src/upload/analyze-file.ts`). */
export interface StoredAnalysis {
  hasColorProfile?: boolean;
  quality?: number;
  density?: number | null;
  isAnimated?: boolean;
  pages?: number;
  frameRate?: number | null;
  exif?: Record<string, Record<string, unknown>>;
}

export type ExtensionState = 'pending' | 'success' | 'failed';

export interface AITag {
  name: string;
  confidence: number;
  source: string;
}

export type FileRow = typeof files.$inferSelect;
export type FileVersionRow = typeof fileVersions.$inferSelect;
export type FolderRow = typeof folders.$inferSelect;
export type CustomMetadataFieldRow = typeof customMetadataFields.$inferSelect;

/** The durable job queue (see `src/jobs/database-job-queue.ts`). */
export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['pending', 'running', 'done', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    runAt: integer('run_at').notNull(),
    leaseUntil: integer('lease_until'),
    lastError: text('last_error'),
    /** The HTTP request that caused the job (directly or through an earlier job), for following it in the logs. */
    requestId: text('request_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('jobs_kind_status_run_at_idx').on(t.kind, t.status, t.runAt)],
);

/** Account-level webhook endpoints (ImageKit's dashboard webhooks). */
export const webhookEndpoints = sqliteTable('webhook_endpoints', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** Event types delivered; `null` means all. */
  events: text('events', { mode: 'json' }).$type<string[]>(),
  createdAt: createdAt(),
});

/** The webhook outbox: one row per event and destination, kept with its attempts. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    url: text('url').notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    attempts: text('attempts', { mode: 'json' }).$type<WebhookAttempt[]>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('webhook_deliveries_created_at_idx').on(t.createdAt)],
);

/**
 * The tokens of client-side (browser) uploads already used: ImageKit's `token` is single use. A row lives until its
 * signature's `expire` has passed (the token cannot be presented again after that anyway), then is swept.
 */
export const uploadTokens = sqliteTable(
  'upload_tokens',
  {
    token: text('token').primaryKey(),
    /** Unix milliseconds: the upload's `expire`. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('upload_tokens_expires_at_idx').on(t.expiresAt)],
);

export interface WebhookAttempt {
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export type JobRow = typeof jobs.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
