import { PassThrough } from "node:stream";
import { ask, confirmDecision, isYes } from "./confirm";

describe("confirmation rules", () => {
  it("--yes proceeds; a terminal is asked; without a terminal the command refuses", () => {
    expect(confirmDecision({ yes: true, stdinIsTTY: false })).toBe("proceed");
    expect(confirmDecision({ yes: true, stdinIsTTY: true })).toBe("proceed");
    expect(confirmDecision({ yes: false, stdinIsTTY: true })).toBe("ask");
    expect(confirmDecision({ yes: false, stdinIsTTY: false })).toBe("refuse");
  });

  it("only y or yes is a yes; the default is no", () => {
    for (const answer of ["y", "Y", "yes", " YES ", "y\r"]) expect(isYes(answer)).toBe(true);
    for (const answer of ["", "n", "no", "yeah", "sure", "yes please"]) expect(isYes(answer)).toBe(false);
  });

  async function answer(input: string | null): Promise<{ ok: boolean; prompt: string }> {
    const stdin = new PassThrough();
    let prompt = "";
    const pending = ask("Delete agent a/b?", {
      stdin,
      stderr: { write: (text: string) => (prompt += text) },
    });
    if (input === null) stdin.end();
    else stdin.write(input);
    return { ok: await pending, prompt };
  }

  it("asks on stderr with [y/N] and reads one line", async () => {
    expect(await answer("y\n")).toEqual({ ok: true, prompt: "Delete agent a/b? [y/N] " });
    expect((await answer("\n")).ok).toBe(false);
    expect((await answer("nope\n")).ok).toBe(false);
  });

  it("takes the end of input (Ctrl-D) as no", async () => {
    expect((await answer(null)).ok).toBe(false);
  });
});
