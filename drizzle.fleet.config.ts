// drizzle-kit settings for the fleet: `npm run db:generate:fleet` writes SQL migrations for fleet/src/db/schema.ts into fleet/drizzle.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './fleet/src/db/schema.ts',
  out: './fleet/drizzle',
});
