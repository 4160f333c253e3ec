/// A medium that the device servers of several gateways open at once but only the
/// holder of its exclusive lock may write (an rbd image with the exclusive-lock
/// feature): a write through any other fails with ``BlockStorageError/Code/notLockHolder``
/// and changes nothing. Reads need no lock.
///
/// The device servers agree on who holds it (the logical unit's owner, shared between
/// the gateways); the lock makes the storage enforce what they agreed.
public protocol ExclusiveLockDevice: BlockDevice {
    /// Whether writes need the lock (false: the medium takes them from anyone).
    var requiresExclusiveLock: Bool { get }
    /// Takes the lock for this device server. A holder still on record is broken,
    /// which fences it off the storage: call this only once every other device server
    /// has released the lock or been fenced.
    func acquireExclusiveLock() async throws
    /// Gives the lock up, once the writes in flight have completed; writes made after
    /// it fail until ``acquireExclusiveLock()``.
    func releaseExclusiveLock() async throws
}
