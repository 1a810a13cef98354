import type { HealthStatus } from "@omnidaemon/protocol";
import { Badge, ErrorNote, Fields, Section, Updated } from "../components";
import { formatAgo, formatCount, formatMs, formatSpan, formatTime } from "../format";
import { useNow, usePoll, useSession } from "../poll";
import { routeHref } from "../router";

/** What each status means, as docs/control-plane.md ("Health") defines it. */
export const HEALTH_STATUSES: Array<[HealthStatus, string]> = [
  ["running", "every active agent has at least one live worker consuming it"],
  ["degraded", "some active agents have live consumers and some do not, or result ingestion stopped"],
  ["stopped", "agents are registered, but no worker is live at all"],
  ["ready", "no active agents registered; Kafka and Postgres are healthy"],
  ["down", "Kafka or Postgres does not answer"],
];

export function FleetPage() {
  const { api } = useSession();
  const now = useNow();
  // /health answers 503 with its report when the fleet is down; the report is what the page shows then.
  const health = usePoll("health", () => api.healthReport());
  const workers = usePoll("workers", () => api.listWorkers());
  const report = health.data;
  const liveWorkers = workers.data?.filter((w) => w.live) ?? [];
  const goneWorkers = workers.data?.filter((w) => !w.live) ?? [];

  return (
    <div class="page" data-testid="fleet-page">
      <Section title="Health" testId="health" actions={<Updated at={health.updatedAt} now={now} />}>
        <ErrorNote error={health.error} what="the fleet's health" />
        {report !== undefined && (
          <div class="health">
            <div class="health-status">
              <Badge value={report.status} testId="health-status" />
              <ul class="statuses">
                {HEALTH_STATUSES.map(([status, meaning]) => (
                  <li key={status} class={status === report.status ? "current" : ""}>
                    <Badge value={status} /> {meaning}
                  </li>
                ))}
              </ul>
            </div>
            <Fields
              rows={[
                [
                  "Kafka",
                  report.kafka.ok
                    ? `ok (${formatMs(report.kafka.latency_ms)})`
                    : `down: ${report.kafka.error ?? ""}`,
                ],
                [
                  "Postgres",
                  report.postgres.ok
                    ? `ok (${formatMs(report.postgres.latency_ms)})`
                    : `down: ${report.postgres.error ?? ""}`,
                ],
                ["Registered agents", formatCount(report.registered_agents)],
                ["Active consumers", formatCount(report.active_consumers)],
                ["Live workers", formatCount(report.workers.length)],
                [
                  "Uptime",
                  report.uptime_seconds === null ? "– (no live worker)" : formatSpan(report.uptime_seconds),
                ],
                [
                  "Result ingestion",
                  report.ingestion === undefined
                    ? "–"
                    : `${report.ingestion.running ? "running" : "stopped"}, lag ${report.ingestion.lag ?? "unknown"}` +
                      (report.ingestion.restarts > 0 ? `, ${report.ingestion.restarts} restarts` : "") +
                      (report.ingestion.last_error !== undefined ? ` (${report.ingestion.last_error})` : ""),
                ],
                ["Checked", formatTime(report.checked_at)],
              ]}
            />
          </div>
        )}
      </Section>

      <Section
        title={`Workers (${liveWorkers.length} live)`}
        testId="workers"
        actions={<Updated at={workers.updatedAt} now={now} />}
      >
        <ErrorNote error={workers.error} what="the workers" />
        <table>
          <thead>
            <tr>
              <th>Worker</th>
              <th>Host / pid</th>
              <th>Version</th>
              <th>Up for</th>
              <th>Last heartbeat</th>
              <th>Agents (consumer status, partitions, in flight)</th>
            </tr>
          </thead>
          <tbody>
            {liveWorkers.length === 0 && (
              <tr>
                <td colSpan={6} class="empty">
                  No live worker. Start one with <code>omnidaemon worker --agents ./agents.js</code>.
                </td>
              </tr>
            )}
            {liveWorkers.map((worker) => (
              <tr key={worker.id} data-testid="worker-row" data-worker-id={worker.id}>
                <td>
                  <code>{worker.id}</code>
                </td>
                <td>
                  {worker.host} / {worker.pid}
                </td>
                <td>{worker.version}</td>
                <td>{formatSpan((now - Date.parse(worker.started_at)) / 1000)}</td>
                <td title={formatTime(worker.last_heartbeat)}>{formatAgo(worker.last_heartbeat, now)}</td>
                <td>
                  <ul class="plain">
                    {worker.agents.map((agent) => (
                      <li key={`${agent.topic}/${agent.name}`}>
                        <a href={routeHref("agents", { topic: agent.topic, name: agent.name })}>
                          {agent.name}
                        </a>{" "}
                        <Badge value={agent.status} /> {agent.assigned_partitions} partitions,{" "}
                        {agent.in_flight} in flight{agent.member ? "" : " (not a group member)"}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {goneWorkers.length > 0 && (
          <p class="note">
            {goneWorkers.length} stopped or silent worker{goneWorkers.length === 1 ? "" : "s"} kept in the
            registry:{" "}
            {goneWorkers
              .map((w) => `${w.id} (last heartbeat ${formatAgo(w.last_heartbeat, now)})`)
              .join(", ")}
            .
          </p>
        )}
      </Section>

      <Section title="Registered agents" testId="fleet-agents">
        <table>
          <thead>
            <tr>
              <th>Topic</th>
              <th>Agent</th>
              <th>Desired state</th>
              <th>Live consumers</th>
            </tr>
          </thead>
          <tbody>
            {report?.agents.length === 0 && (
              <tr>
                <td colSpan={4} class="empty">
                  No agent registered yet.
                </td>
              </tr>
            )}
            {report?.agents.map((agent) => (
              <tr key={`${agent.topic}/${agent.name}`} data-testid="fleet-agent-row">
                <td>{agent.topic}</td>
                <td>
                  <a href={routeHref("agents", { topic: agent.topic, name: agent.name })}>{agent.name}</a>
                </td>
                <td>
                  <Badge value={agent.state} />
                </td>
                <td>{agent.live_consumers}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}
