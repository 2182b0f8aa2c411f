CREATE TABLE `custom_metadata_fields` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`label` text NOT NULL,
	`schema` text NOT NULL,
	`description` text,
	`is_deleted` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `custom_metadata_fields_name_idx` ON `custom_metadata_fields` (`name`);--> statement-breakpoint
ALTER TABLE `file_versions` ADD `is_current` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `folder_path` text DEFAULT '/' NOT NULL;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `name` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `file_created_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `format` text;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `has_transparency` integer;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `custom_metadata` text;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `embedded_metadata` text;--> statement-breakpoint
CREATE INDEX `file_versions_current_folder_name_idx` ON `file_versions` (`is_current`,`folder_path`,`name`,`id`);--> statement-breakpoint
CREATE INDEX `file_versions_current_name_idx` ON `file_versions` (`is_current`,`name`,`id`);--> statement-breakpoint
CREATE INDEX `file_versions_current_file_created_at_idx` ON `file_versions` (`is_current`,`file_created_at`,`id`);--> statement-breakpoint
CREATE INDEX `file_versions_current_updated_at_idx` ON `file_versions` (`is_current`,`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `file_versions_current_size_idx` ON `file_versions` (`is_current`,`size`,`id`);--> statement-breakpoint
CREATE INDEX `file_versions_current_width_idx` ON `file_versions` (`is_current`,ifnull(`width`, -1),`id`);--> statement-breakpoint
CREATE INDEX `file_versions_current_height_idx` ON `file_versions` (`is_current`,ifnull(`height`, -1),`id`);--> statement-breakpoint
UPDATE `file_versions` SET
  `is_current` = (`id` = (SELECT `current_version_id` FROM `files` WHERE `files`.`id` = `file_versions`.`file_id`)),
  `folder_path` = (SELECT `folder_path` FROM `files` WHERE `files`.`id` = `file_versions`.`file_id`),
  `name` = (SELECT `name` FROM `files` WHERE `files`.`id` = `file_versions`.`file_id`),
  `file_created_at` = (SELECT `created_at` FROM `files` WHERE `files`.`id` = `file_versions`.`file_id`);