/** drizzle-kit: `npm run db:generate` writes SQL migrations for workers/db/schema.ts into migrations/. */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./workers/db/schema.ts",
  out: "./migrations",
});
