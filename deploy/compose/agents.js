// The agents docker-compose's workers run: every example of the image (/app/examples), in one module. Mount your
// own module here instead to run your agents (docs/getting-started.md).
module.exports = [
  ...require("/app/examples/pipeline/agents.js"),
  ...require("/app/examples/file-processor/agents.js"),
  ...require("/app/examples/llm-agent/agents.js"),
];
