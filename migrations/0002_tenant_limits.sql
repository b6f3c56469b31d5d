ALTER TABLE `tenants` ADD `requests_per_second` integer;--> statement-breakpoint
ALTER TABLE `tenants` ADD `tokens_per_day` integer;