// swift-tools-version:6.0
// A libFuzzer target over the iSCSI PDU framer, the PDU codec, the text-parameter
// parser and the target login state machine. Run it with scripts/fuzz.sh.
//
// The code under test is the main package's (../Package.swift), through its library
// products ISCSIProtocol, ISCSISession and CCRC32C: the very modules the daemon is
// built from, with their own dependencies and settings. This package has its own .build/.
//
// Build (what scripts/fuzz.sh runs):
//   swift build -c release --product ISCSIFuzz --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
//       -Xcc -fsanitize=address -Xswiftc -enforce-exclusivity=checked
// --sanitize=fuzzer adds coverage instrumentation to every target of the build, the
// main package's and NIO's included, and links libFuzzer's main() (from
// /opt/swift/usr/lib/swift/clang/lib/linux/); it is also what stops SwiftPM from
// renaming the executable's entry point to ISCSIFuzz_main, which a plain
// -Xswiftc -sanitize=fuzzer build fails to link over. -Xswiftc -sanitize=address adds
// ASan to every Swift module (NIO's inlinable ByteBuffer code included) and its runtime
// to the link; -Xcc -fsanitize=address does the same for the C targets (CCRC32C).
// (`--sanitize=fuzzer --sanitize=address` would do both, but SwiftPM writes the two
// -fsanitize flags in a random order whenever it re-plans the build, e.g. after a
// reproducer is saved in this directory, and then recompiles everything.)
// -enforce-exclusivity=checked keeps the run-time exclusivity checks that the main
// package drops from its release builds, so the fuzzer reports those violations too.
// ISCSIFuzz has no main of its own (-parse-as-library), so this package builds only
// with --sanitize=fuzzer.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "swiftport-fuzz",
    platforms: [.macOS("26.0")],
    products: [
        .executable(name: "ISCSIFuzz", targets: ["ISCSIFuzz"]),
    ],
    dependencies: [
        // Named, so that the products below do not depend on the checkout's directory name.
        .package(name: "swiftport", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "ISCSIFuzz",
            dependencies: [
                .product(name: "CCRC32C", package: "swiftport"),
                .product(name: "ISCSIProtocol", package: "swiftport"),
                .product(name: "ISCSISession", package: "swiftport"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict + [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
