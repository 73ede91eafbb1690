CREATE TABLE `fleet_commands` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`seq` integer NOT NULL,
	`kind` text NOT NULL,
	`received_at` integer NOT NULL,
	`status` text NOT NULL,
	`detail` text DEFAULT '' NOT NULL,
	`data` text,
	`finished_at` integer,
	`result_sent` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `fleet_commands_unsent` ON `fleet_commands` (`result_sent`,`seq`);