/// The reply of a notification (librados.h, `rados_notify2`): the watchers that
/// acknowledged and those that timed out, as little-endian counts and client ids.
struct NotifyReply: Hashable {
    var acknowledged: [UInt64] = []
    var timedOut: [UInt64] = []

    /// No answer at all.
    init() {}

    init?(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        func take<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard offset + MemoryLayout<T>.size <= bytes.count else { return nil }
            defer { offset += MemoryLayout<T>.size }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        guard let acknowledgements = take(UInt32.self) else { return nil }
        for _ in 0..<acknowledgements {
            guard let client = take(UInt64.self), take(UInt64.self) != nil, let length = take(UInt32.self),
                  offset + Int(length) <= bytes.count
            else { return nil }
            offset += Int(length)
            acknowledged.append(client)
        }
        guard let timeouts = take(UInt32.self) else { return nil }
        for _ in 0..<timeouts {
            guard let client = take(UInt64.self), take(UInt64.self) != nil else { return nil }
            timedOut.append(client)
        }
    }
}
