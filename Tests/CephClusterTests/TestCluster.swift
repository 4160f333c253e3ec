#if canImport(Glibc)
import Glibc
#endif

/// The test cluster's configuration file: scripts/rbd-integration.sh sets
/// `SWIFTPORT_TEST_CEPH_CONF` to its one-node cluster's; without it the suites that
/// need a cluster are skipped.
let testCephConf = getenv("SWIFTPORT_TEST_CEPH_CONF").map { String(cString: $0) }
