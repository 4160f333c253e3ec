#!/usr/bin/env bash
# Installs the outside tools the tests drive (ARCHITECTURE.md §6), only when missing.
# Debian packages: libiscsi-bin (iscsi-ls, iscsi-inq, iscsi-test-cu), libiscsi-dev (to
# build ../shared/bench/iscsi-bench), tgt (tgtd, the reference target), open-iscsi
# (iscsiadm), iperf3 (loopback ceiling for benchmarks), libclang-rt-14-dev (fuzzing);
# for scripts/e2e.sh the qemu guest's packages (qemu-system-x86, linux-image-amd64,
# multipath-tools, busybox, udev, kmod, sg3-utils, iproute2, cpio).
set -euo pipefail

missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1"); }
for package in libiscsi-bin libiscsi-dev tgt open-iscsi iperf3 make gcc; do need "$package"; done
# scripts/e2e.sh: the packages ../shared/e2e/build-guest.sh --install-deps installs (the
# guest's kernel, modules and initiator tools are taken from these host packages; qemu
# boots it). busybox-static stands in for busybox.
for package in qemu-system-x86 linux-image-amd64 multipath-tools udev kmod sg3-utils iproute2 cpio gzip; do
    need "$package"
done
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed" || need busybox

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "install-deps: missing ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    apt-get update -qq
    # policy-rc.d keeps the packages' own services (tgtd on :3260, iscsid) from starting.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
fi
