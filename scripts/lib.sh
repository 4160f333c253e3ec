# Shared by the loopback test scripts (integration.sh, dsm-integration.sh,
# conformance.sh): a work directory, pass/fail bookkeeping, and the daemons a script
# starts (swiftportd, a private tgtd), which are always stopped again. Source it, then
# call lib_begin NAME. Only what the script started is stopped; nothing is killed by name.
#
# KEEP=DIR copies the work directory's logs, scores and check outputs there on exit.

# lib_begin NAME: makes $WORK and arranges for lib_cleanup on exit.
lib_begin() {
    WORK=$(mktemp -d "/tmp/swiftport-$1.XXXXXX")
    SWIFTPORTD_PIDS=() SWIFTPORTD_PID= TGTD_PID= TGTD_CONTROL=
    passed=0 failed=0
    trap lib_cleanup EXIT
}

lib_cleanup() {
    local pid
    for pid in "${SWIFTPORTD_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    stop_tgtd
    sleep 0.5
    for pid in "${SWIFTPORTD_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    if [[ -n ${KEEP:-} ]]; then
        mkdir -p "$KEEP" && cp "$WORK"/*.log "$WORK"/*.json "$WORK"/*.txt "$WORK"/*.out "$KEEP"/ 2>/dev/null
    fi
    rm -rf "$WORK"
}

# check NAME COMMAND...: runs COMMAND, counts it as passed or failed, and shows the
# tail of its output when it fails (all of it stays in $WORK/NAME.out).
check() {
    local name=$1; shift
    if "$@" > "$WORK/$name.out" 2>&1; then
        passed=$((passed + 1)); echo "  ok    $name"
    else
        failed=$((failed + 1)); echo "  FAIL  $name"; sed 's/^/        /' "$WORK/$name.out" | tail -n 25
    fi
}

# finish NAME: prints the tally; fails when a check failed.
finish() {
    echo "$1: $passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}

# require_free_ports PORT...: exits 2 naming the first port something listens on.
require_free_ports() {
    local port
    for port in "$@"; do
        if ss -Hltn "sport = :$port" | grep -q .; then
            echo "port $port is in use; choose others with the script's *PORT variables" >&2
            exit 2
        fi
    done
}

# start_swiftportd NAME CONFIG: starts $BIN/swiftportd, logging to $WORK/NAME.log, and
# waits until it is ready; its PID is in SWIFTPORTD_PID. Exits 1 if it does not start.
start_swiftportd() {
    "$BIN/swiftportd" --config "$2" > "$WORK/$1.log" 2>&1 &
    SWIFTPORTD_PID=$!
    SWIFTPORTD_PIDS+=("$SWIFTPORTD_PID")
    for _ in $(seq 100); do
        grep -q "swiftportd ready" "$WORK/$1.log" && return 0
        kill -0 "$SWIFTPORTD_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "swiftportd ($1) did not start:"; cat "$WORK/$1.log"; exit 1
}

# start_tgtd PORT CONTROL: a private tgtd on 127.0.0.1:PORT with control port CONTROL
# (tgtd -C), ready for tgtadm; TGTADM is the tgtadm command for it.
start_tgtd() {
    TGTD_CONTROL=$2
    TGTADM=(tgtadm -C "$TGTD_CONTROL" --lld iscsi)
    tgtd -f -C "$TGTD_CONTROL" --iscsi portal="127.0.0.1:$1" > "$WORK/tgtd.log" 2>&1 &
    TGTD_PID=$!
    for _ in $(seq 50); do
        tgtadm -C "$TGTD_CONTROL" --op show --mode system > /dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "tgtd did not start:"; cat "$WORK/tgtd.log"; exit 1
}

# stop_tgtd: tgtd ignores SIGTERM; its system is deleted through tgtadm, then it is killed.
stop_tgtd() {
    [[ -n $TGTD_PID ]] || return 0
    tgtadm -C "$TGTD_CONTROL" --op delete --mode system > /dev/null 2>&1
    sleep 0.5
    kill -9 "$TGTD_PID" 2>/dev/null
    wait "$TGTD_PID" 2>/dev/null   # reaped here, so bash does not report it "Killed"
    TGTD_PID=
}
