import { createInterface } from "node:readline";
import type { Io } from "./io";

export type ConfirmDecision = "proceed" | "ask" | "refuse";

/**
 * Whether a destructive command may go ahead: `--yes` proceeds; otherwise a person at a terminal is asked; without
 * a terminal on stdin nobody can answer, so the command refuses rather than guessing.
 */
export function confirmDecision(options: { yes: boolean; stdinIsTTY: boolean }): ConfirmDecision {
  if (options.yes) return "proceed";
  return options.stdinIsTTY ? "ask" : "refuse";
}

/** `y` or `yes` (any case, surrounding blanks ignored); everything else, the empty answer included, is no. */
export function isYes(answer: string): boolean {
  return /^\s*y(es)?\s*$/i.test(answer);
}

/** Asks `question [y/N] ` on stderr (stdout stays clean for pipes) and reads one line from stdin. */
export async function ask(question: string, io: Pick<Io, "stdin" | "stderr">): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, terminal: false });
  io.stderr.write(`${question} [y/N] `);
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once("line", resolve);
      // End of input (Ctrl-D) is a no.
      rl.once("close", () => resolve(""));
    });
    return isYes(answer);
  } finally {
    rl.close();
  }
}
