CREATE TABLE `image_checks` (
	`key` text PRIMARY KEY NOT NULL,
	`checked_at` integer DEFAULT (unixepoch() * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`ref` text NOT NULL,
	`dealer_code` text NOT NULL,
	`site` text NOT NULL,
	`quantity` integer NOT NULL,
	`contact_email` text NOT NULL,
	`delivery_address` text NOT NULL,
	`lang` text NOT NULL,
	`network` text NOT NULL,
	`row_hash` text NOT NULL,
	`source_file` text NOT NULL,
	`source_line` integer NOT NULL,
	`imported_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `orders_ref` ON `orders` (`ref`);--> statement-breakpoint
CREATE TABLE `unit_steps` (
	`unit_id` text NOT NULL,
	`step` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 1 NOT NULL,
	`detail` text DEFAULT '{}' NOT NULL,
	`operator` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`unit_id`, `step`),
	FOREIGN KEY (`unit_id`) REFERENCES `units`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `units` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`serial` text NOT NULL,
	`macs` text DEFAULT '[]' NOT NULL,
	`disk_serial` text,
	`tpm_ek_sha256` text,
	`inventory` text,
	`image_version` text,
	`image_sha256` text,
	`target` text,
	`token_id` text,
	`device_id` text,
	`burnin` text,
	`burnin_detail` text,
	`status` text NOT NULL,
	`fail_reason` text,
	`operator` text NOT NULL,
	`replaces_unit_id` text,
	`replaced_by_unit_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`shipped_at` integer,
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `units_serial` ON `units` (`serial`);--> statement-breakpoint
CREATE INDEX `units_order` ON `units` (`order_id`);