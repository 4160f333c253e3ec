import BlockStorage
import CLibRBD

/// librbd's and librados' functions, loaded on first use: a daemon without an rbd LUN or
/// a `[cluster]` never needs the Ceph libraries (ARCHITECTURE.md).
package final class CephLibrary: @unchecked Sendable {  // immutable once loaded
    package let api: swiftport_rbd_api

    private init(api: swiftport_rbd_api) {
        self.api = api
    }

    /// The system's librbd.so.1 and librados.so.2, or why they cannot be used.
    package static let shared: Result<CephLibrary, BlockStorageError> = load(librbd: "librbd.so.1", librados: "librados.so.2")

    package static func load(librbd: String, librados: String) -> Result<CephLibrary, BlockStorageError> {
        let api = UnsafeMutablePointer<swiftport_rbd_api>.allocate(capacity: 1)
        defer { api.deallocate() }
        var message = [CChar](repeating: 0, count: 512)
        guard swiftport_rbd_load(librbd, librados, api, &message, message.count) == 0 else {
            return .failure(BlockStorageError(.openFailed, "\(Self.string(message)); rbd LUNs need the Debian package librbd1 (apt-get install librbd1)"))
        }
        return .success(CephLibrary(api: api.pointee))
    }

    /// A NUL-terminated C string from a buffer.
    package static func string(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
