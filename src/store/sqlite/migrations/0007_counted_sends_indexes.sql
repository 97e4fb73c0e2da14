DROP INDEX `counted_actions_by_destination`;--> statement-breakpoint
DROP INDEX `counted_actions_by_organization`;--> statement-breakpoint
DROP INDEX `counted_actions_by_caller`;--> statement-breakpoint
CREATE INDEX `counted_actions_by_destination` ON `counted_actions` (`destination`,`at`) WHERE "counted_actions"."destination" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `counted_actions_by_organization` ON `counted_actions` (`organization_id`,`at`) WHERE "counted_actions"."action" = 'send';--> statement-breakpoint
CREATE INDEX `counted_actions_by_caller` ON `counted_actions` (`caller_id`,`at`) WHERE "counted_actions"."action" = 'send';