// An "LLM" agent: calls a fake model with realistic latency (0.3–1.5 s), honours ctx.signal (deadline, revocation,
// shutdown) and backs off when the "provider" rate-limits. Run: omnidaemon worker --agents examples/llm-agent/agents.js
const { defineAgent, RetryAfterError } = require("@omnidaemon/sdk");

/** A stand-in for a model call: resolves after a while, or rejects as soon as the signal aborts. */
function fakeModel(prompt, signal) {
  return new Promise((resolve, reject) => {
    const latencyMs = 300 + Math.random() * 1200;
    const timer = setTimeout(
      () => resolve(`(${Math.round(latencyMs)} ms) ${prompt.split("").reverse().join("")}`),
      latencyMs,
    );
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

module.exports = [
  defineAgent({
    topic: "llm.prompt",
    name: "llm-agent",
    description: "Answers prompts with a (fake) language model",
    config: { concurrency: 64, reclaimIdleMs: 30_000, maxRetries: 4, retryBackoffMs: 500 },
    async callback(message, ctx) {
      const prompt = String(message.content?.prompt ?? message.content ?? "");
      // 5% of calls hit a "rate limit": retry after the provider's hint, without blocking other conversations.
      if (Math.random() < 0.05) throw new RetryAfterError(500, "provider rate limit");
      const answer = await fakeModel(prompt, ctx.signal);
      return { prompt, answer, attempt: ctx.attempt };
    },
  }),
];
