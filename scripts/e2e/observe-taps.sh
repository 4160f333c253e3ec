#!/bin/bash
# Per-portal traffic at each step of a run-e2e.sh run, seen from the host.
#
#   observe-taps.sh WORKDIR NETNS   (runs until WORKDIR/observe.stop exists)
#
# Follows WORKDIR/ctl.log (the guest's markers on its second serial port) and, at
# every E2E-PHASE and E2E-CTRL line, appends the byte counters of the two tap devices
# in NETNS to WORKDIR/taps.txt:
#   <epoch> <PHASE|CTRL> <name> <tap1-rx> <tap1-tx> <tap2-rx> <tap2-tx>
# tapN carries everything between the guest and portal N, so on the host rx = bytes
# the guest sent (SCSI writes) and tx = bytes the target sent (SCSI reads). The
# checks in scripts/e2e/check-run.sh take differences between two markers.
set -uo pipefail
work=${1:?WORKDIR} netns=${2:?NETNS}
out=$work/taps.txt
: > "$out"
counters() {
    ip netns exec "$netns" sh -c 'for i in 1 2; do for d in rx tx; do
        cat /sys/class/net/tap$i/statistics/${d}_bytes 2>/dev/null || echo NA; done; done' 2>/dev/null \
        | tr '\n' ' ' || echo "NA NA NA NA"
}
done_lines=0
while [ ! -e "$work/observe.stop" ]; do
    total=$( { wc -l < "$work/ctl.log"; } 2>/dev/null || echo 0)
    if [ "$total" -lt "$done_lines" ]; then done_lines=0; fi   # run-e2e.sh truncated it
    if [ "$total" -gt "$done_lines" ]; then
        while IFS= read -r line; do
            set -- ${line//$'\r'/}
            case "${1:-}" in
                E2E-PHASE) echo "$(date +%s.%N) PHASE ${2:-?} $(counters)" >> "$out" ;;
                E2E-CTRL) echo "$(date +%s.%N) CTRL ${2:-?}-${3:-?} $(counters)" >> "$out" ;;
            esac
        done < <(sed -n "$((done_lines + 1)),${total}p" "$work/ctl.log")
        done_lines=$total
    fi
    sleep 0.1
done
