// swift-tools-version:6.1
// Micro-benchmarks for Swiftport's per-PDU code (the benchmark issue): the PDU codec
// and CRC32C, with ordo-one/package-benchmark. A package of its own so that the main
// package's `swift build`, `swift test` and CI never build it or its dependencies.
//
//     cd Benchmarks && swift package --disable-sandbox benchmark
//
// ISCSIProtocol and CCRC32C are compiled here from the main package's sources (the
// symlinks under Sources/), since the main package exports no library products.
import PackageDescription

let package = Package(
    name: "swiftport-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // No default traits: the malloc and ARC interposers are not needed for these
        // figures (time and instructions), and the ARC one is not in the local mirror.
        .package(url: "https://github.com/ordo-one/package-benchmark", exact: "1.38.1", traits: []),
    ],
    targets: [
        .target(name: "CCRC32C"),
        .target(
            name: "ISCSIProtocol",
            dependencies: ["CCRC32C", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(
            name: "ProtocolBenchmarks",
            dependencies: [
                "ISCSIProtocol", "CCRC32C",
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/ProtocolBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
