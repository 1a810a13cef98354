#!/usr/bin/env bash
# npm run demo — the whole system end to end on this machine: builds, starts the local Kafka + Postgres stack (if
# it is not up), a coordinator, three workers running the example agents (two share the pipeline agents, so you see
# load balancing), publishes events through the REST API, shows their results, pauses and resumes an agent, and
# shuts everything down gracefully. Leaves the stack as it found it.
set -euo pipefail
cd "$(dirname "$0")/.."

API_PORT="${OMNIDAEMON_DEMO_API_PORT:-8765}"
API="http://127.0.0.1:${API_PORT}"
LOGS=".stack/logs/demo"
pids=()
worker_pids=()
started_stack=0

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
  say "shutting down (SIGTERM: drain, commit, deregister)"
  # Workers first (they deregister from the coordinator), then the coordinator.
  for pid in "${worker_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${worker_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$started_stack" = 1 ]; then npm run --silent stack -- down || true; fi
}
trap cleanup EXIT

for tool in curl jq; do command -v "$tool" >/dev/null || { echo "demo: $tool is required (apt-get install $tool)"; exit 1; }; done

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

say "starting the coordinator on ${API}"
OMNIDAEMON_API_PORT="$API_PORT" OMNIDAEMON_LOG_LEVEL=warn \
  node packages/cli/dist/bin.js coordinator >"$LOGS/coordinator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -fs "$API/livez" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "$API/livez" >/dev/null || { echo "coordinator did not start; see $LOGS/coordinator.log"; exit 1; }

say "starting workers: 2 × pipeline, 1 × file-processor, 1 × llm (metrics on :9464-9467)"
start_worker() { # name, metrics port, agents module
  OMNIDAEMON_COORDINATOR_URL="$API" OMNIDAEMON_METRICS_PORT="$2" OMNIDAEMON_LOG_LEVEL=info \
    OMNIDAEMON_WORKER_ID="demo-$1" node packages/cli/dist/bin.js worker --agents "$3" >"$LOGS/worker-$1.log" 2>&1 &
  worker_pids+=($!)
}
start_worker pipeline-a 9464 examples/pipeline/agents.js
start_worker pipeline-b 9465 examples/pipeline/agents.js
start_worker files 9466 examples/file-processor/agents.js
start_worker llm 9467 examples/llm-agent/agents.js
for _ in $(seq 1 90); do
  [ "$(curl -fs "$API/health" | jq '[.workers[].id | select(startswith("demo-"))] | length')" = 4 ] && break
  sleep 0.5
done
curl -fs "$API/health" | jq '{status, registered_agents, active_consumers, workers: [.workers[].id]}'

publish() { curl -fs -XPOST "$API/tasks" -H 'content-type: application/json' -d "$1" | jq -r .task_id; }

say "publishing events"
ids=()
ids+=("$(publish '{"topic":"file.uploaded","content":{"path":"README.md"},"tenant_id":"acme"}')")
ids+=("$(publish '{"topic":"file.uploaded","content":{"text":"three little words"}}')")
ids+=("$(publish '{"topic":"file.uploaded","content":{"nothing":"here"}}')")
for prompt in "hello" "what is kafka" "summarise this"; do
  ids+=("$(publish "{\"topic\":\"llm.prompt\",\"content\":{\"prompt\":\"$prompt\"},\"correlation_id\":\"conv-$prompt\"}")")
done
pipeline_id="$(publish '{"topic":"pipeline.ingest","content":{"text":"  Omnidaemon runs agents.   It scales with Kafka. "},"reply_to":"pipeline.summarize","correlation_id":"pipe-1"}')"
ids+=("$pipeline_id")

say "results (GET /tasks/{id})"
for id in "${ids[@]}"; do
  for _ in $(seq 1 40); do
    status="$(curl -fs "$API/tasks/$id" | jq -r '[.records[].status] | join(",")' 2>/dev/null || true)"
    case "$status" in *completed*|*dead_lettered*) break ;; esac
    sleep 0.25
  done
  curl -fs "$API/tasks/$id" | jq -c '.records[] | {task: .task_id[0:8], agent, status, attempts, result, last_error}'
done

say "the pipeline's second stage (reply_to → pipeline.summarize, causation = first task)"
sleep 2
curl -fs "$API/tasks?topic=pipeline.summarize&limit=1" | jq -c '.[] | {agent, status, result}'

say "the malformed file event went to the dead-letter queue"
curl -fs "$API/bus/dlq?topic=file.uploaded&agent=file-processor&limit=5" | jq -c '.[] | {task_id, reason, error_class, error_message, attempts}'

say "pausing llm-agent fleet-wide, then resuming"
curl -fs -XPOST "$API/agents/llm.prompt/llm-agent/unsubscribe" -H 'x-omnidaemon-actor: demo' | jq -c '{status, state, revision}'
sleep 3
curl -fs "$API/health" | jq -c '{status, agents: [.agents[] | {name, state, live_consumers}]}'
curl -fs -XPOST "$API/agents/llm.prompt/llm-agent/resume" -H 'x-omnidaemon-actor: demo' | jq -c '{status, state, revision}'

say "lifetime metrics per agent (GET /metrics/summary)"
sleep 2
curl -fs "$API/metrics/summary" | jq -c '.[] | {topic, agent, received, succeeded, dead_lettered, p50_ms: .latency_ms.p50}'

say "a worker's Prometheus series (GET :9464/metrics)"
curl -fs http://127.0.0.1:9464/metrics | grep -E '^omnidaemon_events_(received|succeeded)_total' | head -4

say "audit log"
curl -fs "$API/audit?limit=4" | jq -c '.[] | {at, actor, action, topic, agent}'
