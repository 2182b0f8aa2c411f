CREATE TABLE `file_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`file_id` text NOT NULL,
	`number` integer NOT NULL,
	`blob_key` text NOT NULL,
	`size` integer NOT NULL,
	`mime` text NOT NULL,
	`file_type` text NOT NULL,
	`width` integer,
	`height` integer,
	`tags` text,
	`ai_tags` text,
	`custom_coordinates` text,
	`description` text,
	`is_private_file` integer NOT NULL,
	`is_published` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`file_id`) REFERENCES `files`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `file_versions_file_id_number_idx` ON `file_versions` (`file_id`,`number`);--> statement-breakpoint
CREATE TABLE `files` (
	`id` text PRIMARY KEY NOT NULL,
	`file_path` text NOT NULL,
	`folder_path` text NOT NULL,
	`name` text NOT NULL,
	`current_version_id` text NOT NULL,
	`version_counter` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `files_file_path_idx` ON `files` (`file_path`);--> statement-breakpoint
CREATE INDEX `files_folder_path_idx` ON `files` (`folder_path`,`name`);--> statement-breakpoint
CREATE TABLE `folders` (
	`id` text PRIMARY KEY NOT NULL,
	`folder_path` text NOT NULL,
	`name` text NOT NULL,
	`parent_path` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `folders_folder_path_idx` ON `folders` (`folder_path`);--> statement-breakpoint
CREATE INDEX `folders_parent_path_idx` ON `folders` (`parent_path`);