import pino, { type Logger } from "pino";

/** The logger in-process services get in tests: silent unless TEST_LOG_LEVEL says otherwise. */
export const testLogger: Logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** A pino logger that keeps its lines, to assert on what a service logged. */
export function memoryLogger(): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}
