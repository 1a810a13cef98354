// A two-stage pipeline chained with reply_to: publish to `pipeline.ingest` with replyTo "pipeline.summarize"; the
// ingest agent's result becomes a new event on `pipeline.summarize` (same correlation and tenant, causation = the
// first task). Run: omnidaemon worker --agents examples/pipeline/agents.js
const { defineAgent } = require("@omnidaemon/sdk");

module.exports = [
  defineAgent({
    topic: "pipeline.ingest",
    name: "ingest",
    description: "Normalises raw text",
    async callback(message) {
      const text = String(message.content?.text ?? "");
      return { text: text.trim().replace(/\s+/g, " "), received_at: new Date().toISOString() };
    },
  }),
  defineAgent({
    topic: "pipeline.summarize",
    name: "summarize",
    description: "Summarises what the ingest stage produced",
    async callback(message) {
      const { text } = message.content ?? {};
      const sentences = String(text ?? "")
        .split(/(?<=[.!?])\s+/)
        .filter(Boolean);
      return {
        summary: sentences.slice(0, 1).join(" "),
        sentences: sentences.length,
        caused_by: message.causation_id,
        correlation: message.correlation_id,
      };
    },
  }),
];
