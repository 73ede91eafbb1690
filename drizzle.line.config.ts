// drizzle-kit settings for the production line: `npm run db:generate:line` writes SQL migrations for provisioning/src/db/schema.ts into provisioning/drizzle.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './provisioning/src/db/schema.ts',
  out: './provisioning/drizzle',
});
