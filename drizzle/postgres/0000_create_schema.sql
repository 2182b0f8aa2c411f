CREATE TABLE "custom_metadata_fields" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"label" text NOT NULL,
	"schema" jsonb NOT NULL,
	"description" text,
	"is_deleted" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "derivatives" (
	"key" text PRIMARY KEY NOT NULL,
	"entry" text NOT NULL,
	"version_id" text COLLATE "C" NOT NULL,
	"bytes" bigint NOT NULL,
	"last_used_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "file_versions" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"file_id" text COLLATE "C" NOT NULL,
	"number" integer NOT NULL,
	"is_current" boolean DEFAULT false NOT NULL,
	"folder_path" text COLLATE "C" DEFAULT '/' NOT NULL,
	"name" text COLLATE "C" DEFAULT '' NOT NULL,
	"file_created_at" timestamp with time zone DEFAULT to_timestamp(0) NOT NULL,
	"blob_key" text NOT NULL,
	"size" bigint NOT NULL,
	"mime" text NOT NULL,
	"format" text,
	"has_transparency" boolean,
	"file_type" text NOT NULL,
	"width" integer,
	"height" integer,
	"tags" jsonb,
	"ai_tags" jsonb,
	"custom_coordinates" text,
	"description" text,
	"custom_metadata" jsonb,
	"sha256" text,
	"phash" text,
	"analysis" jsonb,
	"duration" double precision,
	"bit_rate" bigint,
	"video_codec" text,
	"audio_codec" text,
	"extension_status" jsonb,
	"embedded_metadata" jsonb,
	"is_private_file" boolean NOT NULL,
	"is_published" boolean NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "files" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"file_path" text COLLATE "C" NOT NULL,
	"folder_path" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"current_version_id" text COLLATE "C" NOT NULL,
	"version_counter" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "folders" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"folder_path" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"parent_path" text COLLATE "C" NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"run_at" bigint NOT NULL,
	"lease_until" bigint,
	"last_error" text,
	"request_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"url" text NOT NULL,
	"body" text NOT NULL,
	"status" text NOT NULL,
	"attempts" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"events" jsonb,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "derivatives" ADD CONSTRAINT "derivatives_version_id_file_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "file_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_versions" ADD CONSTRAINT "file_versions_file_id_files_id_fk" FOREIGN KEY ("file_id") REFERENCES "files"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "custom_metadata_fields_name_idx" ON "custom_metadata_fields" USING btree ("name");--> statement-breakpoint
CREATE INDEX "derivatives_entry_idx" ON "derivatives" USING btree ("entry");--> statement-breakpoint
CREATE INDEX "derivatives_version_id_idx" ON "derivatives" USING btree ("version_id");--> statement-breakpoint
CREATE UNIQUE INDEX "file_versions_file_id_number_idx" ON "file_versions" USING btree ("file_id","number");--> statement-breakpoint
CREATE INDEX "file_versions_current_folder_name_idx" ON "file_versions" USING btree ("is_current","folder_path","name","id");--> statement-breakpoint
CREATE INDEX "file_versions_current_name_idx" ON "file_versions" USING btree ("is_current","name","id");--> statement-breakpoint
CREATE INDEX "file_versions_current_file_created_at_idx" ON "file_versions" USING btree ("is_current","file_created_at","id");--> statement-breakpoint
CREATE INDEX "file_versions_current_updated_at_idx" ON "file_versions" USING btree ("is_current","updated_at","id");--> statement-breakpoint
CREATE INDEX "file_versions_current_size_idx" ON "file_versions" USING btree ("is_current","size","id");--> statement-breakpoint
CREATE INDEX "file_versions_current_width_idx" ON "file_versions" USING btree ("is_current",coalesce("width", -1),"id");--> statement-breakpoint
CREATE INDEX "file_versions_current_height_idx" ON "file_versions" USING btree ("is_current",coalesce("height", -1),"id");--> statement-breakpoint
CREATE INDEX "file_versions_sha256_idx" ON "file_versions" USING btree ("sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "files_file_path_idx" ON "files" USING btree ("file_path");--> statement-breakpoint
CREATE INDEX "files_folder_path_idx" ON "files" USING btree ("folder_path","name");--> statement-breakpoint
CREATE UNIQUE INDEX "folders_folder_path_idx" ON "folders" USING btree ("folder_path");--> statement-breakpoint
CREATE INDEX "folders_parent_path_idx" ON "folders" USING btree ("parent_path");--> statement-breakpoint
CREATE INDEX "jobs_kind_status_run_at_idx" ON "jobs" USING btree ("kind","status","run_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_created_at_idx" ON "webhook_deliveries" USING btree ("created_at");