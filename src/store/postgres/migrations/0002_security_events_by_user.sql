DROP INDEX "security_events_by_fingerprint";--> statement-breakpoint
DROP INDEX "security_events_by_user";--> statement-breakpoint
CREATE INDEX "security_events_by_user" ON "security_events" USING btree ("user_id","fingerprint","last_at");