import type { TaskRecord, TaskStatus } from "@omnidaemon/protocol";
import { formatAttempts } from "@omnidaemon/protocol";
import { useState } from "preact/hooks";
import { failureOf } from "../api";
import { Badge, ErrorNote, Json, Section, Updated } from "../components";
import { formatMs, formatTime } from "../format";
import { useNow, usePoll, useSession } from "../poll";
import { routeHref } from "../router";

const STATUSES: TaskStatus[] = ["pending", "processing", "completed", "failed", "dead_lettered"];

export function TasksPage({ params }: { params: Record<string, string> }) {
  const { api } = useSession();
  const now = useNow();
  const [by, setBy] = useState<"id" | "correlation_id">(
    params.correlation_id !== undefined ? "correlation_id" : "id",
  );
  const [text, setText] = useState(params.id ?? params.correlation_id ?? "");
  const search = (event: Event): void => {
    event.preventDefault();
    const value = text.trim();
    location.hash = routeHref("tasks", value === "" ? {} : { [by]: value });
  };

  // A lookup by id answers 404 for an unknown or expired task: shown as "not found", not as an error.
  const byId = usePoll(
    `task:${params.id ?? ""}`,
    params.id === undefined ? undefined : () => api.getTask(params.id as string),
  );
  const byCorrelation = usePoll(
    `tasks-corr:${params.correlation_id ?? ""}`,
    params.correlation_id === undefined
      ? undefined
      : () => api.listTasks({ correlation_id: params.correlation_id as string, limit: 200 }),
  );
  const lookingUp = params.id !== undefined || params.correlation_id !== undefined;
  const recent = usePoll(
    `tasks-recent:${params.topic ?? ""}/${params.status ?? ""}/${String(lookingUp)}`,
    lookingUp
      ? undefined
      : () =>
          api.listTasks({
            limit: 50,
            ...(params.topic !== undefined && { topic: params.topic }),
            ...(params.status !== undefined && { status: params.status as TaskStatus }),
          }),
  );

  return (
    <div class="page" data-testid="tasks-page">
      <Section title="Find a task">
        <form class="search" onSubmit={search}>
          <select
            value={by}
            onChange={(e) => setBy((e.target as HTMLSelectElement).value as typeof by)}
            data-testid="task-search-by"
          >
            <option value="id">task id</option>
            <option value="correlation_id">correlation id</option>
          </select>
          <input
            type="search"
            placeholder={by === "id" ? "task id, e.g. 0b6e4c1e-…" : "correlation id"}
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
            data-testid="task-search"
          />
          <button type="submit" class="primary">
            Find
          </button>
        </form>
      </Section>

      {params.id !== undefined && (
        <Section
          title={`Task ${params.id}`}
          testId="task-result"
          actions={<Updated at={byId.updatedAt} now={now} />}
        >
          {byId.error !== undefined && failureOf(byId.error).status === 404 ? (
            <p class="empty">
              No task with this id: unknown, or its records expired (results are kept 24 h by default).
            </p>
          ) : (
            <ErrorNote error={byId.error} what="the task" />
          )}
          {byId.data !== undefined && <Records records={byId.data.records} />}
        </Section>
      )}

      {params.correlation_id !== undefined && (
        <Section
          title={`Tasks with correlation id ${params.correlation_id}`}
          testId="task-result"
          actions={<Updated at={byCorrelation.updatedAt} now={now} />}
        >
          <ErrorNote error={byCorrelation.error} what="the tasks" />
          {byCorrelation.data?.length === 0 && <p class="empty">No task with this correlation id.</p>}
          {byCorrelation.data !== undefined && byCorrelation.data.length > 0 && (
            <Records records={byCorrelation.data} showTask />
          )}
        </Section>
      )}

      {!lookingUp ? (
        <Section
          title="Recent tasks"
          testId="recent-tasks"
          actions={<Updated at={recent.updatedAt} now={now} />}
        >
          <div class="filters">
            <label>
              Status{" "}
              <select
                value={params.status ?? ""}
                onChange={(e) =>
                  (location.hash = routeHref("tasks", {
                    ...params,
                    status: (e.target as HTMLSelectElement).value,
                  }))
                }
              >
                <option value="">any</option>
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s.replace(/_/g, " ")}
                  </option>
                ))}
              </select>
            </label>
            {params.topic !== undefined && (
              <span>
                topic <code>{params.topic}</code>{" "}
                <a href={routeHref("tasks", { status: params.status })}>(all topics)</a>
              </span>
            )}
          </div>
          <ErrorNote error={recent.error} what="the recent tasks" />
          {recent.data !== undefined && <Records records={recent.data} showTask compact />}
        </Section>
      ) : null}
    </div>
  );
}

function Records({
  records,
  showTask = false,
  compact = false,
}: {
  records: TaskRecord[];
  showTask?: boolean;
  compact?: boolean;
}) {
  return (
    <table>
      <thead>
        <tr>
          {showTask && <th>Task</th>}
          <th>Topic</th>
          <th>Agent</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Created</th>
          <th>Started</th>
          <th>Finished</th>
          <th>Duration</th>
          <th>{compact ? "Correlation" : "Result / last error"}</th>
        </tr>
      </thead>
      <tbody>
        {records.length === 0 && (
          <tr>
            <td colSpan={showTask ? 10 : 9} class="empty">
              No task records.
            </td>
          </tr>
        )}
        {records.map((r) => (
          <tr key={`${r.task_id}/${r.agent}`} data-testid="task-record" data-agent={r.agent}>
            {showTask && (
              <td>
                <a href={routeHref("tasks", { id: r.task_id })}>
                  <code>{r.task_id}</code>
                </a>
              </td>
            )}
            <td>{r.topic}</td>
            <td>{r.agent === "" ? <span class="muted">(no agent yet)</span> : r.agent}</td>
            <td>
              <Badge value={r.status} testId="task-status" />
            </td>
            <td data-testid="task-attempts">{formatAttempts(r)}</td>
            <td>{formatTime(r.created_at)}</td>
            <td>{formatTime(r.started_at)}</td>
            <td>{formatTime(r.finished_at)}</td>
            <td>{formatMs(r.duration_ms)}</td>
            <td>
              {compact ? (
                r.correlation_id === null ? (
                  "–"
                ) : (
                  <a href={routeHref("tasks", { correlation_id: r.correlation_id })}>{r.correlation_id}</a>
                )
              ) : (
                <>
                  {r.last_error !== null && (
                    <p class="error-text">
                      <strong>{r.last_error.class}</strong>: {r.last_error.message}
                    </p>
                  )}
                  {r.status === "completed" && <Json value={r.result} testId="task-result-json" />}
                  {r.correlation_id !== null && (
                    <p class="muted">
                      correlation{" "}
                      <a href={routeHref("tasks", { correlation_id: r.correlation_id })}>
                        {r.correlation_id}
                      </a>
                      {r.tenant_id !== null && `, tenant ${r.tenant_id}`}
                    </p>
                  )}
                </>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
