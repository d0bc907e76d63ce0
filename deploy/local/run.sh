#!/usr/bin/env bash
# `make run`: Redis (AOF) on a local port, the local Kubernetes control plane
# unless KUBECONFIG is set, then every Procfile process through honcho.
# Ctrl-C, SIGTERM and a closed terminal (SIGHUP) stop everything this script started.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
run_dir="$root/.run"
export PATH="$root/.venv/bin:$PATH"  # the Procfile names gunicorn as production images have it
mkdir -p "$run_dir/redis"

redis_port="${DOCKYARD_REDIS_PORT:-6379}"  # the default DOCKYARD_REDIS_URL, so ./dockyard finds it
export PORT="${PORT:-8080}"
started_redis=""
started_cluster=""
gitlab_pid=""
am_pid=""
honcho_pid=""

hung_up=""
# The terminal may be gone (SIGHUP): then nothing is written to it, since a write to a terminal whose
# other end is held open elsewhere but no longer read would block the stop that follows.
say() { [ -n "$hung_up" ] || echo "$@" >&2 2>/dev/null || true; }

descendants() {  # every process below $1, parents before children
  ps -e -o pid= -o ppid= 2>/dev/null | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END { found[root] = 1; changed = 1
          while (changed) { changed = 0
            for (i in pids) { p = pids[i]; if (!(p in found) && (parent[p] in found)) { found[p] = 1; changed = 1; print p } } } }'
}

stop_pids() {  # TERM each process's group (honcho starts every Procfile line in its own), then KILL what is left
  local pid
  for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=""
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && return 0
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
}

cleanup() {
  trap - EXIT INT TERM HUP
  set +e  # stop everything we can, even when a step (or writing to a closed terminal) fails
  say "[run] stopping"
  if [ -n "$honcho_pid" ]; then
    # Taken before honcho is asked to stop: if it dies first, its children are still found.
    procfile_pids=$(descendants "$honcho_pid")
    kill -TERM "$honcho_pid" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$honcho_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$honcho_pid" 2>/dev/null
    # shellcheck disable=SC2086
    [ -n "$procfile_pids" ] && stop_pids $procfile_pids
  fi
  [ -n "$gitlab_pid" ] && stop_pids "$gitlab_pid"
  [ -n "$am_pid" ] && stop_pids "$am_pid"
  [ -n "$started_cluster" ] && ./dockyard cluster down >/dev/null 2>&1
  [ -n "$started_redis" ] && .venv/bin/python -c "import redis,sys; redis.Redis(port=int(sys.argv[1])).shutdown()" "$redis_port" >/dev/null 2>&1
  say "[run] stopped"
}
trap cleanup EXIT
# Stop here on any of them: never go on to start the rest without its parts.
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'hung_up=1; cleanup; exit 129' HUP

if [ -z "${DOCKYARD_REDIS_URL:-}" ]; then
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir/redis" --appendonly yes \
      --daemonize yes --pidfile "$run_dir/redis/redis.pid" --logfile "$run_dir/redis/redis.log"
    started_redis=1
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  export DOCKYARD_REDIS_URL="redis://127.0.0.1:$redis_port/0"
fi
echo "[run] redis: $DOCKYARD_REDIS_URL" >&2

if [ -z "${KUBECONFIG:-}" ]; then
  export DOCKYARD_CLUSTER_DIR="${DOCKYARD_CLUSTER_DIR:-$run_dir/cluster}"
  if ! ./dockyard cluster status >/dev/null 2>&1; then
    ./dockyard cluster down >/dev/null 2>&1 || true
    ./dockyard cluster up >&2
    started_cluster=1
  fi
  export KUBECONFIG="$DOCKYARD_CLUSTER_DIR/dockyard.kubeconfig"
fi
echo "[run] kubernetes: KUBECONFIG=$KUBECONFIG" >&2

./dockyard rules check >&2

if [ -z "${GITLAB_URL:-}" ]; then
  # No GitLab can run here: a local stand-in speaks its API, records statuses and tags.
  gitlab_port="${DOCKYARD_GITLAB_PORT:-8929}"
  export GITLAB_URL="http://127.0.0.1:$gitlab_port" GITLAB_TOKEN="${GITLAB_TOKEN:-local-gitlab-token}"
  export GITLAB_WEBHOOK_TOKEN="${GITLAB_WEBHOOK_TOKEN:-local-webhook-token}"
  .venv/bin/python -m deploy.local.gitlab_standin --port "$gitlab_port" --token "$GITLAB_TOKEN" &
  gitlab_pid=$!
fi
echo "[run] gitlab: $GITLAB_URL" >&2

if [ -z "${ALERTMANAGER_URL:-}" ]; then
  # Debian's Alertmanager, its webhook pointed at this Dockyard (the README's stanza).
  am_port="${DOCKYARD_ALERTMANAGER_PORT:-9093}"
  export ALERTMANAGER_URL="http://127.0.0.1:$am_port"
  export ALERTMANAGER_WEBHOOK_TOKEN="${ALERTMANAGER_WEBHOOK_TOKEN:-local-alertmanager-token}"
  mkdir -p "$run_dir/alertmanager"
  cat > "$run_dir/alertmanager/alertmanager.yml" <<YML
route:
  receiver: dockyard
  group_by: [alertname, service]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 4h
receivers:
- name: dockyard
  webhook_configs:
  - url: http://127.0.0.1:$PORT/webhooks/alertmanager
    send_resolved: true
    max_alerts: 100
    http_config:
      authorization:
        type: Bearer
        credentials: $ALERTMANAGER_WEBHOOK_TOKEN
YML
  prometheus-alertmanager --config.file="$run_dir/alertmanager/alertmanager.yml" \
    --storage.path="$run_dir/alertmanager/data" --web.listen-address="127.0.0.1:$am_port" \
    --cluster.listen-address= --log.level=warn &
  am_pid=$!
fi
echo "[run] alertmanager: $ALERTMANAGER_URL" >&2
if [ -n "$started_cluster" ]; then
  echo "[run] seeding the local cluster: v1 of each example service in test" >&2
  ./dockyard demo seed >&2 || echo "[run] the demo seed failed (above); the platform runs without it" >&2
fi

cat >&2 <<TXT

  Dockyard is starting on http://127.0.0.1:$PORT   (Ctrl-C stops everything)
  In another terminal:
    ./dockyard chat --as alice "/status web"
    ./dockyard chat --as alice "/deploy web canary 10%"    (v2 beside v1, 10% by nginx)
    ./dockyard chat --as alice "/deploy web promote"
    ./dockyard chat --as alice "/help"
    ./dockyard audit --since 1h
    curl localhost:$PORT/readyz ; curl localhost:$PORT/metrics
    a push: see "Builds" in README.md (X-Gitlab-Token: $GITLAB_WEBHOOK_TOKEN)
  (run them with DOCKYARD_REDIS_URL=$DOCKYARD_REDIS_URL if you changed the port)

TXT
# honcho runs in a session of its own, so the terminal's signals reach only this script, which
# stops it in order; its output goes through a loop that outlives a closed terminal, so honcho
# never dies of a failed write and leaves its processes behind.
setsid .venv/bin/honcho start -f Procfile -p "$PORT" > >(
  trap '' INT TERM HUP
  while IFS= read -r line; do printf '%s\n' "$line" 2>/dev/null || true; done
) 2>&1 &
honcho_pid=$!
wait "$honcho_pid" || true
