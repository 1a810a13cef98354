// A file processor like the reference system's: each `file.uploaded` event names a file; the agent extracts its
// text and returns counts. Run: omnidaemon worker --agents examples/file-processor/agents.js
const { readFile, writeFile } = require("node:fs/promises");
const { join } = require("node:path");
const { defineAgent, NonRetriableError } = require("@omnidaemon/sdk");

module.exports = [
  defineAgent({
    topic: "file.uploaded",
    name: "file-processor",
    description: "Extracts text from an uploaded file and counts its words",
    version: "1.0.0",
    tags: ["file", "example"],
    config: { maxRetries: 3, concurrency: 8, reclaimIdleMs: 60_000 },
    async callback(message, ctx) {
      const { path, text } = message.content ?? {};
      if (typeof path !== "string" && typeof text !== "string") {
        // Retrying cannot fix a malformed event: straight to the dead-letter queue.
        throw new NonRetriableError("content needs `path` (a file to read) or `text` (inline content)");
      }
      const body = typeof text === "string" ? text : await readFile(path, "utf8");
      // ctx.workdir is this delivery's own scratch directory, removed afterwards.
      const scratch = join(ctx.workdir, "extracted.txt");
      await writeFile(scratch, body.toLowerCase());
      const words = body.split(/\s+/).filter(Boolean).length;
      ctx.logger.info({ words }, "file processed");
      return { file: path ?? null, words, chars: body.length, tenant: message.tenant_id ?? null };
    },
  }),
];
