// swift-tools-version:6.1
// Micro-benchmarks for Swiftport's per-PDU code (the benchmark issue): the PDU codec
// and CRC32C, with ordo-one/package-benchmark. A package of its own so that the main
// package's `swift build`, `swift test` and CI never build it or its dependencies.
//
//     cd Benchmarks && swift package --disable-sandbox benchmark
//
// ISCSIProtocol is the main package's library product (../Package.swift), built as the
// daemon builds it.
import PackageDescription

let package = Package(
    name: "swiftport-benchmarks",
    platforms: [.macOS("26.0")],
    dependencies: [
        // Named, so that the product below does not depend on the checkout's directory name.
        .package(name: "swiftport", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // No default traits: the malloc and ARC interposers are not needed for these
        // figures (time and instructions), and the ARC one is not in the local mirror.
        .package(url: "https://github.com/ordo-one/package-benchmark", exact: "1.38.1", traits: []),
    ],
    targets: [
        .executableTarget(
            name: "ProtocolBenchmarks",
            dependencies: [
                .product(name: "ISCSIProtocol", package: "swiftport"),
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/ProtocolBenchmarks",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
