import {
  RATE_LIMIT_SCOPES,
  formatRateLimit,
  formatTenantWeights,
  type AgentLimitsAnswer,
  type RateLimitScope,
} from "@omnidaemon/protocol";
import { useState } from "preact/hooks";
import { failureOf } from "../api";
import { ErrorNote, Fields, Section, Updated } from "../components";
import { LimitsFormError, formOfLimits, overrideOfForm, type LimitsForm } from "../limits-form";
import { useNow, usePoll, useSession } from "../poll";

/**
 * An agent's fleet-wide limits (docs/rate-limits.md): what every worker enforces, where it comes from (the agent's
 * config, or an operator's override), and a form that changes them live, fleet-wide — what `omnidaemon agent
 * limits` does.
 */
export function LimitsSection({ topic, name }: { topic: string; name: string }) {
  const { api } = useSession();
  const now = useNow();
  const limits = usePoll(`limits:${topic}/${name}`, () => api.getLimits(topic, name));
  const [form, setForm] = useState<LimitsForm | undefined>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>();

  const answer = limits.data;
  const effective = answer?.limits.effective;
  const override = answer?.limits.override ?? null;

  const change = async (send: () => Promise<AgentLimitsAnswer>, done: string): Promise<void> => {
    setBusy(true);
    try {
      const changed = await send();
      setOutcome({
        ok: true,
        text: `${done}; every worker applies revision ${changed.revision} within seconds`,
      });
      setForm(undefined);
    } catch (error) {
      setOutcome({ ok: false, text: failureOf(error).message });
    } finally {
      setBusy(false);
      limits.refresh();
    }
  };

  const apply = (): void => {
    if (form === undefined) return;
    let body;
    try {
      body = overrideOfForm(form, override);
    } catch (error) {
      if (error instanceof LimitsFormError) {
        setOutcome({ ok: false, text: error.message });
        return;
      }
      throw error;
    }
    void change(() => api.setLimits(topic, name, body), "limits changed fleet-wide");
  };

  const field = (key: keyof LimitsForm, label: string, hint: string) => (
    <label>
      {label}{" "}
      <input
        type="text"
        inputMode="decimal"
        size={8}
        value={form?.[key] ?? ""}
        placeholder={hint}
        onInput={(e) => form && setForm({ ...form, [key]: (e.target as HTMLInputElement).value })}
        data-testid={`limits-${key}`}
      />
    </label>
  );

  return (
    <Section
      title="Limits"
      testId="agent-limits"
      actions={
        <>
          <Updated at={limits.updatedAt} now={now} />
          {effective !== undefined && form === undefined && (
            <button type="button" onClick={() => setForm(formOfLimits(effective))} data-testid="limits-edit">
              Change…
            </button>
          )}
          {override !== null && form === undefined && (
            <button
              type="button"
              disabled={busy}
              onClick={() => void change(() => api.clearLimits(topic, name), "override cleared")}
              data-testid="limits-clear"
            >
              Clear override
            </button>
          )}
        </>
      }
    >
      {outcome !== undefined && (
        <p class={outcome.ok ? "ok" : "error"} role="status" data-testid="limits-outcome">
          {outcome.text}
        </p>
      )}
      <ErrorNote error={limits.error} what="the limits" />
      {effective !== undefined && (
        <Fields
          rows={[
            [
              "Rate",
              <span data-testid="limits-rate">{formatRateLimit(effective.rateLimit, "no limit")}</span>,
            ],
            [
              "Max in flight",
              <span data-testid="limits-in-flight">{effective.maxInFlight ?? "no limit"}</span>,
            ],
            ["Tenant weights", formatTenantWeights(effective.tenantWeights, "all equal")],
            [
              "From",
              <span data-testid="limits-source">
                {override === null ? "the agent's config" : "an operator's override of the agent's config"}
              </span>,
            ],
          ]}
        />
      )}
      {form !== undefined && (
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
          data-testid="limits-form"
        >
          {field("perSecond", "Events / s", "no limit")}
          {field("burst", "Burst", "1 s of rate")}
          <label>
            Scope{" "}
            <select
              value={form.scope}
              onChange={(e) =>
                setForm({ ...form, scope: (e.target as HTMLSelectElement).value as RateLimitScope })
              }
              data-testid="limits-scope"
            >
              {RATE_LIMIT_SCOPES.map((scope) => (
                <option key={scope} value={scope}>
                  per {scope}
                </option>
              ))}
            </select>
          </label>
          {field("maxInFlight", "Max in flight", "no limit")}
          <button type="submit" class="primary" disabled={busy} data-testid="limits-apply">
            Apply fleet-wide
          </button>
          <button type="button" onClick={() => setForm(undefined)}>
            Cancel
          </button>
        </form>
      )}
      <p class="note">
        Fleet-wide: each worker enforces its share, by the partitions it owns. An empty field is no limit. The
        override survives restarts and re-registration; clearing it brings back the agent's configured limits.
      </p>
    </Section>
  );
}
