#!/usr/bin/env bash
# Local Kafka + PostgreSQL for development and integration tests, without Docker (see docs/development.md).
#
#   npm run stack -- up [--secure] | down | status | env
#   npm run stack -- stop kafka|postgres [--kill] | start kafka|postgres | restart kafka|postgres [--kill]
#
# up      starts what is not running yet: a single-node Kafka (KRaft, broker+controller in one JVM, jars from Maven
#         Central cached in .kafka/libs) and a throwaway PostgreSQL cluster, both on 127.0.0.1; then writes
#         .stack/env. Running it again while everything is up only prints the status.
# up --secure  the same, plus production-like security beside the plaintext services: a throwaway CA and
#         server/client certificates (openssl; Kafka reads them as PEM stores, so no keytool run is needed), a
#         SASL_SSL listener (SCRAM-SHA-512, user `omnidaemon` created when the storage is formatted) on
#         OMNIDAEMON_STACK_KAFKA_SECURE_PORT, and PostgreSQL with ssl=on, where the role `omnidaemon` may only log
#         in over TLS with its password. .stack/env stays plaintext (the integration suite uses it);
#         .stack/env.secure holds the OMNIDAEMON_* variables of the secure services (npm run test:secure).
# down    stops exactly the processes `up` started (by pid) and deletes their data. Logs stay in .stack/logs and
#         the jar cache in .kafka/libs (it is only a cache).
# status  one line per service; exit code 0 when both run, 3 otherwise.
# env     prints the path of the env file (exit code 3 while the stack is not up).
#
# For fault tests (test/faults), one service of a running stack, keeping its data, ports and .stack/env:
# stop SERVICE     Kafka: controlled shutdown (SIGTERM); PostgreSQL: fast shutdown (SIGINT). Data is kept. With
#                  --kill the process is SIGKILLed instead (a crash: Kafka recovers its log on the next start,
#                  PostgreSQL runs crash recovery).
# start SERVICE    starts a stopped service again on its data and waits until it answers.
# restart SERVICE  stop (with --kill: SIGKILL), then start.
#
# Ports: OMNIDAEMON_STACK_KAFKA_PORT (19092), OMNIDAEMON_STACK_KAFKA_CONTROLLER_PORT (19093),
# OMNIDAEMON_STACK_KAFKA_SECURE_PORT (19094, only with --secure), OMNIDAEMON_STACK_POSTGRES_PORT (15432).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=$ROOT/.stack
LOGS=$STACK/logs
ENV_FILE=$STACK/env
SECURE_ENV_FILE=$STACK/env.secure
TLS_DIR=$STACK/tls              # CA, certificates, keys and passwords of `up --secure`
KAFKA_DIR=$STACK/kafka          # server.properties, data/, pid
PG_DIR_FILE=$STACK/postgres.dir # where the PostgreSQL directory is (see pg_dir_create)
JARS=$ROOT/.kafka/libs
POM=$ROOT/scripts/kafka/pom.xml
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")

KAFKA_PORT=${OMNIDAEMON_STACK_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${OMNIDAEMON_STACK_KAFKA_CONTROLLER_PORT:-19093}
KAFKA_SECURE_PORT=${OMNIDAEMON_STACK_KAFKA_SECURE_PORT:-19094}
PG_PORT=${OMNIDAEMON_STACK_POSTGRES_PORT:-15432}
DB_NAME=omnidaemon
# The user of the secure services (Kafka SCRAM user and PostgreSQL role); its passwords are random, in $TLS_DIR.
SECURE_USER=omnidaemon
SECURE=false
STOP_TIMEOUT_S=30

say() { printf 'stack: %s\n' "$*"; }
die() {
  printf 'stack: %s\n' "$*" >&2
  exit 1
}
now_ms() { echo $((${EPOCHREALTIME//[.,]/} / 1000)); }
since() { awk -v ms=$(($(now_ms) - $1)) 'BEGIN { printf "%.1fs", ms / 1000 }'; }

# A pid counts as ours only while its command line still matches what we started, so a recycled pid is never
# signalled. A zombie's command line is "[name] <defunct>", so it counts as gone.
alive() { [[ -n "$1" && "$(ps -ww -o args= -p "$1" 2>/dev/null)" == *"$2"* ]]; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_port() {
  if port_in_use "$1"; then
    die "port $1 on 127.0.0.1 is already in use (needed for $2); free it or set $3 to another port"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# Kafka

java_bin() { echo "${JAVA_HOME:+$JAVA_HOME/bin/}java"; }
require_java() {
  local java major
  java=$(java_bin)
  command -v "$java" >/dev/null ||
    die "Java 17+ is required for the local Kafka broker: apt-get install openjdk-17-jre-headless"
  # `java -version` prints `openjdk version "17.0.15" …` (or "1.8.0_…" for Java 8, whose major reads as 1).
  major=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  [[ "${major:-0}" -ge 17 ]] ||
    die "Java 17+ is required for the local Kafka broker, found $("$java" -version 2>&1 | head -n 1): apt-get install openjdk-17-jre-headless"
}

# The jar cache is stamped with the pom's hash: editing scripts/kafka/pom.xml (e.g. the Kafka version) refetches.
ensure_jars() {
  local stamp tmp t0
  stamp="kafka $KAFKA_VERSION pom-sha256 $(sha256sum "$POM" | cut -d' ' -f1)"
  if [[ -f "$JARS/.stamp" && "$(cat "$JARS/.stamp")" == "$stamp" && -f "$JARS/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    return 0
  fi
  command -v mvn >/dev/null ||
    die "Maven is required once, to fetch the Kafka $KAFKA_VERSION jars into .kafka/libs: apt-get install maven"
  say "kafka: fetching Kafka $KAFKA_VERSION jars from Maven Central into .kafka/libs (once; cached)"
  t0=$(now_ms)
  mkdir -p "$ROOT/.kafka"
  tmp=$(mktemp -d "$ROOT/.kafka/libs.tmp.XXXXXX")
  chmod 755 "$tmp"
  # Pin the plugin: Debian's Maven 3.8.7 otherwise resolves maven-dependency-plugin 2.8.
  if ! mvn -B -q -f "$POM" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$LOGS/kafka-jars.log" 2>&1; then
    rm -rf "$tmp"
    die "fetching the Kafka jars with Maven failed (network? proxy?); see $LOGS/kafka-jars.log"
  fi
  echo "$stamp" >"$tmp/.stamp"
  # Swap in the complete set only, so an interrupted fetch never leaves a half-filled cache behind.
  rm -rf "$JARS"
  mv "$tmp" "$JARS"
  say "kafka: fetched $(find "$JARS" -name '*.jar' | wc -l) jars in $(since "$t0")"
}

kafka_pattern() { echo "kafka.Kafka $KAFKA_DIR/server.properties"; }
kafka_pid() { cat "$KAFKA_DIR/pid" 2>/dev/null || true; }
kafka_alive() { alive "$(kafka_pid)" "$(kafka_pattern)"; }
kafka_port() { sed -n 's|^advertised.listeners=PLAINTEXT://127.0.0.1:\([0-9]*\).*|\1|p' "$KAFKA_DIR/server.properties" 2>/dev/null; }
kafka_secure_port() { sed -n 's|^advertised.listeners=.*SASL_SSL://127.0.0.1:\([0-9]*\).*|\1|p' "$KAFKA_DIR/server.properties" 2>/dev/null; }
kafka_running_version() { sed -n 's/.*Kafka version: \([^ ]*\) .*/\1/p' "$LOGS/kafka.log" 2>/dev/null | tail -n 1; }

write_server_properties() {
  local listeners="PLAINTEXT://127.0.0.1:$KAFKA_PORT" protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ $SECURE == true ]]; then
    listeners+=",SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT"
    protocols+=",SASL_SSL:SASL_SSL"
  fi
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/stack.sh: a single-node Kafka for tests, combined broker+controller (KRaft) on loopback.
process.roles=broker,controller
node.id=1
# Static voters: the format step needs no --standalone flag.
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=$listeners,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
# Only the client listeners are advertised; the controller listener is internal to this node.
advertised.listeners=$listeners
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
log.dirs=$KAFKA_DIR/data
num.partitions=1
# One broker: every internal topic has a single replica; one partition each (defaults 50) keeps their creation
# and loading, i.e. the first group join or transaction, fast.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Test tuning: the first member of a group is assigned at once (the default waits 3 s), and tests may use
# consumer session timeouts down to 1 s (default minimum 6 s) to see a dead member quickly.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
# The product creates its topics explicitly (register creates topic, group and DLQ). Auto-creation would hide a
# missing or misspelt topic in tests, so it is off, as it should be in production.
auto.create.topics.enable=false
delete.topic.enable=true
EOF
  if [[ $SECURE == true ]]; then
    cat >>"$KAFKA_DIR/server.properties" <<EOF
# --secure: SASL_SSL for clients. PEM stores (Kafka 2.7+): the key is unencrypted PKCS#8, so no ssl.key.password.
# Client certificates are checked when presented (mutual TLS is optional), against the stack's CA.
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/kafka-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
ssl.client.auth=requested
EOF
  fi
}

# A throwaway CA, a server certificate for 127.0.0.1/localhost (Kafka and PostgreSQL) and a client certificate,
# plus random passwords. EC P-256 keys with openssl take milliseconds; keytool would start a JVM for every step.
make_tls() {
  local t0 ext
  t0=$(now_ms)
  command -v openssl >/dev/null || die "openssl is required for --secure: apt-get install openssl"
  rm -rf "$TLS_DIR"
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  ext="$TLS_DIR/san.ext"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$ext"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 -subj "/CN=omnidaemon local stack CA" \
      -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.pem"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
      -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr"
    openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
      -CAcreateserial -days 7 -extfile "$ext" -out "$TLS_DIR/server.pem"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$SECURE_USER" \
      -keyout "$TLS_DIR/client.key" -out "$TLS_DIR/client.csr"
    openssl x509 -req -in "$TLS_DIR/client.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
      -CAcreateserial -days 7 -extfile "$ext" -out "$TLS_DIR/client.pem"
  } >"$LOGS/tls.log" 2>&1 || die "generating the stack's certificates failed; see $LOGS/tls.log"
  cat "$TLS_DIR/server.key" "$TLS_DIR/server.pem" >"$TLS_DIR/kafka-keystore.pem"
  rm -f "$TLS_DIR"/*.csr "$TLS_DIR/ca.srl" "$ext"
  # Passwords without a trailing newline, as a Kubernetes Secret mounts them.
  openssl rand -hex 18 | tr -d '\n' >"$TLS_DIR/kafka-password"
  openssl rand -hex 18 | tr -d '\n' >"$TLS_DIR/postgres-password"
  chmod 600 "$TLS_DIR"/*
  # The PEM files only: readable by the postgres user, which copies the server's pair into its cluster.
  chmod 644 "$TLS_DIR"/*.pem
  say "tls: CA, server and client certificates generated in $(since "$t0") ($TLS_DIR)"
}

start_kafka() {
  local t0 cluster_id
  rm -rf "$KAFKA_DIR"
  mkdir -p "$KAFKA_DIR/data"
  write_server_properties

  # A cluster id is 16 random bytes in unpadded base64url, not starting with "-" (what StorageTool random-uuid
  # prints); generating it here saves starting a JVM.
  cluster_id=$(node -e 'let s; do s = require("crypto").randomBytes(16).toString("base64url"); while (s[0] === "-"); process.stdout.write(s)')
  t0=$(now_ms)
  local scram=()
  # KRaft stores SCRAM credentials in the metadata log: the format step creates the secure user.
  if [[ $SECURE == true ]]; then
    scram=(--add-scram "SCRAM-SHA-512=[name=$SECURE_USER,password=$(cat "$TLS_DIR/kafka-password")]")
  fi
  "$(java_bin)" -Xmx256m -cp "$JARS/*" kafka.tools.StorageTool format -t "$cluster_id" \
    -c "$KAFKA_DIR/server.properties" --ignore-formatted "${scram[@]}" >"$LOGS/kafka-format.log" 2>&1 ||
    die "formatting the Kafka storage failed; see $LOGS/kafka-format.log"
  say "kafka: storage formatted in $(since "$t0")"
  STARTED+=(kafka)
  : >"$LOGS/kafka.log"
  launch_kafka
}

# Starts the broker on the existing .stack/kafka (server.properties and formatted data) and waits until it is ready.
# The log is appended to, so a restart keeps the history of the previous run.
launch_kafka() {
  local t0 pid port
  port=$(kafka_port)
  t0=$(now_ms)
  # setsid: the broker gets its own session, so it outlives this script and a Ctrl-C in the terminal (or in
  # jest) does not reach it; `down` stops it by pid. The subshell is not a process-group leader, so setsid execs
  # in place and $! is the JVM's pid. All output goes to the log; fd 9 (the lock) is not inherited.
  (cd "$KAFKA_DIR" && exec setsid "$(java_bin)" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties" \
    -cp "$JARS/*" kafka.Kafka "$KAFKA_DIR/server.properties") >>"$LOGS/kafka.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$KAFKA_DIR/pid"
  node "$ROOT/scripts/wait-kafka.js" --brokers "127.0.0.1:$port" --pid "$pid" --timeout-ms 60000 ||
    die "Kafka did not become ready; last lines of $LOGS/kafka.log:
$(tail -n 20 "$LOGS/kafka.log")"
  say "kafka: Apache Kafka $(kafka_running_version) ready in $(since "$t0") (pid $pid, 127.0.0.1:$port)"
}

stop_kafka() {
  halt_kafka TERM
  rm -rf "$KAFKA_DIR"
}

# halt_kafka SIGNAL: stops the broker and keeps its data. SIGTERM is Kafka's controlled shutdown (what
# kafka-server-stop.sh sends); SIGKILL is a crash.
halt_kafka() {
  stop_pid kafka "$(kafka_pid)" "$(kafka_pattern)" "$1"
}

# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL

pg_bin() {
  local dir
  if [[ -n "${OMNIDAEMON_STACK_POSTGRES_BINDIR:-}" ]]; then
    echo "$OMNIDAEMON_STACK_POSTGRES_BINDIR"
    return 0
  fi
  # Debian keeps the server binaries off PATH, one directory per major version; take the newest.
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z "$dir" ]] && command -v pg_config >/dev/null; then dir=$(pg_config --bindir); fi
  if [[ -z "$dir" ]] && command -v initdb >/dev/null; then dir=$(dirname "$(command -v initdb)"); fi
  echo "$dir"
}
require_postgres() {
  PG_BIN=$(pg_bin)
  [[ -n "$PG_BIN" && -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" && -x "$PG_BIN/postgres" ]] ||
    die "PostgreSQL server binaries (initdb, pg_ctl, postgres) are required for the local database: apt-get install postgresql (or set OMNIDAEMON_STACK_POSTGRES_BINDIR)"
  PSQL=$PG_BIN/psql
  [[ -x "$PSQL" ]] || PSQL=$(command -v psql) ||
    die "psql is required to check the local database: apt-get install postgresql-client"
}

# PostgreSQL refuses to run as root, so as root its commands run as the `postgres` user.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The PostgreSQL directory must be owned by, and reachable for, the user postgres runs as. .stack/postgres works
# when the project's parent directories are traversable (e.g. /work/main); a checkout under /root is not, and
# then a private directory under /tmp is used. Its path is recorded so `down` deletes it wherever it is.
pg_dir() { cat "$PG_DIR_FILE" 2>/dev/null || true; }
pg_dir_create() {
  local dir=$STACK/postgres
  rm -rf "$dir"
  mkdir -p "$dir"
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 ||
      die "PostgreSQL refuses to run as root and there is no 'postgres' user to run it as: apt-get install postgresql (creates it)"
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      rmdir "$dir"
      dir=$(mktemp -d /tmp/omnidaemon-postgres.XXXXXX)
      chown postgres: "$dir"
    fi
  fi
  echo "$dir" >"$PG_DIR_FILE"
}
pg_pattern() { echo "-D $(pg_dir)/data "; }
pg_pid() { head -n 1 "$(pg_dir)/data/postmaster.pid" 2>/dev/null || true; }
pg_alive() { [[ -n "$(pg_dir)" ]] && alive "$(pg_pid)" "$(pg_pattern)"; }
pg_port() { sed -n 4p "$(pg_dir)/data/postmaster.pid" 2>/dev/null; }
pg_running_version() { sed -n 's/.*starting PostgreSQL \([^ ]*\) .*/\1/p' "$LOGS/postgres.log" 2>/dev/null | tail -n 1; }
psql_at() { PGCONNECT_TIMEOUT=2 "$PSQL" -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -Atq "$@"; }

start_postgres() {
  local t0 dir
  say "postgres: $("$PG_BIN/postgres" --version)"
  stop_postgres # deletes what a crashed run left behind
  pg_dir_create
  dir=$(pg_dir)
  t0=$(now_ms)
  as_pg "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-instructions \
    >"$LOGS/postgres-initdb.log" 2>&1 || die "initdb failed; see $LOGS/postgres-initdb.log"
  say "postgres: cluster initialized in $(since "$t0")"
  echo "$PG_PORT" >"$dir/port"
  if [[ $SECURE == true ]]; then secure_postgres_conf "$dir/data"; fi
  STARTED+=(postgres)
  : >"$LOGS/postgres.log"
  launch_postgres
  psql_at -d postgres -c "create database $DB_NAME" >/dev/null
  if [[ $SECURE == true ]]; then
    # The password is set in SQL, where the server hashes it (SCRAM); it never appears on a command line.
    psql_at -d postgres -v "password=$(cat "$TLS_DIR/postgres-password")" >/dev/null <<EOF
create role $SECURE_USER login password :'password';
alter database $DB_NAME owner to $SECURE_USER;
EOF
  fi
}

# ssl=on with the stack's server certificate (the key owned by the postgres user, mode 600, or the server refuses
# it). The secure role may log in only over TLS with its password; every other login (the superuser `postgres`
# the plaintext integration suite uses) stays as it was.
secure_postgres_conf() {
  local data=$1
  cp "$TLS_DIR/server.pem" "$data/server.crt"
  cp "$TLS_DIR/server.key" "$data/server.key"
  chmod 600 "$data/server.key"
  if [[ $EUID -eq 0 ]]; then chown postgres: "$data/server.crt" "$data/server.key"; fi
  printf '\n# --secure (scripts/stack.sh)\nssl = on\n' >>"$data/postgresql.conf"
  {
    echo "# --secure (scripts/stack.sh): the role $SECURE_USER over TLS with a password only."
    echo "hostssl all $SECURE_USER 127.0.0.1/32 scram-sha-256"
    echo "host    all $SECURE_USER 127.0.0.1/32 reject"
    cat "$data/pg_hba.conf"
  } >"$data/pg_hba.conf.new"
  mv "$data/pg_hba.conf.new" "$data/pg_hba.conf"
  if [[ $EUID -eq 0 ]]; then chown postgres: "$data/pg_hba.conf"; fi
}

# Starts PostgreSQL on the existing cluster, on the port it was created with, and waits until it answers.
launch_postgres() {
  local t0 dir i
  dir=$(pg_dir)
  PG_PORT=$(cat "$dir/port")
  t0=$(now_ms)
  # No Unix socket (unix_socket_directories=''): clients use TCP on loopback, nothing is written to
  # /var/run/postgresql, and socket path length limits cannot bite. The server log goes to a file opened here,
  # so the postgres user needs no write access to .stack/logs. pg_ctl puts the postmaster in its own session.
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -w -t 30 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" \
    start >>"$LOGS/postgres.log" 2>&1 </dev/null 9>&- ||
    die "PostgreSQL did not start; last lines of $LOGS/postgres.log:
$(tail -n 20 "$LOGS/postgres.log")"
  for ((i = 0; i < 60; i++)); do
    if psql_at -d postgres -c 'select 1' >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  psql_at -d postgres -c 'select 1' >/dev/null || die "PostgreSQL started but does not answer on 127.0.0.1:$PG_PORT"
  say "postgres: PostgreSQL $(pg_running_version) ready in $(since "$t0") (pid $(pg_pid), 127.0.0.1:$PG_PORT)"
}

stop_postgres() {
  local dir
  dir=$(pg_dir)
  if [[ -n "$dir" ]]; then
    halt_postgres INT
    rm -rf "$dir"
  fi
  rm -rf "$STACK/postgres" "$PG_DIR_FILE"
}

# halt_postgres SIGNAL: stops the server and keeps its cluster. SIGINT is PostgreSQL's "fast" shutdown (disconnect
# clients, checkpoint, exit). SIGTERM would be its "smart" shutdown, which waits for every client to disconnect,
# i.e. forever if a test leaked a connection. SIGKILL (of the postmaster and its children) is a crash: the next
# start runs crash recovery.
halt_postgres() {
  local pid i
  pid=$(pg_pid)
  stop_pid postgres "$pid" "$(pg_pattern)" "$1"
  # A killed postmaster may linger as a zombie until it is reaped; PostgreSQL's next start refuses to run while the
  # pid in its postmaster.pid still exists.
  for ((i = 0; i < 50; i++)); do
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------------------------------------------

# stop_pid NAME PID PATTERN SIGNAL: the signal, up to STOP_TIMEOUT_S to exit, then SIGKILL (with its children,
# which for PostgreSQL are the backends and auxiliary processes).
stop_pid() {
  local name=$1 pid=$2 pattern=$3 sig=$4 i children
  alive "$pid" "$pattern" || return 0
  children=$(pgrep -P "$pid" || true)
  if [[ $sig == KILL ]]; then
    # A crash takes the children along (PostgreSQL's backends would otherwise keep its shared memory in use).
    # shellcheck disable=SC2086 # word splitting of the children's pids is intended
    kill -KILL "$pid" $children 2>/dev/null || true
  else
    kill -s "$sig" "$pid" 2>/dev/null || true
  fi
  for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
    if ! alive "$pid" "$pattern"; then
      say "$name: stopped (pid $pid)"
      return 0
    fi
    sleep 0.1
  done
  say "$name: still running ${STOP_TIMEOUT_S}s after SIG$sig; sending SIGKILL to pid $pid"
  # shellcheck disable=SC2086 # word splitting of the children's pids is intended
  kill -KILL "$pid" $children 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" "$pattern" || return 0
    sleep 0.1
  done
  die "$name: pid $pid survived SIGKILL"
}

# Serialises up/down, e.g. two jest runs starting at once. fd 9 is closed for the long-lived children.
lock() {
  mkdir -p "$STACK" "$LOGS"
  exec 9>"$STACK/lock"
  if command -v flock >/dev/null; then flock -w 120 9 || die "another stack command holds $STACK/lock"; fi
}

write_env() {
  cat >"$ENV_FILE.tmp" <<EOF
# Written by \`npm run stack -- up\`, deleted by \`down\`. Use it with: source .stack/env
export OMNIDAEMON_KAFKA_BROKERS=127.0.0.1:$(kafka_port)
export OMNIDAEMON_DATABASE_URL=postgres://postgres@127.0.0.1:$(pg_port)/$DB_NAME
# For the record only (printed by the integration test setup): the versions that are running.
export OMNIDAEMON_STACK_KAFKA_VERSION=$(kafka_running_version)
export OMNIDAEMON_STACK_POSTGRES_VERSION=$(pg_running_version)
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  rm -f "$SECURE_ENV_FILE"
  if [[ -n "$(kafka_secure_port)" && -d "$TLS_DIR" ]]; then
    cat >"$SECURE_ENV_FILE.tmp" <<EOF
# Written by \`npm run stack -- up --secure\`, deleted by \`down\`: the secure services, as an app in production
# would be configured (docs/configuration.md). Use it with: source .stack/env.secure
export OMNIDAEMON_KAFKA_BROKERS=127.0.0.1:$(kafka_secure_port)
export OMNIDAEMON_KAFKA_SSL=true
export OMNIDAEMON_KAFKA_SSL_CA_FILE=$TLS_DIR/ca.pem
export OMNIDAEMON_KAFKA_SSL_CERT_FILE=$TLS_DIR/client.pem
export OMNIDAEMON_KAFKA_SSL_KEY_FILE=$TLS_DIR/client.key
export OMNIDAEMON_KAFKA_SASL_MECHANISM=scram-sha-512
export OMNIDAEMON_KAFKA_SASL_USERNAME=$SECURE_USER
export OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE=$TLS_DIR/kafka-password
export OMNIDAEMON_DATABASE_URL='postgres://$SECURE_USER@127.0.0.1:$(pg_port)/$DB_NAME?sslmode=verify-full'
export OMNIDAEMON_DATABASE_SSL_CA_FILE=$TLS_DIR/ca.pem
export OMNIDAEMON_DATABASE_PASSWORD_FILE=$TLS_DIR/postgres-password
# The plaintext listener of the same broker, for test set-up and clean-up.
export OMNIDAEMON_STACK_KAFKA_PLAINTEXT_BROKERS=127.0.0.1:$(kafka_port)
export OMNIDAEMON_STACK_KAFKA_VERSION=$(kafka_running_version)
export OMNIDAEMON_STACK_POSTGRES_VERSION=$(pg_running_version)
EOF
    mv "$SECURE_ENV_FILE.tmp" "$SECURE_ENV_FILE"
  fi
}

print_status() {
  local all_up=0
  if kafka_alive; then
    say "kafka     up    pid $(kafka_pid)  127.0.0.1:$(kafka_port)  Apache Kafka $(kafka_running_version)"
  else
    say "kafka     down"
    all_up=3
  fi
  if pg_alive; then
    say "postgres  up    pid $(pg_pid)  127.0.0.1:$(pg_port)  PostgreSQL $(pg_running_version)"
  else
    say "postgres  down"
    all_up=3
  fi
  if [[ $all_up -eq 0 && -f "$ENV_FILE" ]]; then say "env file  $ENV_FILE"; fi
  if [[ $all_up -eq 0 && -f "$SECURE_ENV_FILE" ]]; then say "secure    $SECURE_ENV_FILE (SASL_SSL 127.0.0.1:$(kafka_secure_port), PostgreSQL TLS)"; fi
  return $all_up
}

STARTED=()
# A half-finished `up` rolls back what it started itself (services that were already running stay up); the
# logs stay for the post-mortem.
rollback() {
  local rc=$? s
  [[ $rc -ne 0 && ${#STARTED[@]} -gt 0 ]] || return 0
  for s in "${STARTED[@]}"; do
    say "up failed: stopping $s again"
    "stop_$s" || true
  done
  rm -f "$ENV_FILE" "$SECURE_ENV_FILE"
  say "logs: $LOGS"
}

cmd_up() {
  local t0
  t0=$(now_ms)
  case "${1:-}" in
    "") ;;
    --secure) SECURE=true ;;
    *) die "unexpected argument: $1 (usage: npm run stack -- up [--secure])" ;;
  esac
  lock
  # Secure mode is decided when the services are created: a running stack cannot gain it (or lose it) on the fly.
  if [[ $SECURE == true ]] && { kafka_alive || pg_alive; } && [[ -z "$(kafka_secure_port)" || ! -d "$TLS_DIR" ]]; then
    die "the stack is up without --secure; run \`npm run stack -- down\` first, then \`npm run stack -- up --secure\`"
  fi
  if kafka_alive && pg_alive; then
    say "already up"
    write_env
    print_status
    return 0
  fi
  # Every prerequisite first, so a missing one fails before anything is started.
  if ! kafka_alive; then
    require_java
    need_port "$KAFKA_PORT" "Kafka" OMNIDAEMON_STACK_KAFKA_PORT
    need_port "$KAFKA_CONTROLLER_PORT" "the Kafka controller" OMNIDAEMON_STACK_KAFKA_CONTROLLER_PORT
    if [[ $SECURE == true ]]; then
      need_port "$KAFKA_SECURE_PORT" "Kafka's SASL_SSL listener" OMNIDAEMON_STACK_KAFKA_SECURE_PORT
    fi
    ensure_jars
  fi
  if ! pg_alive; then
    require_postgres
    need_port "$PG_PORT" "PostgreSQL" OMNIDAEMON_STACK_POSTGRES_PORT
  fi
  trap rollback EXIT
  if [[ $SECURE == true ]] && ! kafka_alive && ! pg_alive; then make_tls; fi
  # `if`, not `||`: errexit is off inside a function called on the left of || or &&.
  if ! kafka_alive; then start_kafka; fi
  if ! pg_alive; then start_postgres; fi
  write_env
  trap - EXIT
  say "up in $(since "$t0"); env file: $ENV_FILE (source it to use the stack from a shell)"
  print_status
}

cmd_down() {
  lock
  rm -f "$ENV_FILE" "$SECURE_ENV_FILE"
  stop_kafka
  stop_postgres
  rm -rf "$TLS_DIR"
  say "down: processes stopped, data deleted (logs kept in .stack/logs, jar cache kept in .kafka/libs)"
}

# stop|start|restart SERVICE [--kill]: one service of a stack that `up` created, keeping its data, so the clients'
# addresses (.stack/env) stay valid. Used by the fault suite (test/faults).
cmd_service() {
  local action=$1 service=${2:-} how=${3:-} sig
  [[ "$service" == kafka || "$service" == postgres ]] ||
    die "usage: npm run stack -- stop kafka|postgres [--kill] | start kafka|postgres | restart kafka|postgres [--kill]"
  [[ -z "$how" || ("$how" == --kill && "$action" != start) ]] || die "unexpected argument: $how"
  lock
  if [[ "$service" == kafka ]]; then
    [[ -f "$KAFKA_DIR/server.properties" ]] || die "kafka: no stack to $action (run \`npm run stack -- up\` first)"
    sig=TERM
    [[ "$how" == --kill ]] && sig=KILL
    if [[ "$action" != start ]]; then
      if kafka_alive; then halt_kafka "$sig"; else say "kafka: already stopped"; fi
    fi
    if [[ "$action" != stop ]]; then
      if kafka_alive; then say "kafka: already running (pid $(kafka_pid))"; else launch_kafka; fi
    fi
  else
    require_postgres
    [[ -n "$(pg_dir)" && -d "$(pg_dir)/data" ]] || die "postgres: no stack to $action (run \`npm run stack -- up\` first)"
    # A cluster created before the port was recorded: its running server knows it.
    if [[ ! -f "$(pg_dir)/port" ]] && pg_alive; then pg_port >"$(pg_dir)/port"; fi
    sig=INT
    [[ "$how" == --kill ]] && sig=KILL
    if [[ "$action" != start ]]; then
      if pg_alive; then halt_postgres "$sig"; else say "postgres: already stopped"; fi
    fi
    if [[ "$action" != stop ]]; then
      if pg_alive; then say "postgres: already running (pid $(pg_pid))"; else launch_postgres; fi
    fi
  fi
}

case "${1:-}" in
  up) cmd_up "${@:2}" ;;
  down) cmd_down ;;
  stop | start | restart) cmd_service "$@" ;;
  status) print_status ;;
  env)
    echo "$ENV_FILE"
    [[ -f "$ENV_FILE" ]] || exit 3
    ;;
  *)
    echo "usage: npm run stack -- up [--secure] | down | status | env | stop|start|restart kafka|postgres [--kill]" >&2
    exit 2
    ;;
esac
