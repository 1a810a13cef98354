import { paint, type Style } from "./colour";

/** A table cell: text, optionally styled (the style is applied after padding, so alignment ignores it). */
export type Cell = string | number | { text: string; style?: Style };

export interface TableOptions {
  /** Columns aligned right (numbers), by index. */
  right?: readonly number[];
  colour: boolean;
}

function textOf(cell: Cell): string {
  return typeof cell === "object" ? cell.text : String(cell);
}

function styleOf(cell: Cell): Style | undefined {
  return typeof cell === "object" ? cell.style : undefined;
}

/** Visible width: code points, not UTF-16 units. */
function width(text: string): number {
  return [...text].length;
}

/**
 * An aligned table: upper-case headers, columns separated by two spaces, no trailing spaces, one line per row,
 * ending with a newline. Line breaks inside a cell become spaces so a row stays one line.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  options: TableOptions,
): string {
  const right = new Set(options.right ?? []);
  const clean = rows.map((row) => headers.map((_, i) => textOf(row[i] ?? "").replace(/\s*[\r\n]+\s*/g, " ")));
  const widths = headers.map((header, i) =>
    Math.max(width(header), ...clean.map((row) => width(row[i] as string))),
  );
  const line = (cells: readonly string[], styles: readonly (Style | undefined)[], bold: boolean): string => {
    const parts = cells.map((text, i) => {
      const pad = " ".repeat((widths[i] as number) - width(text));
      const last = i === cells.length - 1;
      // Style the text only, not its padding.
      const styled = paint(text, bold ? "bold" : styles[i], options.colour);
      return right.has(i) ? pad + styled : last ? styled : styled + pad;
    });
    return parts.join("  ").replace(/\s+$/, "");
  };
  const out = [
    line(
      headers.map((h) => h.toUpperCase()),
      [],
      true,
    ),
  ];
  for (const [r, row] of clean.entries()) {
    out.push(
      line(
        row,
        headers.map((_, i) => styleOf((rows[r] as readonly Cell[])[i] ?? "")),
        false,
      ),
    );
  }
  return `${out.join("\n")}\n`;
}

/** `key  value` lines with the keys aligned, for one object (`agent get`, `health`). */
export function renderFields(
  fields: ReadonlyArray<readonly [string, Cell]>,
  options: { colour: boolean },
): string {
  const keyWidth = Math.max(0, ...fields.map(([key]) => width(key)));
  return fields
    .map(([key, value]) => {
      const text = textOf(value);
      const shown = paint(text, styleOf(value), options.colour);
      return `${key}${" ".repeat(keyWidth - width(key))}  ${shown}`.replace(/\s+$/, "");
    })
    .map((line) => `${line}\n`)
    .join("");
}
