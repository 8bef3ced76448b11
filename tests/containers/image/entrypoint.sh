#!/bin/sh
# The test image's entrypoint: one mode per first argument, each a case the runtime must handle.
#
#   serve         serve $PORT with busybox httpd: GET / answers {"greeting": "$GREETING", ...};
#                 GET /readyz answers "ready" once $STARTUP_DELAY seconds have passed (default
#                 0), on $PROBE_PORT instead when that is set; GET /healthz answers "ok" until
#                 $FAIL_HEALTH_AFTER seconds have passed (default: always). Logs "serving on
#                 port ..." to stdout, "WARNING: ..." and one line per request to stderr; exits 0
#                 on SIGTERM.
#   ignore-term   serve as above, but ignore SIGTERM (the runtime must SIGKILL after the grace)
#   exit CODE     print a line to stdout and one to stderr, then exit with CODE at once
#   hog MIB       allocate MIB MiB of memory and hold it (an OOM kill under a smaller limit)
#   log TEXT      print TEXT to stdout, then serve as above
set -u
mode="${1:-serve}"

serve() {
    port="${PORT:?PORT is not set}"
    probe_dir=/www
    mkdir -p /www
    printf '{"greeting": "%s", "workloadId": "%s", "port": %s}\n' \
        "${GREETING:-hello}" "${WORKLOAD_ID:-}" "$port" >/www/index.html
    echo ok >/www/healthz
    if [ -n "${FAIL_HEALTH_AFTER:-}" ]; then
        (sleep "$FAIL_HEALTH_AFTER"; rm -f /www/healthz) &
    fi
    if [ -n "${PROBE_PORT:-}" ]; then
        probe_dir=/probe
        mkdir -p /probe
        httpd -f -v -p "$PROBE_PORT" -h /probe &
        children="$!"
    fi
    if [ "${STARTUP_DELAY:-0}" != 0 ]; then
        (sleep "$STARTUP_DELAY"; echo ready >"$probe_dir/readyz") &
    else
        echo ready >"$probe_dir/readyz"
    fi
    echo "serving on port $port (mode $mode)"
    echo "WARNING: this is a test image" >&2
    # -f: foreground; -v: one line per request on stderr.
    httpd -f -v -p "$port" -h /www &
    server=$!
    children="${children:-} $server"
    if [ "$mode" = ignore-term ]; then
        trap '' TERM
        echo "ignoring SIGTERM"
    else
        # shellcheck disable=SC2086
        trap 'echo "got SIGTERM, exiting"; kill $children 2>/dev/null; exit 0' TERM
    fi
    # `wait` returns early when a trapped signal arrives, so loop while the server runs.
    while kill -0 "$server" 2>/dev/null; do
        wait "$server"
    done
    echo "httpd ended" >&2
    exit 1
}

case "$mode" in
    serve | ignore-term)
        serve
        ;;
    exit)
        echo "exiting at once"
        echo "ERROR: no model file" >&2
        exit "${2:-3}"
        ;;
    hog)
        echo "allocating ${2:-64} MiB"
        # dd allocates a block of bs bytes and fills it; exec, so PID 1 is what gets killed.
        exec dd if=/dev/zero of=/dev/null bs="${2:-64}M" count=1000000
        ;;
    log)
        echo "${2:-}"
        mode=serve
        serve
        ;;
    *)
        echo "unknown mode: $mode" >&2
        exit 64
        ;;
esac
