// Long on purpose (about 490 lines): the DLQ page is one workflow (pick an agent, filter entries, inspect one, replay
// or purge with a confirmation), and its parts share one page state; the shared widgets are in components.tsx.
import type { DlqEntry, DlqReplayResult } from "@omnidaemon/protocol";
import { useState } from "preact/hooks";
import { failureOf, LONG_REQUEST_TIMEOUT_MS, replayRequest, type ReplaySelector } from "../api";
import { Badge, ConfirmDialog, ErrorNote, Fields, Json, Section, Updated } from "../components";
import { formatCount, formatTime } from "../format";
import { DLQ_POLL_INTERVAL_MS, useNow, usePoll, useSession } from "../poll";
import { routeHref } from "../router";

/** Why the engine dead-letters, as the DLQ records it (docs/delivery.md). */
const REASONS = ["invalid_record", "non_retriable", "retries_exhausted"] as const;
const entryKey = (entry: Pick<DlqEntry, "partition" | "offset">): string =>
  `${entry.partition}:${entry.offset}`;

export function DlqPage({ params }: { params: Record<string, string> }) {
  const { api } = useSession();
  const agents = usePoll("agents", () => api.listAgents());
  const all = Object.values(agents.data ?? {}).flat();
  const { topic, name } = params;
  const choose = (value: string): void => {
    const [t, n] = value.split("\n");
    location.hash = routeHref("dlq", { topic: t, name: n });
  };

  return (
    <div class="page" data-testid="dlq-page">
      <Section title="Dead-letter queue">
        <ErrorNote error={agents.error} what="the agents" />
        <label class="inline">
          Agent{" "}
          <select
            data-testid="dlq-agent"
            value={topic !== undefined && name !== undefined ? `${topic}\n${name}` : ""}
            onChange={(e) => choose((e.target as HTMLSelectElement).value)}
          >
            <option value="">choose an agent…</option>
            {all.map((a) => (
              <option key={`${a.topic}/${a.name}`} value={`${a.topic}\n${a.name}`}>
                {a.topic} / {a.name}
              </option>
            ))}
          </select>
        </label>
      </Section>
      {topic !== undefined && name !== undefined && (
        <AgentDlq key={`${topic}/${name}`} topic={topic} name={name} params={params} />
      )}
    </div>
  );
}

type Dialog =
  | { kind: "replay"; selector: ReplaySelector; what: string; preview?: DlqReplayResult; force: boolean }
  | { kind: "purge"; typed: string };

function AgentDlq({ topic, name, params }: { topic: string; name: string; params: Record<string, string> }) {
  const { api } = useSession();
  const now = useNow();
  const filter = {
    ...(params.error_class !== undefined && { error_class: params.error_class }),
    ...(params.reason !== undefined && { reason: params.reason }),
  };
  const limit = Number(params.limit ?? 100);
  const listKey = `dlq:${topic}/${name}?${params.error_class ?? ""}&${params.reason ?? ""}&${limit}`;
  const entries = usePoll(
    listKey,
    () => api.dlqList({ topic, agent: name, ...filter, limit }),
    DLQ_POLL_INTERVAL_MS,
  );
  const summary = usePoll(
    `dlq-summary:${topic}/${name}`,
    () => api.dlqSummary({ topic, agent: name }),
    DLQ_POLL_INTERVAL_MS,
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [inspected, setInspected] = useState<string | undefined>();
  const [dialog, setDialog] = useState<Dialog | undefined>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>();

  const filtered = Object.keys(filter).length > 0;
  const list = entries.data ?? [];
  const inspectedEntry = list.find((e) => entryKey(e) === inspected);
  const setFilter = (changes: Record<string, string | undefined>): void => {
    location.hash = routeHref("dlq", { ...params, ...changes });
  };
  const toggle = (key: string): void => {
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setSelected(next);
  };
  const refreshAll = (): void => {
    entries.refresh();
    summary.refresh();
  };

  /** Opens the replay dialog with a dry run of exactly what the real replay will do. */
  const startReplay = async (selector: ReplaySelector, what: string, force = false): Promise<void> => {
    setDialog({ kind: "replay", selector, what, force });
    setBusy(true);
    try {
      const preview = await api.dlqReplay(replayRequest(topic, name, selector, { dryRun: true, force }), {
        timeoutMs: LONG_REQUEST_TIMEOUT_MS,
      });
      setDialog({ kind: "replay", selector, what, preview, force });
    } catch (error) {
      setDialog(undefined);
      setOutcome({ ok: false, text: failureOf(error).message });
    } finally {
      setBusy(false);
    }
  };

  const confirm = async (): Promise<void> => {
    if (dialog === undefined) return;
    setBusy(true);
    try {
      if (dialog.kind === "replay") {
        const result = await api.dlqReplay(
          replayRequest(topic, name, dialog.selector, { dryRun: false, force: dialog.force }),
          { timeoutMs: LONG_REQUEST_TIMEOUT_MS },
        );
        setOutcome({
          ok: true,
          text:
            `Replayed ${formatCount(result.replayed_count)} event${result.replayed_count === 1 ? "" : "s"} to the agent` +
            (result.skipped_count > 0 ? `; ${formatCount(result.skipped_count)} skipped` : "") +
            (result.not_found.length > 0 ? `; not found: ${result.not_found.join(", ")}` : ""),
        });
        setSelected(new Set());
      } else {
        const result = await api.dlqPurge({ topic, agent: name }, { timeoutMs: LONG_REQUEST_TIMEOUT_MS });
        setOutcome({
          ok: true,
          text: `Purged: ${formatCount(result.deleted)} records deleted from the DLQ topic`,
        });
        setSelected(new Set());
        setInspected(undefined);
      }
    } catch (error) {
      setOutcome({ ok: false, text: failureOf(error).message });
    } finally {
      setBusy(false);
      setDialog(undefined);
      refreshAll();
    }
  };

  const selectedOffsets = list
    .filter((e) => selected.has(entryKey(e)))
    .map((e) => ({ partition: e.partition, offset: e.offset }));

  return (
    <>
      <Section
        title={`${name} on ${topic}`}
        testId="dlq-entries"
        actions={
          <>
            <Updated at={entries.updatedAt} now={now} />
            <button type="button" onClick={refreshAll}>
              Refresh
            </button>
            <button
              type="button"
              class="primary"
              disabled={selectedOffsets.length === 0}
              onClick={() =>
                void startReplay(
                  { offsets: selectedOffsets },
                  `the ${selectedOffsets.length} selected event${selectedOffsets.length === 1 ? "" : "s"}`,
                )
              }
              data-testid="replay-selected"
            >
              Replay selected ({selectedOffsets.length})
            </button>
            <button
              type="button"
              onClick={() =>
                void startReplay(
                  filtered ? { filter } : { all: true },
                  filtered ? "every event matching the filter" : "every event in the DLQ",
                )
              }
              data-testid="replay-filtered"
            >
              {filtered ? "Replay all matching…" : "Replay all…"}
            </button>
            <button
              type="button"
              class="danger"
              onClick={() => setDialog({ kind: "purge", typed: "" })}
              data-testid="purge"
            >
              Purge…
            </button>
          </>
        }
      >
        {outcome !== undefined && (
          <p class={outcome.ok ? "ok" : "error"} role="status" data-testid="dlq-outcome">
            {outcome.text}
          </p>
        )}
        {summary.data !== undefined && (
          <p data-testid="dlq-summary">
            {formatCount(summary.data.entries)} dead-lettered event{summary.data.entries === 1 ? "" : "s"} in{" "}
            <code>{summary.data.dlq_topic}</code>
            {summary.data.replayed > 0 && `, ${formatCount(summary.data.replayed)} of them replayed`}
            {summary.data.oldest_at !== null &&
              `; oldest ${formatTime(summary.data.oldest_at)}, newest ${formatTime(summary.data.newest_at)}`}
            .
          </p>
        )}
        <div class="filters">
          <label>
            Error class{" "}
            <select
              value={params.error_class ?? ""}
              onChange={(e) => setFilter({ error_class: (e.target as HTMLSelectElement).value })}
              data-testid="filter-error-class"
            >
              <option value="">any</option>
              {summary.data?.error_classes.map((c) => (
                <option key={c.error_class} value={c.error_class}>
                  {c.error_class} ({c.count})
                </option>
              ))}
              {params.error_class !== undefined &&
                !summary.data?.error_classes.some((c) => c.error_class === params.error_class) && (
                  <option value={params.error_class}>{params.error_class}</option>
                )}
            </select>
          </label>
          <label>
            Reason{" "}
            <select
              value={params.reason ?? ""}
              onChange={(e) => setFilter({ reason: (e.target as HTMLSelectElement).value })}
              data-testid="filter-reason"
            >
              <option value="">any</option>
              {REASONS.map((reason) => (
                <option key={reason} value={reason}>
                  {reason.replace(/_/g, " ")}
                </option>
              ))}
            </select>
          </label>
          <label>
            Show{" "}
            <select
              value={String(limit)}
              onChange={(e) => setFilter({ limit: (e.target as HTMLSelectElement).value })}
            >
              {[100, 500, 1000].map((n) => (
                <option key={n} value={String(n)}>
                  oldest {n}
                </option>
              ))}
            </select>
          </label>
        </div>
        <ErrorNote error={entries.error} what="the dead letters" />
        <table class="selectable">
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="select all shown"
                  checked={list.length > 0 && list.every((e) => selected.has(entryKey(e)))}
                  onChange={(e) =>
                    setSelected(new Set((e.target as HTMLInputElement).checked ? list.map(entryKey) : []))
                  }
                />
              </th>
              <th>Dead-lettered</th>
              <th>Task</th>
              <th>Error</th>
              <th>Reason</th>
              <th>Attempts</th>
              <th>From</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {entries.data !== undefined && list.length === 0 && (
              <tr>
                <td colSpan={8} class="empty">
                  {filtered ? "No dead-lettered event matches the filter." : "The DLQ is empty."}
                </td>
              </tr>
            )}
            {list.map((entry) => {
              const key = entryKey(entry);
              return (
                <tr
                  key={key}
                  class={key === inspected ? "selected" : ""}
                  data-testid="dlq-row"
                  data-task-id={entry.task_id ?? ""}
                  onClick={() => setInspected(key)}
                >
                  <td onClick={(e) => e.stopPropagation()}>
                    <input
                      type="checkbox"
                      aria-label={`select ${entry.task_id ?? key}`}
                      checked={selected.has(key)}
                      onChange={() => toggle(key)}
                      data-testid="dlq-select"
                    />
                  </td>
                  <td class="nowrap">{formatTime(entry.dead_lettered_at)}</td>
                  <td>
                    <code>{entry.task_id ?? "(no id)"}</code>
                  </td>
                  <td>
                    <strong>{entry.error_class ?? "–"}</strong>{" "}
                    <span class="muted clip">{entry.error_message}</span>
                  </td>
                  <td>{entry.reason?.replace(/_/g, " ") ?? "–"}</td>
                  <td>{entry.attempts ?? "–"}</td>
                  <td>
                    {entry.source_topic ?? "–"}
                    {entry.source_partition !== undefined &&
                      ` [${entry.source_partition}] @${entry.source_offset ?? "?"}`}
                  </td>
                  <td>{entry.replayed && <Badge value="replayed" />}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Section>

      {inspectedEntry !== undefined && (
        <Inspect
          entry={inspectedEntry}
          onReplay={() =>
            void startReplay(
              { offsets: [{ partition: inspectedEntry.partition, offset: inspectedEntry.offset }] },
              `task ${inspectedEntry.task_id ?? entryKey(inspectedEntry)}`,
            )
          }
        />
      )}

      {dialog?.kind === "replay" && (
        <ConfirmDialog
          title={`Replay ${dialog.what}?`}
          confirmLabel={
            dialog.preview === undefined
              ? "Replay"
              : `Replay ${formatCount(dialog.preview.replayed_count)} event${dialog.preview.replayed_count === 1 ? "" : "s"}`
          }
          busy={busy}
          disabled={dialog.preview === undefined || dialog.preview.replayed_count === 0}
          onConfirm={() => void confirm()}
          onCancel={() => setDialog(undefined)}
        >
          <p>
            Replayed events go to the agent's retry topic as a first attempt due now, with their original key,
            value and headers; the agent processes them again.
          </p>
          {dialog.preview === undefined ? (
            <p class="muted">Dry run…</p>
          ) : (
            <div data-testid="replay-preview">
              <p>
                Dry run: <strong>{formatCount(dialog.preview.replayed_count)}</strong> would be replayed,{" "}
                {formatCount(dialog.preview.skipped_count)} skipped
                {dialog.preview.not_found.length > 0 && `, ${dialog.preview.not_found.length} not found`}.
              </p>
              <ul class="preview">
                {dialog.preview.replayed.slice(0, 10).map((e) => (
                  <li key={entryKey(e)}>
                    <code>{e.task_id ?? entryKey(e)}</code> {e.error_class}
                  </li>
                ))}
                {dialog.preview.skipped.slice(0, 10).map(({ entry, reason }) => (
                  <li key={entryKey(entry)} class="muted">
                    <code>{entry.task_id ?? entryKey(entry)}</code> skipped: {reason}
                  </li>
                ))}
                {dialog.preview.truncated && <li class="muted">…</li>}
              </ul>
              <label class="check">
                <input
                  type="checkbox"
                  checked={dialog.force}
                  onChange={(e) =>
                    void startReplay(dialog.selector, dialog.what, (e.target as HTMLInputElement).checked)
                  }
                />
                <span>
                  <strong>--force</strong>: replay events that were replayed before, too
                </span>
              </label>
            </div>
          )}
        </ConfirmDialog>
      )}
      {dialog?.kind === "purge" && (
        <ConfirmDialog
          title={`Purge the DLQ of ${name}?`}
          confirmLabel="Purge"
          danger
          busy={busy}
          disabled={dialog.typed !== name}
          onConfirm={() => void confirm()}
          onCancel={() => setDialog(undefined)}
        >
          <p>
            Every dead-lettered event of <code>{name}</code> is deleted from its dead-letter topic
            {summary.data !== undefined && ` (${formatCount(summary.data.entries)} now)`}. This cannot be
            undone.
          </p>
          <label>
            Type the agent's name to confirm:{" "}
            <input
              type="text"
              value={dialog.typed}
              onInput={(e) => setDialog({ kind: "purge", typed: (e.target as HTMLInputElement).value })}
              data-testid="purge-confirm-name"
            />
          </label>
        </ConfirmDialog>
      )}
    </>
  );
}

function Inspect({ entry, onReplay }: { entry: DlqEntry; onReplay(): void }) {
  return (
    <Section
      title={`Dead letter ${entry.task_id ?? entryKey(entry)}`}
      testId="dlq-inspect"
      actions={
        <button type="button" class="primary" onClick={onReplay} data-testid="replay-one">
          Replay this event…
        </button>
      }
    >
      <div class="two-columns">
        <div>
          <h3>Provenance</h3>
          <Fields
            rows={[
              [
                "Source",
                `${entry.source_topic ?? "?"} partition ${entry.source_partition ?? "?"} offset ${entry.source_offset ?? "?"}`,
              ],
              ["Agent", entry.agent],
              ["Consumer group", entry.consumer_group],
              ["Attempts", entry.attempts],
              ["First failure", formatTime(entry.first_failure_at)],
              ["Last failure", formatTime(entry.last_failure_at)],
              ["Dead-lettered", formatTime(entry.dead_lettered_at)],
              ["Reason", entry.reason],
              ["DLQ record", `partition ${entry.partition} offset ${entry.offset}`],
              ["Key", entry.key === null ? "(none)" : <code>{entry.key}</code>],
              ["Replay of", entry.replay_of],
              ["Replayed", entry.replayed ? "yes" : "no"],
            ]}
          />
        </div>
        <div>
          <h3>Error</h3>
          <p data-testid="dlq-error">
            <strong>{entry.error_class ?? "(no class)"}</strong>: {entry.error_message ?? "(no message)"}
          </p>
          {entry.error_stack !== undefined && <pre class="stack">{entry.error_stack}</pre>}
        </div>
      </div>
      <h3>Event</h3>
      {entry.envelope !== undefined ? (
        <Json value={entry.envelope} testId="dlq-envelope" />
      ) : (
        <>
          <p class="muted">Not a valid envelope ({formatCount(entry.value_bytes)} bytes); the raw value:</p>
          <pre class="json">{entry.raw_value ?? "(no value)"}</pre>
        </>
      )}
      <details>
        <summary>Headers</summary>
        <Json value={entry.headers} />
      </details>
    </Section>
  );
}
