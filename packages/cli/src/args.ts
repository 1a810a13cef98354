import { UsageError } from "./errors";

/** One flag a command accepts. Boolean when `value` is absent. */
export interface FlagSpec {
  /** Long name without dashes: `topic` is `--topic`. */
  name: string;
  /** One letter: `t` is `-t`. */
  short?: string;
  /** Placeholder of the value, shown as `<value>`; absent for a boolean flag. */
  value?: string;
  required?: boolean;
  /** May be given more than once; the tokens after it that are not flags are taken too (`--id a b`). */
  multiple?: boolean;
  description: string;
  /** Accepted but not shown in help (compatibility spellings). */
  hidden?: boolean;
}

export interface PositionalSpec {
  name: string;
  required?: boolean;
  description: string;
}

export interface ArgsSpec {
  flags: readonly FlagSpec[];
  positionals?: readonly PositionalSpec[];
  /** The command, for messages: `agent delete`. */
  command: string;
}

/** A parsed command line; accessors by long flag name. */
export class ParsedArgs {
  constructor(
    private readonly values: ReadonlyMap<string, string | string[] | true>,
    readonly positionals: readonly string[],
    /** `--help` or `-h` was given: nothing else was validated. */
    readonly help: boolean,
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The value of a flag that takes one; undefined when absent. */
  string(name: string): string | undefined {
    const value = this.values.get(name);
    if (value === undefined || value === true) return undefined;
    return Array.isArray(value) ? value[value.length - 1] : value;
  }

  /** The value of a required flag (the parser already refused its absence). */
  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw new UsageError(`missing required flag --${name}`);
    return value;
  }

  /** Every value of a repeatable flag, in order. */
  strings(name: string): string[] {
    const value = this.values.get(name);
    if (value === undefined || value === true) return [];
    return Array.isArray(value) ? [...value] : [value];
  }

  flag(name: string): boolean {
    return this.values.get(name) === true;
  }
}

const HELP_TOKENS = new Set(["--help", "-h"]);

/** A token that names a flag; `-` alone and negative numbers (`-1`) are values. */
export function isFlagToken(token: string): boolean {
  return token.startsWith("-") && token.length > 1 && !/^-\d/.test(token);
}

function display(flag: FlagSpec, typed: string): string {
  return typed.startsWith("--") ? `--${flag.name}` : `${typed} (--${flag.name})`;
}

/** Parses `tokens` (the command line after the command's name) against the command's flags and positionals. */
export function parseArgs(tokens: readonly string[], spec: ArgsSpec): ParsedArgs {
  const endOfFlags = tokens.indexOf("--");
  const flagZone = endOfFlags === -1 ? tokens : tokens.slice(0, endOfFlags);
  if (flagZone.some((token) => HELP_TOKENS.has(token))) return new ParsedArgs(new Map(), [], true);

  const byLong = new Map(spec.flags.map((flag) => [flag.name, flag]));
  const byShort = new Map(
    spec.flags.filter((flag) => flag.short !== undefined).map((flag) => [flag.short as string, flag]),
  );
  const values = new Map<string, string | string[] | true>();
  const positionals: string[] = [];

  let index = 0;
  const next = (): string | undefined => tokens[index + 1];
  for (; index < tokens.length; index++) {
    const token = tokens[index] as string;
    if (token === "--") {
      positionals.push(...tokens.slice(index + 1));
      break;
    }
    if (!isFlagToken(token)) {
      positionals.push(token);
      continue;
    }
    let typed = token;
    let inline: string | undefined;
    let flag: FlagSpec | undefined;
    if (token.startsWith("--")) {
      const equals = token.indexOf("=");
      if (equals !== -1) {
        typed = token.slice(0, equals);
        inline = token.slice(equals + 1);
      }
      flag = byLong.get(typed.slice(2));
    } else {
      flag = byShort.get(token.slice(1));
    }
    if (flag === undefined) {
      const hint = suggest(typed, spec.flags);
      throw new UsageError(`unknown flag ${typed}${hint ? ` (did you mean ${hint}?)` : ""}`, spec.command);
    }
    const shown = display(flag, typed);
    if (flag.value === undefined) {
      if (inline !== undefined) throw new UsageError(`${shown} takes no value`, spec.command);
      values.set(flag.name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const candidate = next();
      if (candidate !== undefined && !isFlagToken(candidate) && candidate !== "--") {
        value = candidate;
        index++;
      }
    }
    if (value === undefined || value === "") {
      throw new UsageError(`${shown} needs a value (<${flag.value}>)`, spec.command);
    }
    if (flag.multiple) {
      const list = (values.get(flag.name) as string[] | undefined) ?? [];
      list.push(value);
      // `--id a b c`: the values that follow, up to the next flag.
      while (
        inline === undefined &&
        next() !== undefined &&
        !isFlagToken(next() as string) &&
        next() !== "--"
      ) {
        list.push(next() as string);
        index++;
      }
      values.set(flag.name, list);
    } else if (values.has(flag.name)) {
      throw new UsageError(`${shown} given more than once`, spec.command);
    } else {
      values.set(flag.name, value);
    }
  }

  const expected = spec.positionals ?? [];
  if (positionals.length > expected.length) {
    const extra = positionals[expected.length] as string;
    throw new UsageError(`unexpected argument "${extra}"`, spec.command);
  }
  for (const [i, positional] of expected.entries()) {
    if (positional.required && positionals[i] === undefined) {
      throw new UsageError(`missing argument <${positional.name}>`, spec.command);
    }
  }
  for (const flag of spec.flags) {
    if (flag.required && !values.has(flag.name)) {
      throw new UsageError(`missing required flag --${flag.name}`, spec.command);
    }
  }
  return new ParsedArgs(values, positionals, false);
}

/** The closest visible long flag within two edits (fewer for short words) of a mistyped `--flag`. */
export function suggest(typed: string, flags: readonly FlagSpec[]): string | undefined {
  if (!typed.startsWith("--")) return undefined;
  const word = typed.slice(2);
  const limit = Math.min(2, Math.floor(word.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const flag of flags) {
    if (flag.hidden) continue;
    const distance = editDistance(word, flag.name);
    if (distance <= limit && (best === undefined || distance < best.distance)) {
      best = { name: flag.name, distance };
    }
  }
  return best && `--${best.name}`;
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** A positive integer flag value, or a usage error naming the flag. */
export function positiveInt(
  value: string | undefined,
  flag: string,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new UsageError(`--${flag} must be an integer from 1 to ${max}, got "${value}"`);
  }
  return Number(value);
}

/** A positive decimal number flag value (fractions allowed: `--per-second 0.5`), or a usage error naming the flag. */
export function positiveNumber(
  value: string | undefined,
  flag: string,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value) || !(number > 0) || number > max) {
    throw new UsageError(`--${flag} must be a number above 0 and at most ${max}, got "${value}"`);
  }
  return number;
}

/** One of `choices`, or a usage error naming the flag and the choices. */
export function oneOf<T extends string>(
  value: string | undefined,
  flag: string,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${choices.join(", ")}, got "${value}"`);
  }
  return value as T;
}
