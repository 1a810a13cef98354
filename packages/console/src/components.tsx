import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { failureOf } from "./api";
import { linePath, type Series } from "./chart";
import { formatAgo, formatJson } from "./format";

/** A state or status as a coloured label: running/active/completed green, paused/degraded yellow, down/failed red. */
export function Badge({ value, testId }: { value: string; testId?: string }) {
  return (
    <span class={`badge badge-${value.replace(/[^a-z_]/g, "")}`} data-testid={testId}>
      {value.replace(/_/g, " ")}
    </span>
  );
}

export function Json({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre class="json" data-testid={testId}>
      {formatJson(value)}
    </pre>
  );
}

/** Label/value pairs. */
export function Fields({ rows }: { rows: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="fields">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value ?? "–"}</dd>
        </div>
      ))}
    </dl>
  );
}

export function ErrorNote({ error, what }: { error: Error | undefined; what: string }) {
  if (error === undefined) return null;
  const { message, status } = failureOf(error);
  return (
    <p class="error" role="alert">
      Could not load {what}: {message}
      {status !== undefined ? ` (HTTP ${status})` : ""}
    </p>
  );
}

/** "updated 3 s ago", so a stale page is visible as stale. */
export function Updated({ at, now }: { at: number | undefined; now: number }) {
  return <span class="updated">{at === undefined ? "loading…" : `updated ${formatAgo(at, now)}`}</span>;
}

export function Section({
  title,
  children,
  actions,
  testId,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  testId?: string;
}) {
  return (
    <section class="card" data-testid={testId}>
      <header>
        <h2>{title}</h2>
        {actions !== undefined && <div class="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

const CHART_WIDTH = 240;
const CHART_HEIGHT = 48;

/** A small line chart of a series, with its latest value beside it. Hand-drawn SVG: no chart library. */
export function Sparkline({
  title,
  series,
  format,
  minMax = 0,
  testId,
}: {
  title: string;
  series: Series;
  format: (value: number) => string;
  minMax?: number;
  testId?: string;
}) {
  const path = linePath(series.values, CHART_WIDTH, CHART_HEIGHT, minMax);
  return (
    <figure class="sparkline" data-testid={testId}>
      <figcaption>
        {title}
        <strong>{series.latest === undefined ? "–" : format(series.latest)}</strong>
      </figcaption>
      <svg
        viewBox={`-1 -1 ${CHART_WIDTH + 2} ${CHART_HEIGHT + 2}`}
        width={CHART_WIDTH}
        height={CHART_HEIGHT}
        role="img"
        aria-label={`${title} over the last ${series.values.length} intervals`}
      >
        <line class="axis" x1="0" y1={CHART_HEIGHT} x2={CHART_WIDTH} y2={CHART_HEIGHT} />
        {path === "" ? (
          <text x={CHART_WIDTH / 2} y={CHART_HEIGHT / 2} text-anchor="middle">
            collecting samples…
          </text>
        ) : (
          <path d={path} />
        )}
      </svg>
    </figure>
  );
}

/**
 * A modal confirmation: what will happen, optional choices, and a button that does it. Escape or Cancel closes
 * it without doing anything. `confirmText`, when given, must be typed before the button works (irreversible
 * actions).
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  danger = false,
  busy = false,
  disabled = false,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  disabled?: boolean;
  onConfirm(): void;
  onCancel(): void;
}) {
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape") onCancel();
    };
    document.addEventListener("keydown", onKey);
    dialog.current?.querySelector<HTMLElement>("input, button")?.focus();
    return () => document.removeEventListener("keydown", onKey);
  }, [onCancel]);
  return (
    <div class="overlay">
      <div class="dialog" role="dialog" aria-modal="true" aria-label={title} ref={dialog}>
        <h2>{title}</h2>
        <div class="dialog-body">{children}</div>
        <div class="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button
            type="button"
            class={danger ? "danger" : "primary"}
            disabled={busy || disabled}
            onClick={onConfirm}
          >
            {busy ? "Working…" : confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
