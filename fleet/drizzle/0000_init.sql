CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`scope` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text DEFAULT '' NOT NULL,
	`outcome` text NOT NULL,
	`code` text,
	`detail` text,
	`remote` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_at` ON `audit_log` (`at`);--> statement-breakpoint
CREATE TABLE `bootstrap_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`secret_hash` text NOT NULL,
	`dealer_code` text NOT NULL,
	`serial` text,
	`note` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`used_serial` text,
	`device_id` text
);
--> statement-breakpoint
CREATE INDEX `bootstrap_tokens_dealer` ON `bootstrap_tokens` (`dealer_code`);--> statement-breakpoint
CREATE TABLE `certificates` (
	`serial` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`fingerprint` text NOT NULL,
	`issued_at` integer NOT NULL,
	`not_after` integer NOT NULL,
	`revoked_at` integer,
	`revoke_reason` text
);
--> statement-breakpoint
CREATE INDEX `certificates_device` ON `certificates` (`device_id`);--> statement-breakpoint
CREATE TABLE `commands` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`seq` integer NOT NULL,
	`kind` text NOT NULL,
	`args` text NOT NULL,
	`state` text NOT NULL,
	`issued_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`delivered_at` integer,
	`result_at` integer,
	`detail` text,
	`data` text,
	`payload` text NOT NULL,
	`signature` text NOT NULL,
	`key_id` text NOT NULL,
	`created_by` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `commands_device_seq` ON `commands` (`device_id`,`seq`);--> statement-breakpoint
CREATE INDEX `commands_state` ON `commands` (`state`,`expires_at`);--> statement-breakpoint
CREATE INDEX `commands_issued` ON `commands` (`issued_at`);--> statement-breakpoint
CREATE TABLE `device_activity` (
	`device_id` text NOT NULL,
	`month` text NOT NULL,
	`dealer_code` text NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`heartbeats` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`device_id`, `month`)
);
--> statement-breakpoint
CREATE INDEX `device_activity_month` ON `device_activity` (`month`,`dealer_code`);--> statement-breakpoint
CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`dealer_code` text NOT NULL,
	`serial` text NOT NULL,
	`status` text NOT NULL,
	`enrolled_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`token_id` text NOT NULL,
	`cert_serial` text NOT NULL,
	`cert_not_after` integer NOT NULL,
	`last_seq` integer DEFAULT 0 NOT NULL,
	`acked_seq` integer DEFAULT 0 NOT NULL,
	`policy_version` integer,
	`applied_policy_version` integer,
	`agent_version` text DEFAULT '' NOT NULL,
	`inventory` text DEFAULT '{}' NOT NULL,
	`last_seen_at` integer,
	`last_heartbeat` text,
	`locked` integer DEFAULT false NOT NULL,
	`lock_reason` text DEFAULT '' NOT NULL,
	`retired_at` integer
);
--> statement-breakpoint
CREATE INDEX `devices_serial` ON `devices` (`serial`);--> statement-breakpoint
CREATE INDEX `devices_dealer` ON `devices` (`dealer_code`);--> statement-breakpoint
CREATE INDEX `devices_status` ON `devices` (`status`);--> statement-breakpoint
CREATE TABLE `policies` (
	`version` integer PRIMARY KEY NOT NULL,
	`document` text NOT NULL,
	`note` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
