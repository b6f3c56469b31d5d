CREATE TABLE `runners` (
	`url` text PRIMARY KEY NOT NULL,
	`runner_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `runners_expires_at_idx` ON `runners` (`expires_at`);