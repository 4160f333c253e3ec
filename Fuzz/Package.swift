// swift-tools-version:6.0
// A libFuzzer target over the iSCSI PDU framer, the PDU codec, the text-parameter
// parser and the target login state machine. Run it with scripts/fuzz.sh.
//
// Why this package re-declares the main package's modules instead of depending on it:
// SwiftPM lets a package use only the *products* of its dependencies, and the main
// package (../Package.swift) exports nothing but its two executables. A dependency
// `.package(name: "swiftport", path: "..")` therefore cannot reach ISCSIProtocol or
// ISCSISession ("product ... not found"), and SwiftPM refuses a target `path:` outside
// the package root. So Sources/CCRC32C, Sources/ISCSIProtocol and Sources/ISCSISession
// here are symlinks to ../../Sources/<name>: the very same files, compiled as targets
// of this package with the same dependencies as in ../Package.swift. Nothing is
// copied, the main package is left untouched, and this package has its own .build/.
// Keep the targets below in step with ../Package.swift when those modules change
// their dependencies.
//
// Build (what scripts/fuzz.sh runs):
//   swift build -c release --product ISCSIFuzz --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address
// --sanitize=fuzzer adds coverage instrumentation to every target and links
// libFuzzer's main() (from /opt/swift/usr/lib/swift/clang/lib/linux/); it is also what
// stops SwiftPM from renaming the executable's entry point to ISCSIFuzz_main, which a
// plain -Xswiftc -sanitize=fuzzer build fails to link over. -Xswiftc -sanitize=address
// adds ASan to every Swift module (NIO's inlinable ByteBuffer code included) and its
// runtime to the link; CCRC32C, our one C target, gets ASan from its cSettings below.
// (`--sanitize=fuzzer --sanitize=address` would do both, but SwiftPM writes the two
// -fsanitize flags in a random order whenever it re-plans the build, e.g. after a
// reproducer is saved in this directory, and then recompiles everything.)
// ISCSIFuzz has no main of its own (-parse-as-library), so this package builds only
// with --sanitize=fuzzer.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "swiftport-fuzz",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ISCSIFuzz", targets: ["ISCSIFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // Symlink to ../Sources/CCRC32C; ASan like the Swift code (see above).
        .target(name: "CCRC32C", cSettings: [.unsafeFlags(["-fsanitize=address"])]),
        // Symlink to ../Sources/ISCSIProtocol.
        .target(
            name: "ISCSIProtocol",
            dependencies: ["CCRC32C", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        // Symlink to ../Sources/ISCSISession.
        .target(
            name: "ISCSISession",
            dependencies: ["ISCSIProtocol", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ISCSIFuzz",
            dependencies: [
                "CCRC32C", "ISCSIProtocol", "ISCSISession",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict + [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
