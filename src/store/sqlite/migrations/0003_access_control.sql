CREATE TABLE `access_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`kind` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `access_tokens_token_hash_unique` ON `access_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `access_tokens_by_user` ON `access_tokens` (`user_id`,`kind`);--> statement-breakpoint
CREATE TABLE `instance` (
	`id` integer PRIMARY KEY NOT NULL,
	`admin_user_id` text NOT NULL,
	`bootstrapped_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `login_failures` (
	`login_name` text PRIMARY KEY NOT NULL,
	`failures` integer NOT NULL,
	`last_failure_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `members` (
	`user_id` text NOT NULL,
	`organization_id` text NOT NULL,
	`roles` text NOT NULL,
	`created_at` integer NOT NULL,
	`changed_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `organization_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `members_by_organization` ON `members` (`organization_id`);--> statement-breakpoint
ALTER TABLE `users` ADD `kind` text DEFAULT 'human' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `status` text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `verified_phone` text;--> statement-breakpoint
ALTER TABLE `users` ADD `verified_email` text;--> statement-breakpoint
CREATE INDEX `users_by_username` ON `users` (`username`);--> statement-breakpoint
CREATE INDEX `users_by_verified_phone` ON `users` (`verified_phone`);--> statement-breakpoint
CREATE INDEX `users_by_verified_email` ON `users` (`verified_email`);--> statement-breakpoint
CREATE UNIQUE INDEX `organizations_name_unique` ON `organizations` (`name`);--> statement-breakpoint
UPDATE `users` SET `verified_phone` = json_extract(`state`, '$.phone.verified'), `verified_email` = json_extract(`state`, '$.email.verified');
