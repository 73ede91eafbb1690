CREATE TABLE `blobs` (
	`sha256` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`stored_at` integer NOT NULL,
	`verified_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `device_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `packages` (
	`sha256` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`head_unit` text NOT NULL,
	`models` text NOT NULL,
	`version` text NOT NULL,
	`release_notes` text,
	`source` text NOT NULL,
	`added_at` integer NOT NULL,
	FOREIGN KEY (`sha256`) REFERENCES `blobs`(`sha256`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `packages_head_unit` ON `packages` (`head_unit`);--> statement-breakpoint
CREATE INDEX `packages_kind` ON `packages` (`kind`);