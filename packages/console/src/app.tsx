import { useEffect, useMemo, useState } from "preact/hooks";
import { consoleClient, failureOf, isUnauthorized, isUnreachable } from "./api";
import { AgentsPage } from "./pages/agents";
import { AuditPage } from "./pages/audit";
import { DlqPage } from "./pages/dlq";
import { FleetPage } from "./pages/fleet";
import { TasksPage } from "./pages/tasks";
import { POLL_INTERVAL_MS, SessionContext, useHash, type Session } from "./poll";
import { PAGE_TITLES, PAGES, parseRoute, routeHref } from "./router";
import { forgetToken, storedToken, storeToken } from "./session";

type Auth =
  | { state: "checking" }
  | { state: "signed-in" }
  | { state: "sign-in"; message?: string }
  | { state: "unreachable"; message: string };

/**
 * Whether `token` (or none) opens the API: one authenticated read. 401 means sign in; any other answer means the
 * API is reachable with these credentials (its own errors show on the pages).
 */
async function probe(token: string | undefined): Promise<Auth> {
  try {
    await consoleClient(token).listAgents();
    return { state: "signed-in" };
  } catch (error) {
    if (isUnauthorized(error)) {
      return token === undefined
        ? { state: "sign-in" }
        : {
            state: "sign-in",
            message: "The coordinator refused this token (401). Check OMNIDAEMON_API_TOKEN.",
          };
    }
    if (isUnreachable(error)) return { state: "unreachable", message: failureOf(error).message };
    return { state: "signed-in" };
  }
}

export function App() {
  const [token, setToken] = useState<string | undefined>(() => storedToken());
  const [auth, setAuth] = useState<Auth>({ state: "checking" });
  // Bumped to check again with the same token (Retry, or the same token submitted twice).
  const [attempt, setAttempt] = useState(0);
  const hash = useHash();
  const route = parseRoute(hash);

  useEffect(() => {
    let current = true;
    setAuth({ state: "checking" });
    void probe(token).then((result) => {
      if (!current) return;
      if (result.state === "sign-in" && token !== undefined) forgetToken();
      setAuth(result);
    });
    return () => {
      current = false;
    };
  }, [token, attempt]);

  useEffect(() => {
    document.title = `${PAGE_TITLES[route.page]} · omnidaemon console`;
  }, [route.page]);

  const session = useMemo<Session>(
    () => ({
      api: consoleClient(token),
      unauthorized: () => {
        forgetToken();
        setAuth({
          state: "sign-in",
          message: "The coordinator no longer accepts the token (401): sign in again.",
        });
      },
    }),
    [token],
  );

  const signOut = (): void => {
    forgetToken();
    setToken(undefined);
  };

  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href={routeHref("fleet")}>
          omnidaemon <span>console</span>
        </a>
        {auth.state === "signed-in" && (
          <nav>
            {PAGES.map((page) => (
              <a
                key={page}
                href={routeHref(page)}
                class={page === route.page ? "active" : ""}
                data-testid={`nav-${page}`}
              >
                {PAGE_TITLES[page]}
              </a>
            ))}
          </nav>
        )}
        <div class="session">
          {auth.state === "signed-in" && (
            <>
              <span class="muted" title={`every page refreshes every ${POLL_INTERVAL_MS / 1000} s`}>
                live · {POLL_INTERVAL_MS / 1000} s
              </span>
              {token !== undefined ? (
                <button type="button" onClick={signOut} data-testid="sign-out">
                  Sign out
                </button>
              ) : (
                <span class="muted">no token (loopback)</span>
              )}
            </>
          )}
        </div>
      </header>
      <main>
        {auth.state === "checking" && <p class="muted">Connecting to the coordinator…</p>}
        {auth.state === "unreachable" && (
          <p class="error" role="alert">
            {auth.message}. Is the coordinator running?{" "}
            <button type="button" onClick={() => setAttempt((n) => n + 1)}>
              Retry
            </button>
          </p>
        )}
        {auth.state === "sign-in" && (
          <SignIn
            message={auth.message}
            onToken={(value) => {
              storeToken(value);
              setToken(value);
              setAttempt((n) => n + 1);
            }}
          />
        )}
        {auth.state === "signed-in" && (
          <SessionContext.Provider value={session}>
            {route.page === "fleet" && <FleetPage />}
            {route.page === "agents" && <AgentsPage params={route.params} />}
            {route.page === "dlq" && <DlqPage params={route.params} />}
            {route.page === "tasks" && <TasksPage params={route.params} />}
            {route.page === "audit" && <AuditPage params={route.params} />}
          </SessionContext.Provider>
        )}
      </main>
    </div>
  );
}

function SignIn({ message, onToken }: { message: string | undefined; onToken(token: string): void }) {
  const [value, setValue] = useState("");
  return (
    <form
      class="card sign-in"
      data-testid="sign-in"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim() !== "") onToken(value.trim());
      }}
    >
      <h2>Sign in</h2>
      <p>
        This coordinator requires its API token (<code>OMNIDAEMON_API_TOKEN</code>). It is kept in this tab's
        session storage only and sent to this coordinator alone.
      </p>
      {message !== undefined && (
        <p class="error" role="alert" data-testid="sign-in-error">
          {message}
        </p>
      )}
      <label>
        API token{" "}
        <input
          type="password"
          autocomplete="current-password"
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          data-testid="token"
        />
      </label>
      <button type="submit" class="primary" data-testid="sign-in-submit">
        Sign in
      </button>
    </form>
  );
}
