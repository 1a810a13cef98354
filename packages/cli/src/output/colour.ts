/** Colours for people: only on a terminal, never with NO_COLOR (https://no-color.org), never in --json. */

export type Style = "green" | "yellow" | "red" | "bold" | "dim";

const CODES: Record<Style, [number, number]> = {
  green: [32, 39],
  yellow: [33, 39],
  red: [31, 39],
  bold: [1, 22],
  dim: [2, 22],
};

/** Whether to colour: stdout is a terminal and NO_COLOR is unset (or empty, as no-color.org specifies). */
export function colourEnabled(env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): boolean {
  const noColor = env.NO_COLOR;
  return stdoutIsTTY && (noColor === undefined || noColor === "");
}

export function paint(text: string, style: Style | undefined, enabled: boolean): string {
  if (!enabled || style === undefined || text === "") return text;
  const [open, close] = CODES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

const STATUS_STYLES: Record<string, Style> = {
  running: "green",
  active: "green",
  ready: "green",
  completed: "green",
  ok: "green",
  paused: "yellow",
  degraded: "yellow",
  stopped: "yellow",
  retrying: "yellow",
  down: "red",
  dead_lettered: "red",
  failed: "red",
  deleted: "red",
};

/** The colour of a status word: green running/active, yellow paused/degraded/stopped, red down/dead_lettered. */
export function statusStyle(status: string): Style | undefined {
  return STATUS_STYLES[status];
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}
