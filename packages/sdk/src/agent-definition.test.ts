import { AgentDefinitionError, resolveAgent } from "./agent-definition";

const callback = async (): Promise<null> => null;

describe("resolveAgent", () => {
  it("fills defaults, deriving the name from the topic (never random)", () => {
    const agent = resolveAgent({ topic: "file.uploaded", callback });
    expect(agent).toMatchObject({
      topic: "file.uploaded",
      name: "file-uploaded-agent",
      description: "",
      tags: [],
    });
    expect(agent.config.maxRetries).toBe(3);
    expect(resolveAgent({ topic: "file.uploaded", callback }).name).toBe(agent.name);
  });

  it.each([
    [{ callback }, "agent.topic", /required/],
    [{ topic: "t" }, "agent.callback", /function/],
    [{ topic: "bad topic", callback }, "agent.topic", /may contain only/],
    [{ topic: "t", name: "a.b", callback }, "agent.name", /no dots/],
    [{ topic: "t", callback, config: { maxRetries: -1 } }, "agent.config.maxRetries", /0|>=/],
    [{ topic: "t", callback, config: { concurency: 2 } }, "agent.config", /concurency/],
    [{ topic: "t", callback, config: { onError: () => 1 } }, "agent.config.onError", /JSON/],
    [{ topic: "t", callback, tags: [1] }, "agent.tags", /strings/],
    [{ topic: "t", callback, retries: 2 }, "agent.retries", /unknown field/],
  ])("rejects %j naming %s", (definition, field, message) => {
    try {
      resolveAgent(definition);
      throw new Error("accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(AgentDefinitionError);
      expect((error as AgentDefinitionError).field).toBe(field);
      expect((error as Error).message).toMatch(message);
    }
  });

  it("locates a definition inside a list", () => {
    expect(() => resolveAgent({ topic: 7, callback }, "agents[2]")).toThrow(/^agents\[2\]\.topic/);
  });
});
