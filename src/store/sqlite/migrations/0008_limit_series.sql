-- Each counted action becomes an entry in every series a limit counts it in (limit-keys.ts names them alike),
-- numbered within its series from the oldest, so that no limit forgets what it counted before the upgrade.
CREATE TABLE `limit_entries` (
	`series` text NOT NULL,
	`ordinal` integer NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`series`, `ordinal`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `limit_entries_by_time` ON `limit_entries` (`at`);--> statement-breakpoint
INSERT INTO `limit_entries` (`series`, `ordinal`, `at`)
SELECT series, row_number() OVER (PARTITION BY series ORDER BY at, id), at FROM (
	SELECT 'send/caller/' || caller_id AS series, at, id FROM counted_actions WHERE action = 'send'
	UNION ALL SELECT 'send/organization/' || organization_id, at, id FROM counted_actions WHERE action = 'send'
	UNION ALL SELECT 'send/destination/' || destination, at, id FROM counted_actions WHERE action = 'send' AND destination IS NOT NULL
	UNION ALL SELECT 'send/user-channel/' || channel || '/' || user_id, at, id FROM counted_actions WHERE action = 'send'
	UNION ALL SELECT 'verify/user/' || user_id, at, id FROM counted_actions WHERE action = 'verify'
) AS actions;--> statement-breakpoint
DROP TABLE `counted_actions`;
