// Zod-free wording of a task record for people (the CLI's tables, the console), written once.

/** A record's attempts, with its DLQ replays when it has any: "3", or "1 (replay 2)". */
export function formatAttempts(record: { attempts: number; replays?: number }): string {
  const replays = record.replays ?? 0;
  return replays > 0 ? `${record.attempts} (replay ${replays})` : String(record.attempts);
}
