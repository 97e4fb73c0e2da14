CREATE TABLE `counted_actions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`action` text NOT NULL,
	`at` integer NOT NULL,
	`user_id` text NOT NULL,
	`channel` text NOT NULL,
	`destination` text,
	`organization_id` text NOT NULL,
	`caller_id` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `counted_actions_by_user` ON `counted_actions` (`user_id`,`action`,`at`);--> statement-breakpoint
CREATE INDEX `counted_actions_by_destination` ON `counted_actions` (`destination`,`at`);--> statement-breakpoint
CREATE INDEX `counted_actions_by_organization` ON `counted_actions` (`organization_id`,`action`,`at`);--> statement-breakpoint
CREATE INDEX `counted_actions_by_caller` ON `counted_actions` (`caller_id`,`action`,`at`);--> statement-breakpoint
CREATE INDEX `counted_actions_by_time` ON `counted_actions` (`at`);--> statement-breakpoint
CREATE TABLE `organization_settings` (
	`organization_id` text PRIMARY KEY NOT NULL,
	`verification` text NOT NULL,
	`changed_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `security_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`last_at` integer NOT NULL,
	`count` integer DEFAULT 1 NOT NULL,
	`kind` text NOT NULL,
	`actor_id` text,
	`client_address` text,
	`user_id` text,
	`organization_id` text,
	`detail` text NOT NULL,
	`fingerprint` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `security_events_by_fingerprint` ON `security_events` (`fingerprint`,`last_at`);--> statement-breakpoint
CREATE INDEX `security_events_by_user` ON `security_events` (`user_id`,`id`);--> statement-breakpoint
CREATE INDEX `security_events_by_kind` ON `security_events` (`kind`,`id`);--> statement-breakpoint
CREATE INDEX `security_events_by_time` ON `security_events` (`last_at`);--> statement-breakpoint
DROP INDEX `users_by_verified_phone`;--> statement-breakpoint
DROP INDEX `users_by_verified_email`;--> statement-breakpoint
CREATE UNIQUE INDEX `users_verified_phone_unique` ON `users` (`verified_phone`,`resource_owner`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_verified_email_unique` ON `users` (`verified_email`,`resource_owner`);--> statement-breakpoint
CREATE INDEX `login_failures_by_time` ON `login_failures` (`last_failure_at`);