#!/usr/bin/env bash
# API fuzzer (issue 10): schemathesis against a real coordinator on the local stack (real Kafka + Postgres), every
# check, every phase including stateful, within a bounded time budget. Fails on any server error or conformance
# failure (a response the OpenAPI document does not describe, a schema-valid request refused, an invalid one
# accepted, ...).
#
#   npm run test:fuzz                       # needs a built coordinator (npm run build) and the stack (npm run stack -- up)
#   OMNIDAEMON_FUZZ_MAX_TIME=60 npm run test:fuzz
#
# Environment: OMNIDAEMON_KAFKA_BROKERS and OMNIDAEMON_DATABASE_URL (else .stack/env is sourced),
# OMNIDAEMON_FUZZ_PORT (default 18765), OMNIDAEMON_FUZZ_MAX_TIME seconds (default 150),
# OMNIDAEMON_FUZZ_SEED (default: random; printed so a failing run can be replayed).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION="4.32.5"
# Under .stack/ (ignored by git, eslint and prettier), like the rest of the local stack.
VENV="$PWD/.stack/venv"
PORT="${OMNIDAEMON_FUZZ_PORT:-18765}"
MAX_TIME="${OMNIDAEMON_FUZZ_MAX_TIME:-150}"
SEED="${OMNIDAEMON_FUZZ_SEED:-$RANDOM$RANDOM}"
SCHEMA="fuzz_$(date +%s)_$$"

if [[ -z "${OMNIDAEMON_KAFKA_BROKERS:-}" || -z "${OMNIDAEMON_DATABASE_URL:-}" ]]; then
  if [[ -f .stack/env ]]; then
    # shellcheck disable=SC1091
    source .stack/env
  else
    echo "fuzz-api: set OMNIDAEMON_KAFKA_BROKERS and OMNIDAEMON_DATABASE_URL, or run 'npm run stack -- up' first" >&2
    exit 2
  fi
fi
if [[ ! -f apps/coordinator/dist/main.js ]]; then
  echo "fuzz-api: apps/coordinator/dist/main.js is missing; run 'npm run build' first" >&2
  exit 2
fi

if [[ "$("$VENV/bin/st" --version 2>/dev/null || true)" != "st, version $SCHEMATHESIS_VERSION" ]]; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

mkdir -p .stack
LOG=".stack/fuzz-coordinator.log"
# With a token, so the auth checks (ignored_auth, missing_required_header) test the bearer scheme the document
# declares; still on loopback only.
TOKEN="fuzz-$(date +%s)-$RANDOM-$RANDOM-token"
echo "== coordinator on 127.0.0.1:$PORT (schema $SCHEMA, log $LOG)"
OMNIDAEMON_DATABASE_SCHEMA="$SCHEMA" OMNIDAEMON_API_PORT="$PORT" OMNIDAEMON_API_HOST=127.0.0.1 \
  OMNIDAEMON_LOG_LEVEL=warn OMNIDAEMON_API_TOKEN="$TOKEN" \
  node apps/coordinator/dist/main.js >"$LOG" 2>&1 &
COORDINATOR_PID=$!

stop_coordinator() {
  if kill -0 "$COORDINATOR_PID" 2>/dev/null; then
    kill -TERM "$COORDINATOR_PID" 2>/dev/null || true
    wait "$COORDINATOR_PID" 2>/dev/null || true
  fi
  node -e '
    const { Client } = require("pg");
    const client = new Client({ connectionString: process.env.OMNIDAEMON_DATABASE_URL });
    client.connect()
      .then(() => client.query(`drop schema if exists "${process.argv[1]}" cascade`))
      .catch((error) => console.error("fuzz-api: could not drop schema:", error.message))
      .finally(() => client.end());
  ' "$SCHEMA" || true
}
trap stop_coordinator EXIT

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$COORDINATOR_PID" 2>/dev/null; then
    echo "fuzz-api: the coordinator exited during start:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null

# Every built-in check runs (schemathesis 4's default). Not `--checks all`: that flag overrides the per-operation
# settings of fuzz-api.toml, whose one exception (a read after DELETE …/limits) it would undo.
echo "== schemathesis $SCHEMATHESIS_VERSION: every check, all phases (stateful too), budget ${MAX_TIME}s, seed $SEED"
status=0
# From .stack/, so schemathesis's cache (.schemathesis/) lands there too.
(cd .stack && "$VENV/bin/st" --config-file ../scripts/fuzz-api.toml run "http://127.0.0.1:$PORT/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --phases examples,coverage,fuzzing,stateful \
  --max-time "$MAX_TIME" \
  --max-examples 60 \
  --workers 1 \
  --seed "$SEED" \
  --request-timeout 30 \
  --suppress-health-check too_slow,filter_too_much \
  --report junit --report-dir fuzz-report) || status=$?

if grep -q '"level":50' "$LOG"; then
  echo "fuzz-api: the coordinator logged errors during the run:" >&2
  grep '"level":50' "$LOG" | head -20 >&2
  status=1
fi
exit "$status"
