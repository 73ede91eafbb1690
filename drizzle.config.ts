// drizzle-kit settings: `npm run db:generate` writes SQL migrations for agent/src/db/schema.ts into agent/drizzle.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './agent/src/db/schema.ts',
  out: './agent/drizzle',
});
