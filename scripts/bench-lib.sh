# Shared by scripts/bench.sh and scripts/bench-profile.sh (sourced, not run).

# bench_build SCRATCH: the release daemon as it is deployed (README, "Installing"): with
# the Swift runtime linked in, so its calls into the runtime bind directly instead of
# through the PLT and __tls_get_addr (BENCHMARKS.md).
bench_build() {
    swift build -c release --static-swift-stdlib --product swiftportd --scratch-path "$1"
}

# bench_config WORK IQN PORT RAM_MB [LOOPS]: writes WORK/swiftport.toml, one target on
# 127.0.0.1:PORT with a RAM LUN 0 of RAM_MB MiB, and the negotiation limits both
# benchmark scripts (and the tgtd they compare with) use: 256 KiB PDUs, 1 MiB bursts,
# 256 KiB first burst, InitialR2T=No, ImmediateData=Yes, MaxOutstandingR2T=8; LOOPS
# sets event_loop_threads (default: one per CPU). Callers append more [[target.lun]] tables.
bench_config() {
    local work=$1 iqn=$2 port=$3 ram_mb=$4 loops=${5:-}
    cat > "$work/swiftport.toml" <<TOML
[daemon]
state_dir = "$work/state"
admin_socket = "$work/admin.sock"
log_level = "warning"
${loops:+event_loop_threads = $loops}
[daemon.iscsi]
max_recv_data_segment_length = 262144
max_burst_length = 1048576
first_burst_length = 262144
initial_r2t = false
immediate_data = true
max_outstanding_r2t = 8
[[target]]
name = "$iqn"
portals = ["127.0.0.1:$port"]
[[target.lun]]
id = 0
backend = "ram"
size = "${ram_mb}MiB"
TOML
}

# bench_ports_free PORT...: exits 2 naming the first port something already listens on.
bench_ports_free() {
    local port
    for port in "$@"; do
        if ss -Hltn "sport = :$port" | grep -q .; then echo "port $port is in use" >&2; exit 2; fi
    done
}

# bench_client WORK: builds ../shared/bench's iscsi-bench in WORK/bench; sets BENCH to it.
bench_client() {
    cp -r "$SHARED/bench" "$1/bench" && chmod -R u+w "$1/bench" && make -s -C "$1/bench" iscsi-bench
    BENCH=$1/bench/iscsi-bench
}

# tgtd_start WORK CTRL PORT IQN: a tgtd on 127.0.0.1:PORT (control port CTRL) with target
# 1 named IQN, open to every initiator, with bench_config's negotiation limits. Sets
# TGTD_PID, and TGTADM (the tgtadm command for it) for the caller's logical units.
tgtd_start() {
    local work=$1 ctrl=$2 port=$3 iqn=$4 kv
    tgtd -f -C "$ctrl" --iscsi portal="127.0.0.1:$port" > "$work/tgtd.log" 2>&1 &
    TGTD_PID=$!
    sleep 2
    TGTADM=(tgtadm -C "$ctrl" --lld iscsi)
    "${TGTADM[@]}" --op new --mode target --tid 1 -T "$iqn"
    "${TGTADM[@]}" --op bind --mode target --tid 1 -I ALL
    for kv in MaxRecvDataSegmentLength=262144 MaxXmitDataSegmentLength=262144 FirstBurstLength=262144 MaxBurstLength=1048576 InitialR2T=No ImmediateData=Yes MaxOutstandingR2T=8; do
        "${TGTADM[@]}" --op update --mode target --tid 1 -n "${kv%%=*}" -v "${kv#*=}"
    done
}

# tgtd_stop CTRL PID: removes tgtd's targets, then the process (it does not stop on TERM
# while sessions are open).
tgtd_stop() {
    tgtadm -C "$1" --op delete --mode system > /dev/null 2>&1
    sleep 0.5
    kill -9 "$2" 2> /dev/null
}
