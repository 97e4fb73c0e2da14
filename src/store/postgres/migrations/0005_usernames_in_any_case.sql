-- A username is one name in any case of its ASCII letters (src/domain/credentials/login-name.ts, usernameKey): lower()
-- under the C collation folds ASCII letters only, as SQLite's does. Users whose usernames differ only so are refused
-- before this runs (src/store/case-clashes.ts).
ALTER TABLE "users" DROP CONSTRAINT "users_username_unique";--> statement-breakpoint
DROP INDEX "users_by_username";--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_unique" ON "users" USING btree ("resource_owner",lower("username" COLLATE "C"));--> statement-breakpoint
CREATE INDEX "users_by_username" ON "users" USING btree (lower("username" COLLATE "C"));