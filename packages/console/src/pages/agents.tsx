import type { AgentView, GroupLag } from "@omnidaemon/protocol";
import { useState } from "preact/hooks";
import { failureOf } from "../api";
import { deadLetters, failureRate, throughput } from "../chart";
import { Badge, ConfirmDialog, ErrorNote, Fields, Json, Section, Sparkline, Updated } from "../components";
import { formatCount, formatMs, formatPercent, formatTime } from "../format";
import { DLQ_POLL_INTERVAL_MS, useNow, usePoll, useSession } from "../poll";
import { routeHref } from "../router";
import { LimitsSection } from "./limits";

export function AgentsPage({ params }: { params: Record<string, string> }) {
  const { api } = useSession();
  const now = useNow();
  const agents = usePoll("agents", () => api.listAgents());
  const all = Object.values(agents.data ?? {}).flat();
  const selected = all.find((a) => a.topic === params.topic && a.name === params.name);

  return (
    <div class="page split" data-testid="agents-page">
      <Section title="Agents" testId="agent-list" actions={<Updated at={agents.updatedAt} now={now} />}>
        <ErrorNote error={agents.error} what="the agents" />
        {agents.data !== undefined && all.length === 0 && <p class="empty">No agent registered yet.</p>}
        {Object.entries(agents.data ?? {}).map(([topic, list]) => (
          <div key={topic} class="topic-group">
            <h3>{topic}</h3>
            <ul class="agent-list">
              {list.map((agent) => (
                <li key={agent.name} class={agent === selected ? "selected" : ""}>
                  <a
                    href={routeHref("agents", { topic: agent.topic, name: agent.name })}
                    data-testid="agent-link"
                    data-agent={agent.name}
                  >
                    {agent.name}
                  </a>
                  <Badge value={agent.state} />
                  <span class="muted">{agent.live_consumers} live</span>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </Section>
      {params.topic !== undefined && params.name !== undefined ? (
        selected !== undefined ? (
          <AgentDetail
            key={`${selected.topic}/${selected.name}`}
            agent={selected}
            refreshList={agents.refresh}
          />
        ) : (
          agents.data !== undefined && (
            <Section title={params.name}>
              <p class="empty">
                Agent <code>{params.name}</code> is not registered on <code>{params.topic}</code> (deleted?).
              </p>
            </Section>
          )
        )
      ) : (
        <Section title="Choose an agent">
          <p class="empty">Pick an agent on the left to see its state, lag, throughput and dead letters.</p>
        </Section>
      )}
    </div>
  );
}

type Action = "pause" | "resume" | "delete";

function AgentDetail({ agent: listed, refreshList }: { agent: AgentView; refreshList(): void }) {
  const { api } = useSession();
  const now = useNow();
  const { topic, name } = listed;
  const key = `${topic}/${name}`;
  const detail = usePoll(`agent:${key}`, () => api.getAgent(topic, name));
  const lag = usePoll(`lag:${key}`, () => api.busLag({ topic, agent: name }));
  const history = usePoll(`history:${key}`, () => api.metricsHistory({ topic, agent: name }));
  const summary = usePoll(`summary:${topic}`, () => api.metricsSummary({ topic }));
  const dlq = usePoll(
    `dlq-summary:${key}`,
    () => api.dlqSummary({ topic, agent: name }),
    DLQ_POLL_INTERVAL_MS,
  );
  const [action, setAction] = useState<Action | undefined>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>();
  const [deleteGroup, setDeleteGroup] = useState(false);
  const [deleteDlq, setDeleteDlq] = useState(false);

  const agent = detail.data ?? listed;
  const counters = summary.data?.find((s) => s.agent === name);
  const points = history.data?.points ?? [];

  const run = async (): Promise<void> => {
    setBusy(true);
    try {
      if (action === "pause") setOutcome({ ok: true, text: (await api.pauseAgent(topic, name)).message });
      else if (action === "resume")
        setOutcome({ ok: true, text: (await api.resumeAgent(topic, name)).message });
      else if (action === "delete") {
        const result = await api.deleteAgent(topic, name, { deleteGroup, deleteDlq });
        setOutcome({
          ok: true,
          text:
            `deleted fleet-wide` +
            (result.cleanup_pending ? "; Kafka cleanup runs once no worker is a member of its group" : ""),
        });
      }
    } catch (error) {
      setOutcome({ ok: false, text: failureOf(error).message });
    } finally {
      setBusy(false);
      setAction(undefined);
      detail.refresh();
      refreshList();
    }
  };

  return (
    <div class="detail" data-testid="agent-detail">
      <Section
        title={name}
        testId="agent-summary"
        actions={
          <>
            <Updated at={detail.updatedAt} now={now} />
            {agent.state === "paused" ? (
              <button type="button" class="primary" onClick={() => setAction("resume")} data-testid="resume">
                Resume
              </button>
            ) : (
              <button type="button" onClick={() => setAction("pause")} data-testid="pause">
                Pause
              </button>
            )}
            <button type="button" class="danger" onClick={() => setAction("delete")} data-testid="delete">
              Delete…
            </button>
          </>
        }
      >
        {outcome !== undefined && (
          <p class={outcome.ok ? "ok" : "error"} role="status" data-testid="agent-outcome">
            {outcome.text}
          </p>
        )}
        <ErrorNote error={detail.error} what="the agent" />
        <Fields
          rows={[
            ["State", <Badge value={agent.state} testId="agent-state" />],
            ["Live consumers", <span data-testid="live-consumers">{agent.live_consumers}</span>],
            ["Topic", <code>{agent.topic}</code>],
            ["Consumer group", <code>{agent.consumer_group}</code>],
            ["Dead-letter topic", <code>{agent.dlq_topic}</code>],
            ["Description", agent.description || "–"],
            ["Version", agent.version ?? "–"],
            ["Tags", agent.tags.length === 0 ? "–" : agent.tags.join(", ")],
            ["Revision", agent.revision],
            ["Registered", formatTime(agent.registered_at)],
            ["Updated", formatTime(agent.updated_at)],
          ]}
        />
        <details>
          <summary>Config</summary>
          <Json value={agent.config} />
        </details>
      </Section>

      <LimitsSection topic={topic} name={name} />

      <Section
        title="Throughput and failures"
        testId="agent-charts"
        actions={<Updated at={history.updatedAt} now={now} />}
      >
        <ErrorNote error={history.error} what="the history" />
        <div class="charts">
          <Sparkline
            title="completed / s"
            series={throughput(points)}
            format={(v) => v.toFixed(v < 10 ? 2 : 0)}
            testId="chart-throughput"
          />
          <Sparkline
            title="failed attempts"
            series={failureRate(points)}
            format={formatPercent}
            minMax={0.05}
            testId="chart-failures"
          />
          <Sparkline
            title="dead-lettered"
            series={deadLetters(points)}
            format={(v) => formatCount(v)}
            minMax={1}
            testId="chart-dead-letters"
          />
        </div>
        <p class="note">
          One point per {((history.data?.sample_interval_ms ?? 10_000) / 1000).toString()} s interval over the
          last {points.length} intervals, sampled by this coordinator since it started.
          {counters !== undefined && (
            <>
              {" "}
              Lifetime: {formatCount(counters.received)} received, {formatCount(counters.succeeded)}{" "}
              completed, {formatCount(counters.failed)} failed attempts, {formatCount(counters.retried)}{" "}
              retried, {formatCount(counters.dead_lettered)} dead-lettered; latency p50{" "}
              {formatMs(counters.latency_ms.p50)}, p95 {formatMs(counters.latency_ms.p95)}, p99{" "}
              {formatMs(counters.latency_ms.p99)}.
            </>
          )}
        </p>
      </Section>

      <Section
        title={`Lag${lag.data === undefined ? "" : ` (${formatCount(lag.data.total)} total)`}`}
        testId="agent-lag"
        actions={<Updated at={lag.updatedAt} now={now} />}
      >
        <ErrorNote error={lag.error} what="the lag" />
        {lag.data !== undefined && <LagTable lag={lag.data} />}
        <p class="note">
          Records not yet consumed by the group, per partition (hover a cell for its committed and end
          offsets).
        </p>
      </Section>

      <Section
        title="Dead letters"
        testId="agent-dlq"
        actions={
          <a class="button" href={routeHref("dlq", { topic, name })}>
            Open DLQ
          </a>
        }
      >
        <ErrorNote error={dlq.error} what="the DLQ summary" />
        {dlq.data === undefined ? (
          !dlq.error && <p class="muted">reading the dead-letter topic…</p>
        ) : (
          <p data-testid="dlq-size">
            {formatCount(dlq.data.entries)} dead-lettered event{dlq.data.entries === 1 ? "" : "s"}
            {dlq.data.replayed > 0 && `, ${formatCount(dlq.data.replayed)} replayed`}
            {dlq.data.error_classes.length > 0 &&
              ` — ${dlq.data.error_classes.map((c) => `${c.error_class} × ${c.count}`).join(", ")}`}
          </p>
        )}
      </Section>

      {action === "pause" && (
        <ConfirmDialog
          title={`Pause ${name}?`}
          confirmLabel="Pause fleet-wide"
          busy={busy}
          onConfirm={() => void run()}
          onCancel={() => setAction(undefined)}
        >
          <p>
            Every worker stops consuming <code>{name}</code> within seconds. Its consumer group, committed
            offsets and dead-letter topic are kept; events published meanwhile wait in <code>{topic}</code>{" "}
            until you resume it. The pause is durable: restarts and scaling do not undo it.
          </p>
        </ConfirmDialog>
      )}
      {action === "resume" && (
        <ConfirmDialog
          title={`Resume ${name}?`}
          confirmLabel="Resume fleet-wide"
          busy={busy}
          onConfirm={() => void run()}
          onCancel={() => setAction(undefined)}
        >
          <p>
            Workers consume it again from its committed offsets: the events that waited are processed, none
            skipped.
          </p>
        </ConfirmDialog>
      )}
      {action === "delete" && (
        <ConfirmDialog
          title={`Delete ${name}?`}
          confirmLabel="Delete agent"
          danger
          busy={busy}
          onConfirm={() => void run()}
          onCancel={() => setAction(undefined)}
        >
          <p>
            The agent is removed from the registry and every worker stops consuming it within seconds. By
            default its consumer group (with the committed offsets) and its dead-letter topic are kept.
          </p>
          <label class="check">
            <input
              type="checkbox"
              checked={deleteGroup}
              onChange={(e) => setDeleteGroup((e.target as HTMLInputElement).checked)}
              data-testid="delete-group"
            />
            <span>
              <strong>--cleanup</strong>: also delete its consumer group <code>{agent.consumer_group}</code>{" "}
              and its committed offsets
            </span>
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={deleteDlq}
              onChange={(e) => setDeleteDlq((e.target as HTMLInputElement).checked)}
              data-testid="delete-dlq"
            />
            <span>
              <strong>--delete-dlq</strong>: also delete its dead-letter topic <code>{agent.dlq_topic}</code>{" "}
              and the events in it
            </span>
          </label>
          <p class="note">Kafka cleanup runs once no worker is a member of the group any more.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

/** One row per topic (the agent's topic and its retry topic), one column per partition. */
function LagTable({ lag }: { lag: GroupLag }) {
  const topics = [...new Set(lag.partitions.map((p) => p.topic))];
  const partitions = [...new Set(lag.partitions.map((p) => p.partition))].sort((a, b) => a - b);
  return (
    <table class="lag">
      <thead>
        <tr>
          <th>Topic</th>
          <th>Total</th>
          {partitions.map((p) => (
            <th key={p}>p{p}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {topics.map((topic) => {
          const cells = lag.partitions.filter((p) => p.topic === topic);
          return (
            <tr key={topic} data-testid="lag-row" data-topic={topic}>
              <td>
                <code>{topic}</code>
              </td>
              <td>{formatCount(cells.reduce((sum, p) => sum + p.lag, 0))}</td>
              {partitions.map((partition) => {
                const cell = cells.find((p) => p.partition === partition);
                return (
                  <td
                    key={partition}
                    class={cell !== undefined && cell.lag > 0 ? "warn" : ""}
                    title={
                      cell === undefined ? "" : `committed ${cell.committed ?? "none"}, end ${cell.high}`
                    }
                  >
                    {cell === undefined ? "" : formatCount(cell.lag)}
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
