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
        // ONNX export: the ModelProto messages of Sources/RNNKit/ONNX/onnx.pb.swift.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // `swift package generate-documentation --target RNNKit` (the DocC catalog in Sources/RNNKit).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C bindings: the only places that see C types. Swift code imports them internally.
        .systemLibrary(
            name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(
            name: "CJSONC", path: "Sources/CJSONC", pkgConfig: "json-c",
            providers: [.apt(["libjson-c-dev"])]),
        // The runtime's kernels: the packed matrix product and the cell steps, in C with AVX2/FMA
        // variants picked at run time.
        .target(name: "CRNNKitKernels", path: "Sources/CRNNKitKernels"),
        .target(
            name: "RNNKit",
            dependencies: [
                "CHDF5", "CJSONC", "CRNNKitKernels",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        .executableTarget(
            name: "rnnkit",
            dependencies: [
                "RNNKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Test helpers (fixture paths); not a product.
        .target(name: "RNNKitTestSupport", dependencies: ["RNNKit"], path: "Sources/RNNKitTestSupport"),
        .testTarget(name: "RNNKitTests", dependencies: ["RNNKit", "RNNKitTestSupport", "CRNNKitKernels"]),
        .testTarget(name: "RNNKitCLITests", dependencies: ["rnnkit", "RNNKitTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
