CREATE TABLE `keys` (
	`id` text PRIMARY KEY NOT NULL,
	`fingerprint` text NOT NULL,
	`recorded_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `storage_probe` (
	`id` integer PRIMARY KEY NOT NULL,
	`written_at` integer NOT NULL,
	`room` blob NOT NULL
);
