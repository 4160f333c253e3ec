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
