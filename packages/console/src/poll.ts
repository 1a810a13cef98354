import { createContext } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";
import type { CoordinatorClient } from "@omnidaemon/protocol";
import { isUnauthorized } from "./api";

/** How often pages refresh: the workers' heartbeat interval, so a worker's state is never older than two. */
export const POLL_INTERVAL_MS = 5000;
/** Reads of a whole DLQ (list, summary) refresh less often: each one reads the DLQ topic from its start. */
export const DLQ_POLL_INTERVAL_MS = 15_000;

export interface Session {
  /** The protocol's client, with this session's token. */
  api: CoordinatorClient;
  /** A request was refused with 401 (the token was rotated): back to the sign-in form. */
  unauthorized(): void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error("useSession outside the signed-in console");
  return session;
}

export interface Polled<T> {
  data: T | undefined;
  /** Why the last load failed (a CoordinatorRequestError when the API refused it or did not answer). */
  error: Error | undefined;
  /** When the last successful answer arrived (epoch ms). */
  updatedAt: number | undefined;
  /** Loads now (after a change the operator made), without waiting for the next tick. */
  refresh(): void;
}

/**
 * Loads `load()` now and every `intervalMs` while the page is shown, never two loads at once; a change of `key`
 * (the agent or filters shown) starts over. A hidden tab does not poll; it loads again when shown.
 */
export function usePoll<T>(
  key: string,
  load: (() => Promise<T>) | undefined,
  intervalMs = POLL_INTERVAL_MS,
): Polled<T> {
  const session = useSession();
  const [state, setState] = useState<{ key: string; data?: T; error?: Error; updatedAt?: number }>({
    key,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const wake = useRef<() => void>(() => undefined);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    // A refresh asked for while a load is in flight runs right after it (the load may predate the change).
    let again = false;
    setState({ key });
    const tick = async (): Promise<void> => {
      if (inFlight) {
        again = true;
        return;
      }
      clearTimeout(timer);
      const current = loadRef.current;
      if (stopped || current === undefined) return;
      if (document.hidden) {
        timer = setTimeout(() => void tick(), intervalMs);
        return;
      }
      inFlight = true;
      try {
        const data = await current();
        if (!stopped) setState({ key, data, updatedAt: Date.now() });
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        if (isUnauthorized(failure)) session.unauthorized();
        if (!stopped) setState((previous) => ({ ...previous, key, error: failure }));
      } finally {
        inFlight = false;
        if (!stopped) timer = setTimeout(() => void tick(), again ? 0 : intervalMs);
        again = false;
      }
    };
    wake.current = () => void tick();
    const onVisible = (): void => {
      if (!document.hidden) void tick();
    };
    document.addEventListener("visibilitychange", onVisible);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [key, intervalMs, session]);

  const refresh = useCallback(() => wake.current(), []);
  // A new key shows nothing of the previous one, not even for a frame.
  const current = state.key === key ? state : { key };
  return { data: current.data, error: current.error, updatedAt: current.updatedAt, refresh };
}

/** The location hash, re-read when it changes. */
export function useHash(): string {
  const [hash, setHash] = useState(() => location.hash);
  useEffect(() => {
    const onChange = (): void => setHash(location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

/** The current time, ticking every second (for "3 s ago"). */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
