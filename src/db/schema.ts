import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

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

/** Every version of a file: its bytes (by blob key) and the attributes it was stored with. */
export const fileVersions = sqliteTable(
  'file_versions',
  {
    id: text('id').primaryKey(),
    fileId: text('file_id')
      .notNull()
      .references(() => files.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    blobKey: text('blob_key').notNull(),
    size: integer('size').notNull(),
    mime: text('mime').notNull(),
    fileType: text('file_type', { enum: ['image', 'non-image'] }).notNull(),
    width: integer('width'),
    height: integer('height'),
    tags: text('tags', { mode: 'json' }).$type<string[]>(),
    aiTags: text('ai_tags', { mode: 'json' }).$type<AITag[]>(),
    customCoordinates: text('custom_coordinates'),
    description: text('description'),
    isPrivateFile: integer('is_private_file', { mode: 'boolean' }).notNull(),
    isPublished: integer('is_published', { mode: 'boolean' }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('file_versions_file_id_number_idx').on(t.fileId, t.number)],
);

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

export interface AITag {
  name: string;
  confidence: number;
  source: string;
}

export type FileRow = typeof files.$inferSelect;
export type FileVersionRow = typeof fileVersions.$inferSelect;
export type FolderRow = typeof folders.$inferSelect;
