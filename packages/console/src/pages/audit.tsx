import { ErrorNote, Json, Section, Updated } from "../components";
import { formatTime } from "../format";
import { useNow, usePoll, useSession } from "../poll";
import { routeHref } from "../router";

export function AuditPage({ params }: { params: Record<string, string> }) {
  const { api } = useSession();
  const now = useNow();
  const { topic, agent } = params;
  const audit = usePoll(`audit:${topic ?? ""}/${agent ?? ""}`, () =>
    api.auditLog({
      limit: 200,
      ...(topic !== undefined && { topic }),
      ...(agent !== undefined && { agent }),
    }),
  );
  return (
    <div class="page" data-testid="audit-page">
      <Section title="Audit log" testId="audit" actions={<Updated at={audit.updatedAt} now={now} />}>
        <p class="note">
          Every change made through the API — by the CLI, the SDK or this console (actor <code>console</code>)
          — newest first.
          {(topic !== undefined || agent !== undefined) && (
            <>
              {" "}
              Showing{" "}
              {topic !== undefined && (
                <>
                  topic <code>{topic}</code>{" "}
                </>
              )}
              {agent !== undefined && (
                <>
                  agent <code>{agent}</code>{" "}
                </>
              )}
              only: <a href={routeHref("audit")}>show all</a>.
            </>
          )}
        </p>
        <ErrorNote error={audit.error} what="the audit log" />
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Topic</th>
              <th>Agent</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {audit.data?.length === 0 && (
              <tr>
                <td colSpan={6} class="empty">
                  Nothing recorded yet.
                </td>
              </tr>
            )}
            {audit.data?.map((entry) => (
              <tr key={entry.id} data-testid="audit-row" data-action={entry.action}>
                <td>{formatTime(entry.at)}</td>
                <td>
                  <code>{entry.actor}</code>
                </td>
                <td>{entry.action.replace(/_/g, " ")}</td>
                <td>
                  {entry.topic === null ? (
                    "–"
                  ) : (
                    <a href={routeHref("audit", { topic: entry.topic })}>{entry.topic}</a>
                  )}
                </td>
                <td>
                  {entry.agent === null || entry.topic === null ? (
                    "–"
                  ) : (
                    <a href={routeHref("audit", { topic: entry.topic, agent: entry.agent })}>{entry.agent}</a>
                  )}
                </td>
                <td>{entry.details === null ? "–" : <Json value={entry.details} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}
