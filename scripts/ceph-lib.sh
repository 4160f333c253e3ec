# Shared by the test scripts that need a Ceph cluster (rbd-integration.sh,
# gateway-cluster.sh): the Debian packages, and a throwaway one-node
# cluster from ../shared/ceph in $WORK/ceph, stopped on exit. Source it after lib.sh's
# lib_begin, with SHARED, MON_PORT and OSD_PORT_MIN set.

# ceph_install: installs ceph-mon, ceph-osd, ceph-common and the librbd/librados
# packages when they are missing (about 55 s).
ceph_install() {
    if ! command -v ceph-mon > /dev/null || [[ ! -e /usr/lib/x86_64-linux-gnu/librbd.so.1 ]]; then
        echo "-- installing the Ceph packages (ceph-mon ceph-osd ceph-common librbd-dev librados-dev)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            ceph-mon ceph-osd ceph-common librbd-dev librados-dev > "$WORK/apt.log" 2>&1 || { tail -n 20 "$WORK/apt.log"; exit 1; }
    fi
}

# ceph_cluster_up: brings the cluster up in $CLUSTER ($WORK/ceph), exports CEPH_CONF,
# and stops it on exit (before lib_cleanup removes $WORK); every swiftportd the
# script started is continued first, in case a check stopped it. OSD_PID_FILE names
# the OSD's PID file.
ceph_cluster_up() {
    CLUSTER=$WORK/ceph
    OSD_PID_FILE=$CLUSTER/run/osd.0.pid
    trap 'ceph_cluster_down; lib_cleanup' EXIT
    "$SHARED/ceph/cluster-up.sh" "$CLUSTER" > "$WORK/cluster-up.log" 2>&1 || { cat "$WORK/cluster-up.log"; exit 1; }
    export CEPH_CONF=$CLUSTER/ceph.conf
}

ceph_cluster_down() {
    local pid
    for pid in "${SWIFTPORTD_PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null; done
    [[ -f $OSD_PID_FILE ]] && kill -CONT "$(cat "$OSD_PID_FILE")" 2>/dev/null  # if a check stopped it
    [[ -d $CLUSTER ]] && "$SHARED/ceph/cluster-down.sh" "$CLUSTER" > /dev/null 2>&1
}
