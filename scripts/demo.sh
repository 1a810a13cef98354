#!/usr/bin/env bash
# npm run demo — the whole system end to end on this machine: builds, starts the local Kafka + Postgres stack (if
# it is not up), a coordinator, four workers running the example agents (two share the pipeline agents, so you see
# load balancing), then drives it with the operator's commands (`omnidaemon health`, `agent list`, `task publish`,
# `task result`, `bus dlq`, `agent unsubscribe` / `resume`, `metrics`) and shuts everything down gracefully. Leaves
# the stack as it found it. Exits 0 when every step worked; a step that fails names itself and its log.
# It prints the operator console's URL (the coordinator serves it at /ui/) as soon as the coordinator is up;
# `npm run demo -- --keep` leaves the fleet running at the end, for the console, until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

KEEP=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    *)
      echo "usage: npm run demo [-- --keep]   (--keep: leave the fleet running for the console until Ctrl-C)" >&2
      exit 2
      ;;
  esac
done

API_PORT="${OMNIDAEMON_DEMO_API_PORT:-8765}"
METRICS_PORT="${OMNIDAEMON_DEMO_METRICS_PORT:-9464}" # the workers use this port and the next three
export OMNIDAEMON_COORDINATOR_URL="http://127.0.0.1:${API_PORT}"
CONSOLE_URL="${OMNIDAEMON_COORDINATOR_URL}/ui/"
LOGS=".stack/logs/demo"
pids=()
worker_pids=()
started_stack=0

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# The operator's command, shown as typed. bin/omnidaemon.js is what `npx omnidaemon` runs.
omnidaemon() {
  printf '\033[2m$ omnidaemon %s\033[0m\n' "$*"
  node packages/cli/bin/omnidaemon.js "$@"
}
quiet() { node packages/cli/bin/omnidaemon.js "$@" 2>/dev/null; }
cleanup() {
  local code=$?
  say "shutting down (SIGTERM: drain, commit, deregister)"
  # Workers first (they deregister from the coordinator), then the coordinator.
  for pid in "${worker_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${worker_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$started_stack" = 1 ]; then npm run --silent stack -- down || true; fi
  [ "$code" = 0 ] || echo "demo failed (exit $code); logs in $LOGS/"
  exit "$code"
}
trap cleanup EXIT

command -v jq >/dev/null || { echo "demo: jq is required (apt-get install jq)"; exit 1; }

say "building"
npm run --silent build >/dev/null

if ! npm run --silent stack -- status >/dev/null 2>&1; then
  say "starting the local stack (Kafka + PostgreSQL)"
  npm run --silent stack -- up
  started_stack=1
fi
# shellcheck disable=SC1091
source .stack/env
mkdir -p "$LOGS"

say "starting the coordinator on ${OMNIDAEMON_COORDINATOR_URL}"
OMNIDAEMON_API_PORT="$API_PORT" OMNIDAEMON_LOG_LEVEL=warn \
  node packages/cli/bin/omnidaemon.js coordinator >"$LOGS/coordinator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do quiet health --json >/dev/null && break; sleep 0.5; done
quiet health --json >/dev/null || { echo "coordinator did not start; see $LOGS/coordinator.log"; exit 1; }
echo "the operator console: ${CONSOLE_URL} (no token on loopback; docs/console.md)"

say "starting workers: 2 × pipeline, 1 × file-processor, 1 × llm (metrics on :${METRICS_PORT}-$((METRICS_PORT + 3)))"
start_worker() { # name, metrics port, agents module
  OMNIDAEMON_METRICS_PORT="$2" OMNIDAEMON_LOG_LEVEL=info OMNIDAEMON_WORKER_ID="demo-$1" \
    node packages/cli/bin/omnidaemon.js worker --agents "$3" >"$LOGS/worker-$1.log" 2>&1 &
  worker_pids+=($!)
}
start_worker pipeline-a "$METRICS_PORT" examples/pipeline/agents.js
start_worker pipeline-b "$((METRICS_PORT + 1))" examples/pipeline/agents.js
start_worker files "$((METRICS_PORT + 2))" examples/file-processor/agents.js
start_worker llm "$((METRICS_PORT + 3))" examples/llm-agent/agents.js

# Until all four workers are live and every agent has a consumer, the fleet is honestly `degraded`; wait for
# `running` instead of showing that transient state.
fleet_up() {
  quiet health --json | jq -e '.status == "running" and ([.workers[].id | select(startswith("demo-"))] | length) == 4' >/dev/null
}
for _ in $(seq 1 240); do fleet_up && break; sleep 0.5; done
fleet_up || { echo "the workers did not all come up; see $LOGS/worker-*.log"; exit 1; }
omnidaemon health
omnidaemon agent list

say "publishing events"
publish() { quiet task publish --json "$@" | jq -r .task_id; }
ids=()
ids+=("$(publish --topic file.uploaded --content '{"path":"README.md"}' --tenant-id acme)")
ids+=("$(publish --topic file.uploaded --content '{"text":"three little words"}')")
ids+=("$(publish --topic file.uploaded --content '{"nothing":"here"}')") # malformed: goes to the DLQ
for prompt in "hello" "what is kafka" "summarise this"; do
  ids+=("$(publish --topic llm.prompt --content "{\"prompt\":\"$prompt\"}" --correlation-id "conv-$prompt")")
done
ids+=("$(publish --topic pipeline.ingest --content '{"text":"  Omnidaemon runs agents.   It scales with Kafka. "}' \
  --reply-to pipeline.summarize --correlation-id pipe-1)")
printf '%s\n' "${ids[@]}"

say "results"
finished() { quiet task result --json "$1" | jq -e '[.records[].status] | length > 0 and all(. == "completed" or . == "failed" or . == "dead_lettered")' >/dev/null; }
for id in "${ids[@]}"; do
  for _ in $(seq 1 120); do finished "$id" && break; sleep 0.25; done
  finished "$id" || { echo "task $id did not finish; see $LOGS/"; exit 1; }
  omnidaemon task result "$id"
done

say "the pipeline's second stage (reply_to → pipeline.summarize, causation = the first task)"
for _ in $(seq 1 80); do
  [ "$(quiet task list --topic pipeline.summarize --status completed --json | jq length)" -gt 0 ] && break
  sleep 0.25
done
omnidaemon task list --topic pipeline.summarize --limit 1

say "the malformed file event went to the dead-letter queue"
omnidaemon bus dlq --topic file.uploaded --name file-processor --limit 5

say "pausing llm-agent fleet-wide, then resuming"
omnidaemon agent unsubscribe --topic llm.prompt --name llm-agent
paused() { quiet health --json | jq -e '[.agents[] | select(.name == "llm-agent")][0].live_consumers == 0' >/dev/null; }
for _ in $(seq 1 40); do paused && break; sleep 0.25; done
omnidaemon agent list
omnidaemon agent resume --topic llm.prompt --name llm-agent
for _ in $(seq 1 120); do fleet_up && break; sleep 0.25; done
omnidaemon health

say "lifetime metrics per agent"
omnidaemon metrics

say "the workers' Prometheus series (what Prometheus scrapes: GET :${METRICS_PORT}-$((METRICS_PORT + 3))/metrics)"
# awk reads each answer whole (no SIGPIPE under pipefail) and exits 0 even when a series is not there yet.
for port in $(seq "$METRICS_PORT" $((METRICS_PORT + 3))); do
  node -e 'fetch(process.argv[1]).then((r) => r.text()).then((t) => process.stdout.write(t), () => {})' \
    "http://127.0.0.1:${port}/metrics" | awk -v port="$port" '/^omnidaemon_events_succeeded_total/ { print ":" port "  " $0 }'
done

say "the operator console"
echo "${CONSOLE_URL} shows these agents, tasks and dead letters (fleet, agents, DLQ, tasks, audit log)"
if [ "$KEEP" = 1 ]; then
  echo "the fleet keeps running for the console; press Ctrl-C to stop it"
  # Ctrl-C (or SIGTERM) is how this mode ends: a success, so the clean-up stops everything and the demo exits 0.
  # The sleep runs in the background under `wait`, so the signal is handled at once.
  sleeper=""
  trap '[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null; exit 0' INT TERM
  while :; do
    sleep 3600 &
    sleeper=$!
    wait "$sleeper" || true
  done
else
  echo "(it stops with the demo; run \`npm run demo -- --keep\` to keep the fleet up and browse it)"
fi
