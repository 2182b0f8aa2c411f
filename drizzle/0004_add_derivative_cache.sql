CREATE TABLE `derivatives` (
	`key` text PRIMARY KEY NOT NULL,
	`entry` text NOT NULL,
	`version_id` text NOT NULL,
	`bytes` integer NOT NULL,
	`last_used_at` integer NOT NULL,
	FOREIGN KEY (`version_id`) REFERENCES `file_versions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `derivatives_entry_idx` ON `derivatives` (`entry`);--> statement-breakpoint
CREATE INDEX `derivatives_version_id_idx` ON `derivatives` (`version_id`);