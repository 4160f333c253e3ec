import BlockStorage
import NIOCore
import RemoteLUN

/// A bounded read/write load with verification: every block written carries its LBA
/// and a generation; every read checks the generation last written. Workers own
/// disjoint stripes of the range, so no two I/Os overlap.
struct VerifiedLoad {
    let device: RemoteBlockDevice
    let blocksPerIO: Int
    let depth: Int
    let rangeBytes: UInt64

    struct Outcome {
        var ios = 0
        var errors = 0
        var mismatches = 0
    }

    func run(for duration: Duration, report: @escaping @Sendable (Int) async -> Void) async -> Outcome {
        let blockSize = device.geometry.blockSize
        let ioCount = Int(min(rangeBytes / UInt64(blockSize), device.geometry.blockCount) / UInt64(blocksPerIO))
        let deadline = ContinuousClock.now + duration
        let device = device
        let blocksPerIO = blocksPerIO
        let depth = depth
        return await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                var second = 0
                while ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .seconds(1))
                    second += 1
                    await report(second)
                }
                return Outcome()
            }
            for worker in 0..<depth {
                group.addTask {
                    var outcome = Outcome()
                    // What each slot holds, when known; a write that failed may or may
                    // not have reached the medium (SAM-5), so its slot is not checked
                    // until written again.
                    var generations: [Int: UInt32] = [:]
                    var lastGeneration: [Int: UInt32] = [:]
                    var slot = worker
                    var write = true
                    while ContinuousClock.now < deadline, ioCount > 0 {
                        let lba = UInt64(slot % max(ioCount, 1) * blocksPerIO)
                        do {
                            if write {
                                let generation = (lastGeneration[slot] ?? 0) &+ 1
                                lastGeneration[slot] = generation
                                generations[slot] = nil
                                try await device.write(Self.pattern(lba: lba, generation: generation, blocks: blocksPerIO, blockSize: blockSize), at: lba, forceUnitAccess: false)
                                generations[slot] = generation
                            } else if let generation = generations[slot] {
                                let data = try await device.read(at: lba, blockCount: blocksPerIO, allocator: ByteBufferAllocator())
                                if data != Self.pattern(lba: lba, generation: generation, blocks: blocksPerIO, blockSize: blockSize) {
                                    outcome.mismatches += 1
                                }
                            }
                            outcome.ios += 1
                        } catch {
                            outcome.errors += 1
                        }
                        write.toggle()
                        if write { slot += depth }
                    }
                    return outcome
                }
            }
            var total = Outcome()
            for await part in group {
                total.ios += part.ios
                total.errors += part.errors
                total.mismatches += part.mismatches
            }
            return total
        }
    }

    /// Block contents: LBA and generation stamped in every 16 bytes.
    static func pattern(lba: UInt64, generation: UInt32, blocks: Int, blockSize: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(blocks * blockSize)
        for block in 0..<blocks {
            for _ in 0..<(blockSize / 16) {
                buffer.writeInteger(lba + UInt64(block))
                buffer.writeInteger(generation)
                buffer.writeInteger(UInt32(0x5357_5054))
            }
        }
        return buffer
    }
}
