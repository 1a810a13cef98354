// drizzle-kit reads this to generate the committed SQL migrations (`npm run db:generate -w @omnidaemon/store-pg`).
// Generation needs no database: it diffs src/schema against drizzle/meta.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./drizzle",
});
