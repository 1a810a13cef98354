/** Formatting for people: the console shows the API's values, never computes new facts from them. */

const pad = (n: number): string => String(n).padStart(2, "0");

/** `2026-11-30 13:05:12` in the browser's time zone, from an ISO string or epoch milliseconds; `–` for none. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** A span of seconds as `45 s`, `12 min 05 s`, `3 h 07 min`, `2 d 04 h`. */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
  return `${Math.floor(s / 86_400)} d ${pad(Math.floor((s % 86_400) / 3600))} h`;
}

/** How long ago `value` was, relative to `now` (epoch ms): `3 s ago`. */
export function formatAgo(value: string | number | null | undefined, now: number): string {
  if (value === null || value === undefined) return "–";
  const at = new Date(value).getTime();
  if (Number.isNaN(at)) return String(value);
  return now - at < 1000 ? "just now" : `${formatSpan((now - at) / 1000)} ago`;
}

/** Milliseconds as `850 ms` or `2.4 s`. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms * 10) / 10} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** An integer with thousands separators: `12 345`. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
}

/** A ratio 0…1 as a percentage: `12.5 %`. */
export function formatPercent(ratio: number): string {
  return `${(Math.round(ratio * 1000) / 10).toString()} %`;
}

/** JSON for a `<pre>`: pretty, and a value that is not JSON (undefined) says so. */
export function formatJson(value: unknown): string {
  if (value === undefined) return "(none)";
  return JSON.stringify(value, null, 2);
}
