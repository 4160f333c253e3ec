import Benchmark
import ISCSIProtocol
import NIOCore

/// Micro-benchmarks of the per-PDU work on a 4 KiB I/O (the benchmark issue): decoding
/// and encoding the PDUs of a SCSI command, and CRC32C over 4 KiB and 64 KiB. Run with
/// `swift package --disable-sandbox benchmark` in this directory.
let benchmarks: @Sendable () -> Void = {
    // A thousand operations per sample: clock reads are slow in a VM and would
    // otherwise dominate a one-microsecond operation. Figures are per operation.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )
    let settings = ISCSIFramingSettings()
    settings.maxReceiveDataSegmentLength = 262_144
    let block = ByteBuffer(bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })

    // A WRITE(16) of 4 KiB with its data as immediate data, as iscsi-bench sends it.
    var command = SCSICommandRequest()
    command.isWrite = true
    command.initiatorTaskTag = InitiatorTaskTag(7)
    command.expectedDataTransferLength = 4096
    command.cmdSN = SequenceNumber(100)
    command.cdb = [0x8A, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 8, 0, 0]
    command.data = block
    var dataOut = DataOut()
    dataOut.isFinal = true
    dataOut.initiatorTaskTag = InitiatorTaskTag(7)
    dataOut.data = block
    var dataIn = DataIn()
    dataIn.isFinal = true
    dataIn.status = 0
    dataIn.initiatorTaskTag = InitiatorTaskTag(7)
    dataIn.data = block

    /// The PDU's wire bytes in one buffer, as the framer sees them after a read.
    func wire(_ message: any ISCSIPDUMessage) -> ByteBuffer {
        let frame = ISCSIPDUEncoder.encode(message, settings: settings)
        var bytes = frame.header
        if let data = frame.data { bytes.writeImmutableBuffer(data) }
        if let trailer = frame.trailer { bytes.writeImmutableBuffer(trailer) }
        return bytes
    }

    for (name, message) in [("SCSI Command (4 KiB immediate data)", command as any ISCSIPDUMessage), ("Data-Out (4 KiB)", dataOut), ("Data-In (4 KiB, status)", dataIn)] {
        let bytes = wire(message)
        Benchmark("decode \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                var input = bytes
                blackHole(try ISCSIPDUFramer.decodeFrame(from: &input, settings: settings))
            }
        }
        Benchmark("encode \(name)") { benchmark in
            let allocator = ByteBufferAllocator()
            for _ in benchmark.scaledIterations {
                blackHole(ISCSIPDUEncoder.encode(message, settings: settings, allocator: allocator))
            }
        }
    }

    for size in [4096, 65536] {
        let data = ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        Benchmark("CRC32C \(size / 1024) KiB", configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .kilo)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(CRC32C.checksum(data))
            }
        }
    }
}
