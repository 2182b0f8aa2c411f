ALTER TABLE `file_versions` ADD `sha256` text;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `phash` text;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `analysis` text;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `duration` real;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `bit_rate` integer;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `video_codec` text;--> statement-breakpoint
ALTER TABLE `file_versions` ADD `audio_codec` text;--> statement-breakpoint
CREATE INDEX `file_versions_sha256_idx` ON `file_versions` (`sha256`);