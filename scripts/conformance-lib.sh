# Shared by conformance.sh and rbd-integration.sh: reading iscsi-test-cu's output the
# same way wherever the suite runs. Source it.

# CUnit prints a test's verdict ("passed") and then runs the suite's cleanup, whose log
# (for example the PR IN with which iscsi-test-cu clears registrations) lands on the same
# line. The scorer reads that line as the test's own output, so Reserve6.LUNReset, whose
# LOGICAL UNIT RESET leaves BUS DEVICE RESET FUNCTION OCCURRED pending on the resetting
# nexus as SAM-5 §6.3.3 requires (and MultipathIO.Reset checks), would count as failed
# although CUnit passed it. Put the text after the verdict on a line of its own, marked,
# for both targets alike; the marked lines are printed, not hidden.
separate_cleanup_output() {
    sed -E 's/^(\s*Test: \S+ \.\.\.passed)\s+(\S.*)$/\1\n    (after the verdict) \2/' "$1"
}

# Tests whose expectation contradicts the standard for a logical unit like ours: their
# failure is printed with the reason and does not gate. Every other failure does.
declare -A CONTRADICTS_STANDARD=(
    [GetLBAStatus.UnmapSingle]="with more than one logical block per physical block (LBPPBE 3 here, as on tgtd) it asks for LBA i+1 and expects the first descriptor at i+LBPPB; SBC-4 GET LBA STATUS (LBA status descriptor relationships) requires the first descriptor to start at the requested STARTING LOGICAL BLOCK ADDRESS"
    [WriteSame10.UnmapUntilEnd]="it sends WRITE SAME(10) with UNMAP=1 and a block of 0xFF bytes, then expects zeros back; SBC-4 WRITE SAME(10): later reads behave as if that block was written to every LBA, so a block that is not what an unmapped block reads as (zeros, LBPRZ=1) is written, not unmapped (WriteSame16.UnmapUntilEnd sends zeros and passes)"
)

# unexplained KIND SCORE: prints the KIND lines (FAILED, BEHIND-BASELINE) of a score
# that name a test not in CONTRADICTS_STANDARD, and the listed ones with their reason;
# succeeds when there is an unexplained one.
unexplained() {
    local kind=$1 name found=1
    while read -r _ name _; do
        name=${name%:}
        if [[ -n ${CONTRADICTS_STANDARD[$name]:-} ]]; then
            echo "   expected: $kind $name: ${CONTRADICTS_STANDARD[$name]}"
        else
            echo "   GATING: $kind $name"; found=0
        fi
    done < <(grep "^$kind " "$2")
    return $found
}

