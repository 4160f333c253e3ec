#!/bin/bash
# Host-side checks of one run-e2e.sh run with the Swiftport multipath profile
# (`swiftport profile multipath-conf`: group_by_prio, prio alua, tur, failback
# immediate), after the guest has said PASS.
#
#   check-run.sh WORKDIR alua|linkdown|owner
#
# The shared guest script checks the I/O itself (pattern written and read back
# through /dev/mapper/..., no write error while a path is down, writes completing on
# the surviving path, every block read back through the map and through each path).
# It knows nothing of ALUA, so what it cannot express is checked here, from the files
# the run leaves in WORKDIR:
#   console.log  the guest's `multipath -ll` (printed when the map is ready, and after
#                each path has been restored)
#   ctl.log      which sdX is path 1 / path 2, which paths were cut
#   taps.txt     per-portal byte counters at each guest step (observe-taps.sh)
#   hooks.log    what alua-hooks.sh did, with times (alua run only)
# Checks (each printed as "ok" or "FAILED"):
#   1. one map, hwhandler '1 alua', two path groups with one path each: path 1
#      (portal 1, TPG 1 active/optimized) in the group with prio 50 and status active,
#      path 2 (TPG 2 active/non-optimized) in the group with prio 10 (multipath-tools'
#      alua prioritizer: 50 optimized, 10 non-optimized, 1 standby; +80 with PREF)
#   2. before any failure, the 16 MiB pattern write and read went through portal 1
#      only (tap1 >= 16 MiB each way, tap2 < 1 MiB)
#   3. while path k was cut, the 8 MiB writer pass went through the other portal
#      (>= 8 MiB received there) and nothing through portal k
#   4. after path k was restored, the 8 MiB read-back through the map came from
#      portal 1 (failback: I/O back in TPG 1's group), tap2 sent < 1 MiB; and the
#      guest's `multipath -ll` shows path 1's group active with prio 50 again
#   5. alua run: the hooks set TPG k standby, a session through portal k was logged
#      in again while it was standby and carried no I/O while the writer went on
#      through the other portal, TPG k was set back to its state afterwards, and
#      the guest reported path k "active ready" only after that (a standby path is
#      "ghost" to the tur checker, not "ready"), and TPG k was still standby when the
#      hold ended
#   6. no ALUA state was changed by the guest's SET TARGET PORT GROUPS (target.log)
# Inconclusive (alua run): multipathd sometimes reports the re-logged-in path "active
# ready" within about a second of the login, while TPG k is standby and before any
# TEST UNIT READY reached the target (portal k's tap shows no byte sent by the target
# between the login and that report: seen on Debian 12's multipath-tools 0.9.4). The
# guest then reads back during the standby hold through the other portal, as it should
# for a path it has not been told is active, so checks 4 and the timing of 5 say
# nothing about the target. They are not made for that path; the other checks are.
# Exit 0 all checks passed, 1 any failed, 3 all made passed but the run was
# inconclusive as above (scripts/e2e.sh runs it once more).
set -uo pipefail
# owner: the owner run (gateways-target.sh, owner mode), checked as linkdown. Its home
# group has PREF set, which Debian 12's alua prioritizer does not count (prio 50).
work=${1:?WORKDIR} mode=${2:?alua|linkdown|owner}
MIB=1048576
PATTERN_MB=16 WRITER_MB=8   # run-e2e.sh's fixed PATTERN_MB / WRITER_MB
failures=0 inconclusive=0
ok()     { echo "  ok      $*"; }
bad()    { echo "  FAILED  $*"; failures=$((failures + 1)); }
check()  { if [ "$1" = 0 ]; then ok "$2"; else bad "$2"; fi; }   # check STATUS TEXT

ctl_info() { sed -n "s/^E2E-INFO $1 \([^[:space:]]*\).*/\1/p" "$work/ctl.log" | tr -d '\r' | head -n 1; }
SD1=$(ctl_info path1) SD2=$(ctl_info path2)
[ -n "$SD1" ] && [ -n "$SD2" ] || { bad "no path1/path2 in ctl.log"; exit 1; }
FAILED_PATHS=$(sed -n 's/^E2E-CTRL FAIL \([12]\).*/\1/p' "$work/ctl.log" | tr -d '\r' | tr '\n' ' ')
echo "host-side checks ($mode): path 1 = $SD1 (portal 1, TPG 1), path 2 = $SD2 (portal 2, TPG 2); paths cut: ${FAILED_PATHS:-none}"

# ---- the guest's `multipath -ll` -------------------------------------------------
# mpll MARKER-REGEX: the `multipath -ll` output printed after the console line matching
# MARKER (up to the next "[e2e ...]" line; kernel messages and colours removed)
mpll() {
    sed 's/\x1b\[[0-9;]*m//g; s/\r//' "$work/console.log" \
        | awk -v pat="$1" 'f && /^\[e2e / {exit} f && !/^\[ *[0-9]+\.[0-9]+\]/ {print} !f && $0 ~ pat {f=1}'
}
# summary of a block: "maps groups paths hwhandler prio1 status1 group1 prio2 status2 group2"
mpll_summary() {
    awk -v p1="$SD1" -v p2="$SD2" '
        /policy=/ { g++; match($0, /prio=[0-9]+/); pr = substr($0, RSTART + 5, RLENGTH - 5)
                    match($0, /status=[a-z]+/); st = substr($0, RSTART + 7, RLENGTH - 7); next }
        / dm-[0-9]+ / { maps++ }
        /hwhandler=/ { match($0, /hwhandler=\047[^\047]*\047/); hw = substr($0, RSTART + 11, RLENGTH - 12); gsub(/ /, "_", hw) }
        / sd[a-z]+ [0-9]+:[0-9]+ / { n++; for (i = 1; i <= NF; i++) if ($i ~ /^sd[a-z]+$/) { P[$i] = pr; S[$i] = st; G[$i] = g } }
        END { printf "%d %d %d %s %s %s %s %s %s %s\n", maps, g, n, (hw == "" ? "-" : hw),
              (p1 in P ? P[p1] : "-"), (p1 in S ? S[p1] : "-"), (p1 in G ? G[p1] : "-"),
              (p2 in P ? P[p2] : "-"), (p2 in S ? S[p2] : "-"), (p2 in G ? G[p2] : "-") }'
}
block=$(mpll 'E2E-PHASE multipath-ready')
echo "  multipath -ll when the map was ready:"; echo "$block" | sed 's/^/      /'
read -r maps groups paths hw prio1 st1 g1 prio2 st2 g2 <<< "$(echo "$block" | mpll_summary)"
[ "$maps" = 1 ] && [ "$groups" = 2 ] && [ "$paths" = 2 ] && [ "$g1" != "$g2" ]
check $? "1. one map, two path groups of one path each (maps=$maps groups=$groups paths=$paths)"
[ "$hw" = "1_alua" ]; check $? "1. hardware handler alua (hwhandler='${hw//_/ }')"
[ "$prio1" = 50 ] && [ "$st1" = active ]
check $? "1. path 1 ($SD1) in the active group with ALUA prio 50 (active/optimized): prio=$prio1 status=$st1"
[ "$prio2" = 10 ] && [ "$st2" = enabled ]
check $? "1. path 2 ($SD2) in the other group (enabled, not in use) with ALUA prio 10 (active/non-optimized): prio=$prio2 status=$st2"

# ---- per-portal traffic ------------------------------------------------------------
[ -s "$work/taps.txt" ] || { bad "no taps.txt (observe-taps.sh did not run)"; exit 1; }
# delta FROM-NAME TO-NAME: "r1 t1 r2 t2" byte differences between the first taps.txt
# line named FROM and the next line after it named TO ("next-phase" = the next PHASE line)
delta() {
    awk -v from="$1" -v to="$2" '
        !found && $3 == from { for (i = 4; i <= 7; i++) a[i] = $i; found = 1; next }
        found && (($3 == to) || (to == "next-phase" && $2 == "PHASE")) {
            for (i = 4; i <= 7; i++) if (a[i] == "NA" || $i == "NA") { print "NA"; exit }
            print $4 - a[4], $5 - a[5], $6 - a[6], $7 - a[7]; exit }' "$work/taps.txt"
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
window() {   # window LABEL FROM TO: sets r1 t1 r2 t2, prints the traffic
    read -r r1 t1 r2 t2 <<< "$(delta "$2" "$3")"
    if [ -z "${t2:-}" ]; then echo "  (no counters for $1: $2 -> $3)"; r1=NA; return 1; fi
    echo "  traffic $1 ($2 -> $3): portal 1 in $(mib $r1) out $(mib $t1); portal 2 in $(mib $r2) out $(mib $t2)"
}
if window "pattern write+read" multipath-ready io-ok; then
    [ "$r1" -ge $((PATTERN_MB * MIB)) ] && [ "$t1" -ge $((PATTERN_MB * MIB)) ] && [ $((r2 + t2)) -lt $MIB ]
    check $? "2. the ${PATTERN_MB} MiB pattern was written and read through portal 1 only"
else bad "2. no traffic counters for the pattern write"; fi

for k in $FAILED_PATHS; do
    o=$((3 - k))
    if window "path $k cut" "fail$k-detected" "fail$k-io-continued"; then
        eval "ro=\$r$o rk=\$r$k tk=\$t$k"
        [ "$ro" -ge $((WRITER_MB * MIB)) ] && [ $((rk + tk)) -lt $MIB ]
        check $? "3. while path $k was cut, the writer's ${WRITER_MB} MiB went through portal $o, nothing through portal $k"
    else bad "3. no traffic counters while path $k was cut"; fi
    artifact=0
    if [ "$mode" = alua ]; then
        hl=$work/hooks.log
        ev() { awk -v e="$1" -v k="$k" '$2 == e && $3 == k { print $1; exit }' "$hl" 2>/dev/null; }
        t_dis=$(ev DISABLED) t_sb=$(ev STANDBY) t_sess=$(ev STANDBY-SESSION) t_act=$(ev ACTIVE) t_still=$(ev STILL-STANDBY)
        t_done=$(awk -v n="restore$k-done" '$3 == n { print $1; exit }' "$work/taps.txt")
        # bytes the target sent through portal k from the re-login to the guest's "ready"
        sent=$(awk -v k="$k" -v n="restore$k-done" '
            FILENAME ~ /hooks.log$/ && $2 == "STANDBY-SESSION" && $3 == k { for (i = 1; i <= NF; i++) if ($i == "taps") a = $(i + 2 * k) }
            FILENAME ~ /taps.txt$/ && $3 == n { b = $(3 + 2 * k) }
            END { if (a != "" && b != "") print b - a }' "$hl" "$work/taps.txt")
        if [ -n "$t_act" ] && [ -n "$t_done" ] && [ -n "$sent" ] && [ "$sent" -lt 48 ] \
            && awk -v a="$t_act" -v d="$t_done" 'BEGIN { exit !(d < a) }'; then
            artifact=1; inconclusive=1
            echo "  INCONCLUSIVE  the guest reported path $k active ready $(awk -v a="$t_act" -v d="$t_done" 'BEGIN{printf "%.1f", a-d}') s before TPG $k left standby, and the target had sent $sent bytes through portal $k since the re-login (no answer to any command): multipathd's own state, not the target's; checks 4 and the timing of 5 are not made for path $k"
        fi
    fi
    if [ "$artifact" = 1 ]; then :
    elif window "after path $k restored" "restore$k-done" next-phase; then
        [ "$t1" -ge $((WRITER_MB * MIB)) ] && [ "$t2" -lt $MIB ]
        check $? "4. after restoring path $k the ${WRITER_MB} MiB read-back came from portal 1 (I/O back in TPG 1's group)"
    else bad "4. no traffic counters after path $k was restored"; fi
    block=$(mpll "failover of path $k OK")
    echo "  multipath -ll after path $k was restored:"; echo "$block" | sed 's/^/      /'
    read -r maps groups paths hw prio1 st1 g1 prio2 st2 g2 <<< "$(echo "$block" | mpll_summary)"
    if [ "$artifact" = 0 ]; then
        [ "$maps" = 1 ] && [ "$paths" = 2 ] && [ "$prio1" = 50 ] && [ "$st1" = active ]
        check $? "4. after path $k: path 1 ($SD1) back in the active group with prio 50: prio=$prio1 status=$st1"
    fi

    if [ "$mode" = alua ]; then
        ! grep -q "HOOK-ERROR $k" "$hl" 2>/dev/null && [ -n "$t_dis" ] && [ -n "$t_sb" ] && [ -n "$t_sess" ] && [ -n "$t_act" ]
        check $? "5. hooks: portal $k disabled, TPG $k standby, re-login through portal $k while standby, TPG $k active again"
        [ -n "$t_still" ]
        check $? "5. TPG $k was still standby (alua show) at the end of the hold with the guest logged in through portal $k"
        # traffic during the hold: the writer keeps going, through the other portal only
        read -r r1 t1 r2 t2 <<< "$(awk -v k="$k" '
            $2 == "STANDBY-SESSION" && $3 == k { for (i = 1; i <= NF; i++) if ($i == "taps") for (j = 1; j <= 4; j++) a[j] = $(i + j) }
            $2 == "STILL-STANDBY" && $3 == k { for (i = 1; i <= NF; i++) if ($i == "taps") for (j = 1; j <= 4; j++) b[j] = $(i + j) }
            END { if (1 in a && 1 in b && a[1] != "" && b[1] != "") print b[1] - a[1], b[2] - a[2], b[3] - a[3], b[4] - a[4] }' "$hl")"
        if [ -n "${t2:-}" ]; then
            echo "  traffic while TPG $k was standby with a session: portal 1 in $(mib $r1) out $(mib $t1); portal 2 in $(mib $r2) out $(mib $t2)"
            eval "rk=\$r$k tk=\$t$k ro=\$r$o"
            [ $((rk + tk)) -lt $MIB ] && [ "$ro" -ge $MIB ]
            check $? "5. while TPG $k was standby the writer went on through portal $o only (the standby path carried no I/O)"
        else bad "5. no traffic counters for the standby hold of path $k"; fi
        if [ "$artifact" = 1 ]; then :
        elif [ -n "$t_act" ] && [ -n "$t_done" ] && [ -n "$t_sess" ]; then
            awk -v a="$t_act" -v d="$t_done" 'BEGIN { exit !(d > a) }'
            check $? "5. guest reported path $k active ready $(awk -v a="$t_act" -v d="$t_done" 'BEGIN{printf "%.1f", d-a}') s after TPG $k left standby (standby with a session for $(awk -v a="$t_act" -v s="$t_sess" 'BEGIN{printf "%.1f", a-s}') s)"
        else bad "5. no times for the standby -> active step of path $k"; fi
    fi
done
# ---- who changed ALUA states --------------------------------------------------
# Only the operator (alua-hooks.sh) may have: a SET TARGET PORT GROUPS from the guest
# would mean the host moved the groups itself and checks 1-5 would not test the
# states the target was told to report.
stpg=$(grep -c 'by=SET TARGET PORT GROUPS.*asymmetric access state changed' "$work/target.log")
[ "$stpg" = 0 ]
check $? "6. no ALUA state changed by the guest's SET TARGET PORT GROUPS ($stpg in target.log)"
[ "$failures" = 0 ] && [ "$inconclusive" = 1 ] && { echo "host-side checks: all made passed, run inconclusive"; exit 3; }
[ "$failures" = 0 ] && { echo "host-side checks: all passed"; exit 0; }
echo "host-side checks: $failures FAILED"
exit 1
