CREATE TABLE `sync_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`trigger` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`result` text NOT NULL,
	`error_code` text,
	`message` text,
	`catalog_version` integer,
	`bytes_fetched` integer DEFAULT 0 NOT NULL,
	`targets_selected` integer DEFAULT 0 NOT NULL,
	`targets_ready` integer DEFAULT 0 NOT NULL,
	`targets_failed` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sync_targets` (
	`sha256` text PRIMARY KEY NOT NULL,
	`path` text NOT NULL,
	`size` integer NOT NULL,
	`state` text NOT NULL,
	`done_bytes` integer DEFAULT 0 NOT NULL,
	`error` text,
	`updated_at` integer NOT NULL
);
