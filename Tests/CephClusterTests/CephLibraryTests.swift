import BlockStorage
import CephCluster
import Testing

/// Loading the Ceph libraries, without a cluster; the rest runs against a real one-node
/// Ceph cluster in scripts/rbd-integration.sh.
@Suite("Ceph libraries")
struct CephLibraryTests {
    @Test("without librbd, opening an rbd LUN fails with the library and the Debian package to install")
    func missingLibrary() {
        guard case .failure(let error) = CephLibrary.load(librbd: "librbd-swiftport-test-absent.so.1", librados: "libc.so.6") else {
            Issue.record("a library that does not exist loaded")
            return
        }
        #expect(error.code == .openFailed)
        #expect(error.message.contains("librbd-swiftport-test-absent.so.1"), "\(error.message)")
        #expect(error.message.contains("apt-get install librbd1"), "\(error.message)")
    }

    @Test("a library without librbd's functions is refused, naming the first one missing")
    func libraryWithoutTheFunctions() {
        guard case .failure(let error) = CephLibrary.load(librbd: "libc.so.6", librados: "libc.so.6") else {
            Issue.record("libc passed for librados")
            return
        }
        #expect(error.message.contains("has no rados_create2"), "\(error.message)")
    }
}
