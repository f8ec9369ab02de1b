// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "RNNKit",
    products: [
        .library(name: "RNNKit", targets: ["RNNKit"]),
        .executable(name: "rnnkit", targets: ["rnnkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        // ONNX export: the ModelProto messages of Sources/RNNKit/ONNX/third_party/onnx.pb.swift.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // `swift package generate-documentation --target RNNKit` (the DocC catalog in Sources/RNNKit).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // `rnnkit serve`: the HTTP server (Hummingbird 2 on swift-nio), signals, logs and metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C bindings: the only places that see C types. Swift code imports them internally.
        .systemLibrary(
            name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(
            name: "CJSONC", path: "Sources/CJSONC", pkgConfig: "json-c",
            providers: [.apt(["libjson-c-dev"])]),
        .systemLibrary(
            name: "CLibDeflate", path: "Sources/CLibDeflate", pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]),
        // The runtime's kernels: the packed matrix product and the cell steps, in C with AVX2/FMA
        // variants picked at run time.
        .target(name: "CRNNKitKernels", path: "Sources/CRNNKitKernels"),
        .target(
            name: "RNNKit",
            dependencies: [
                "CHDF5", "CJSONC", "CLibDeflate", "CRNNKitKernels",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        // The TensorFlow Serving-compatible HTTP server behind `rnnkit serve`: request and response
        // codecs, dynamic batching, streaming sessions, metrics. Uses only RNNKit's public API.
        .target(
            name: "RNNKitServer",
            dependencies: [
                "RNNKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // The CLI: one thin command per file, on RNNKit's public API.
        .executableTarget(name: "rnnkit", dependencies: [
            "RNNKit", "RNNKitServer", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Test helpers (fixture paths); not a product.
        .target(name: "RNNKitTestSupport", dependencies: ["RNNKit"], path: "Sources/RNNKitTestSupport"),
        .testTarget(name: "RNNKitTests", dependencies: ["RNNKit", "RNNKitTestSupport", "CRNNKitKernels"]),
        .testTarget(name: "RNNKitCLITests", dependencies: ["rnnkit", "RNNKitTestSupport"]),
        // Runs the built rnnkit serve too (SIGTERM, log lines), hence the dependency on the executable.
        .testTarget(name: "RNNKitServerTests", dependencies: ["RNNKitServer", "RNNKit", "RNNKitTestSupport", "rnnkit"]),
    ],
    swiftLanguageModes: [.v5]
)
