-- A username is one name in any case of its ASCII letters (src/domain/credentials/login-name.ts, usernameKey). Users
-- whose usernames differ only so are refused before this runs (src/store/case-clashes.ts).
DROP INDEX `users_by_username`;--> statement-breakpoint
DROP INDEX `users_username_unique`;--> statement-breakpoint
CREATE INDEX `users_by_username` ON `users` (lower("username"));--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_unique` ON `users` (`resource_owner`,lower("username"));