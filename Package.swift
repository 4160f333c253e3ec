// swift-tools-version:6.0
// Swiftport: an iSCSI target daemon with multipath logic built in.
// Module layout and dependency direction: ARCHITECTURE.md §3.
import PackageDescription

// Release builds keep the compile-time exclusivity checks but drop the run-time ones
// (swift_beginAccess on class properties): about 27 per 4 KiB command, 5% of its
// instructions in callgrind. Debug builds, which every unit test runs, keep them.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
    // Each file imports the modules whose members it uses (SE-0444), so Package.swift
    // can list exactly what a target imports (scripts/check-imports.sh).
    .enableUpcomingFeature("MemberImportVisibility"),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "swiftport",
    platforms: [.macOS("26.0")],
    products: [
        .executable(name: "swiftportd", targets: ["swiftportd"]),
        .executable(name: "swiftport", targets: ["swiftport"]),
        // For the Fuzz/ and Benchmarks/ packages beside this one, which build the code
        // under test from here (.package(path: "..")).
        .library(name: "ISCSIProtocol", targets: ["ISCSIProtocol"]),
        .library(name: "ISCSISession", targets: ["ISCSISession"]),
        .library(name: "CCRC32C", targets: ["CCRC32C"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // CRC32C (RFC 7143 §13.1 digests): SSE4.2 with runtime dispatch, portable fallback.
        .target(name: "CCRC32C"),
        // Non-temporal copies into RAM LUN pages (x86-64 SSE2, memcpy elsewhere).
        .target(name: "CStreamingCopy"),
        // librbd and librados loaded at run time (dlopen), so nothing links against Ceph.
        .target(name: "CLibRBD"),
        .target(
            name: "ISCSIProtocol",
            dependencies: ["CCRC32C", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "ISCSISession",
            dependencies: [
                "ISCSIProtocol", "SCSIProtocol", "BlockStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SCSIProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "BlockStorage",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "SCSIEngine",
            dependencies: [
                "SCSIProtocol", "BlockStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CephCluster",
            dependencies: [
                "CLibRBD", "BlockStorage", "SCSIEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "LUNBackends",
            dependencies: [
                "BlockStorage", "CStreamingCopy", "CLibRBD", "CephCluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ISCSITransport",
            dependencies: [
                "ISCSIProtocol", "ISCSISession", "SCSIProtocol", "SCSIEngine", "BlockStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The configuration file: TOML parser, model, validation with file:line errors.
        // Pure: no NIO, no daemon; the engine, the DSM and the session layer only for the
        // values they accept (CHAP credentials are the session layer's type).
        .target(
            name: "DaemonConfiguration",
            dependencies: ["SCSIEngine", "SCSIProtocol", "MultipathDSM", "ISCSISession", "LUNBackends"],
            swiftSettings: strict
        ),
        .target(
            name: "TargetDaemon",
            dependencies: [
                "DaemonConfiguration", "ISCSITransport", "ISCSIProtocol", "ISCSISession", "SCSIProtocol", "SCSIEngine",
                "LUNBackends", "BlockStorage", "RemoteLUN", "MultipathDSM", "CephCluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "swiftportd",
            dependencies: [
                "TargetDaemon", "DaemonConfiguration", "ISCSITransport", "SCSIEngine", "CephCluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "swiftport",
            dependencies: [
                "TargetDaemon", "DaemonConfiguration", "RemoteLUN", "MultipathDSM", "ISCSITransport", "ISCSIProtocol", "ISCSISession", "SCSIProtocol",
                "BlockStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The DSM's policy (ARCHITECTURE.md §4): claim, grouping, path selection,
        // failover/failback. Pure: no NIO, no clocks of its own.
        // SCSIProtocol for the wire types it reasons about (ALUA state, sense code,
        // designator), nothing of NIO.
        .target(name: "MultipathDSM", dependencies: ["SCSIProtocol"], swiftSettings: strict),
        // The DSM's initiator side: discovery down each path, and a claimed multipath
        // device as a LUN backend (a gateway).
        .target(
            name: "RemoteLUN",
            dependencies: [
                "ISCSITransport", "ISCSISession", "ISCSIProtocol", "MultipathDSM", "SCSIProtocol", "BlockStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ISCSITestSupport",
            dependencies: [
                "BlockStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ISCSIProtocolTests",
            dependencies: [
                "ISCSIProtocol", "CCRC32C",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ISCSISessionTests",
            dependencies: [
                "ISCSISession", "ISCSIProtocol", "SCSIProtocol", "BlockStorage",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CephClusterTests",
            dependencies: [
                "CephCluster", "SCSIEngine", "SCSIProtocol", "BlockStorage", "LUNBackends",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SCSIEngineTests",
            dependencies: [
                "SCSIEngine", "SCSIProtocol", "BlockStorage", "LUNBackends", "CStreamingCopy", "ISCSITestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ISCSITransportTests",
            dependencies: [
                "ISCSITransport", "ISCSIProtocol", "ISCSISession", "ISCSITestSupport", "SCSIEngine", "SCSIProtocol", "LUNBackends", "BlockStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MultipathDSMTests",
            dependencies: ["MultipathDSM", "SCSIProtocol"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SCSIProtocolTests",
            dependencies: ["SCSIProtocol"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RemoteLUNTests",
            dependencies: [
                "RemoteLUN", "MultipathDSM", "SCSIProtocol", "SCSIEngine", "LUNBackends", "ISCSITransport", "ISCSIProtocol",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DaemonConfigurationTests",
            dependencies: ["DaemonConfiguration", "SCSIProtocol", "MultipathDSM", "ISCSISession", "LUNBackends"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TargetDaemonTests",
            dependencies: [
                "TargetDaemon", "DaemonConfiguration", "SCSIEngine", "SCSIProtocol", "LUNBackends", "ISCSITransport",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ]
)
