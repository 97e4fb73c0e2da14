CREATE INDEX `users_by_organization_and_creation` ON `users` (`resource_owner`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `users_by_creation` ON `users` (`created_at`,`id`);