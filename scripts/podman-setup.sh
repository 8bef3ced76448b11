#!/bin/sh
# Rootful podman (runc, cgroupfs) serving the Docker Engine API for the container tests.
#
# Idempotent; each step is skipped when it is already done:
#   1. apt-get install podman, runc, busybox-static, catatonit, iptables (when missing; as root)
#   2. write containers.conf and storage.conf into the run dir (the settings this host kind needs,
#      see ../../shared/testing.md: fixed ulimits, k8s-file logs, runc, cgroupfs, file events)
#   3. start `podman system service --time=0 unix://<run dir>/podman.sock` in the background
#   4. build the busybox test image (tests/containers/image) when it is missing or changed
#   5. write <run dir>/env: DOCKER_HOST, CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and the image
#
# Usage: scripts/podman-setup.sh [RUN_DIR]   (default $WORKLOADLAB_PODMAN_DIR or
# /tmp/workloadlab-podman). Where podman cannot be installed (not root, no apt-get) it says so
# and exits 0, so the container tests skip; with CI set, that is an error instead.
set -eu

RUN_DIR="${1:-${WORKLOADLAB_PODMAN_DIR:-/tmp/workloadlab-podman}}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
IMAGE_DIR="$REPO/tests/containers/image"
IMAGE="${WORKLOADLAB_TEST_IMAGE:-localhost/workloadlab-test:latest}"
PACKAGES="podman runc busybox-static catatonit iptables"

say() { echo "podman-setup: $*" >&2; }

unavailable() {
    if [ -n "${CI:-}" ]; then
        say "ERROR: $* (CI is set, so the container tests must run)"
        exit 1
    fi
    say "$*; the container tests will be skipped"
    exit 0
}

# -- 1. packages --------------------------------------------------------------------------------
missing=""
for tool in podman runc; do
    command -v "$tool" >/dev/null 2>&1 || missing="yes"
done
if command -v dpkg >/dev/null 2>&1; then # Debian's plain busybox is dynamically linked
    dpkg -s busybox-static >/dev/null 2>&1 || missing="yes"
else
    [ -x /bin/busybox ] || missing="yes"
fi
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        unavailable "podman, runc or busybox-static is missing and cannot be installed here"
    fi
    say "installing $PACKAGES"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
fi
if [ "$(id -u)" != 0 ]; then
    unavailable "rootful podman needs root"
fi

# -- 2. configuration ---------------------------------------------------------------------------
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
SOCKET="$RUN_DIR/podman.sock"
export CONTAINERS_CONF="$RUN_DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$RUN_DIR/storage.conf"

write_if_changed() { # path, content: rewrite only when different (the service reads it once)
    if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
        printf '%s\n' "$2" >"$1"
        CONFIG_CHANGED=yes
    fi
}
CONFIG_CHANGED=""
write_if_changed "$CONTAINERS_CONF" "[containers]
default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]
log_driver = \"k8s-file\"

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
tmp_dir = \"$RUN_DIR/tmp\""
write_if_changed "$CONTAINERS_STORAGE_CONF" "[storage]
driver = \"overlay\"
graphroot = \"$RUN_DIR/storage\"
runroot = \"$RUN_DIR/runroot\""

# -- 3. the API service -------------------------------------------------------------------------
exec 9>"$RUN_DIR/setup.lock"
flock 9 # one setup at a time (two checkouts may share the run dir)

answers() { # whether the Docker API answers on the socket
    python3 - "$SOCKET" <<'EOF'
import socket, sys
try:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(2)
        s.connect(sys.argv[1])
        s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
        sys.exit(0 if s.recv(64).split(b" ")[1:2] == [b"200"] else 1)
except (OSError, IndexError):
    sys.exit(1)
EOF
}

PID_FILE="$RUN_DIR/service.pid"
if [ -n "$CONFIG_CHANGED" ] && [ -f "$PID_FILE" ]; then
    say "configuration changed: restarting the service"
    kill "$(cat "$PID_FILE")" 2>/dev/null || true
    rm -f "$PID_FILE" "$SOCKET"
fi
if ! answers; then
    rm -f "$SOCKET"
    say "starting podman system service on $SOCKET"
    # From the run dir: conmon leaves files (e.g. "oom") in the service's working directory.
    (cd "$RUN_DIR" && exec setsid podman system service --time=0 "unix://$SOCKET" 9>&- \
        </dev/null >>"$RUN_DIR/service.log" 2>&1) &
    echo $! >"$PID_FILE"
    tries=0
    until answers; do
        tries=$((tries + 1))
        if [ "$tries" -gt 150 ]; then
            say "ERROR: the service did not answer within 15 s; its log:"
            tail -n 20 "$RUN_DIR/service.log" >&2
            exit 1
        fi
        sleep 0.1
    done
fi

# -- 4. the test image --------------------------------------------------------------------------
HASH="$(cat "$IMAGE_DIR/Containerfile" "$IMAGE_DIR/entrypoint.sh" /bin/busybox | sha256sum | cut -c1-16)"
current="$(podman image inspect --format '{{index .Labels "workloadlab.test-image"}}' "$IMAGE" \
    2>/dev/null || true)"
if [ "$current" != "$HASH" ]; then
    say "building $IMAGE"
    context="$(mktemp -d)"
    cp "$IMAGE_DIR/Containerfile" "$IMAGE_DIR/entrypoint.sh" "$context/"
    cp /bin/busybox "$context/busybox"
    podman build --quiet --pull=never --label "workloadlab.test-image=$HASH" \
        -t "$IMAGE" -f "$context/Containerfile" "$context" >/dev/null
    rm -rf "$context"
    podman image prune -f >/dev/null # the previous build, now untagged (this run dir's only)
fi

# -- 5. what the tests and benchmarks read --------------------------------------------------
cat >"$RUN_DIR/env" <<EOF
DOCKER_HOST=unix://$SOCKET
CONTAINERS_CONF=$CONTAINERS_CONF
CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF
WORKLOADLAB_TEST_IMAGE=$IMAGE
EOF
say "ready: DOCKER_HOST=unix://$SOCKET, image $IMAGE"
