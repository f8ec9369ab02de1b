import XCTest
@testable import RNNKit
import RNNKitTestSupport

/// Conv2D, the 2D poolings, ZeroPadding2D and Cropping2D: config refusals located by JSON
/// pointer, shapes and weights, channels_first (also Conv1D's: TensorFlow's CPU kernels refuse
/// most channels_first convolutions when run eagerly, so no Keras fixture reaches them) and the
/// pytorch layout. Keras's own numbers are
/// checked by the conv2d_crnn and conv2d_options fixtures (InferenceTests).
final class Convolution2DTests: XCTestCase {
    private func decode(_ className: String, _ config: JSONValue) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: KerasConfig(object: config.objectValue ?? JSONObject(),
                                                                 pointer: "/config", kerasMajorVersion: 3))
    }

    func testInvalidConfigsAreRefusedWithTheirPlace() {
        let cases: [(String, JSONValue, String)] = [
            ("Conv2D", ["filters": 4, "kernel_size": [3, 3], "padding": "causal"], "/config/padding"),
            ("Conv2D", ["filters": 4, "kernel_size": [3]], "/config/kernel_size"),
            ("Conv2D", ["filters": 4, "kernel_size": [3, 0]], "/config/kernel_size"),
            ("Conv2D", ["filters": 4, "kernel_size": 3, "groups": 3], "/config/groups"),
            ("Conv2D", ["filters": 4, "kernel_size": 3, "data_format": "channels_middle"], "/config/data_format"),
            ("Conv2D", ["filters": 4, "kernel_size": 3, "dilation_rate": [1, 2, 3]], "/config/dilation_rate"),
            ("MaxPooling2D", ["pool_size": [2, 2], "strides": [0, 1]], "/config/strides"),
            ("AveragePooling2D", ["pool_size": 2, "padding": "full"], "/config/padding"),
            ("GlobalMaxPooling2D", ["data_format": 3], "/config/data_format"),
            ("ZeroPadding2D", ["padding": [[1, 2], [3]]], "/config/padding"),
            ("Cropping2D", ["cropping": [1, 2, 3]], "/config/cropping"),
            ("Cropping2D", ["cropping": -1], "/config/cropping"),
        ]
        for (className, config, location) in cases {
            XCTAssertThrowsError(try decode(className, config), "\(className) \(config)") { error in
                XCTAssertEqual((error as? RNNKitError)?.location, location, "\(error)")
            }
        }
    }

    func testShapesAndWeightsFollowTheConfig() throws {
        let conv = try decode("Conv2D", ["filters": 6, "kernel_size": [3, 2], "strides": [2, 1], "padding": "same",
                                         "groups": 2])
        XCTAssertEqual(try conv.outputShapes(for: [[nil, 7, 8, 4]]), [[nil, 4, 8, 6]])
        XCTAssertEqual(try conv.outputShapes(for: [[nil, nil, 8, 4]]), [[nil, nil, 8, 6]])
        XCTAssertEqual(try conv.weightSpecs(for: [[nil, 7, 8, 4]]).map(\.shape), [[3, 2, 2, 6], [6]])
        XCTAssertThrowsError(try conv.outputShapes(for: [[nil, 7, 8, 5]]), "channels not divisible by groups")
        XCTAssertThrowsError(try conv.outputShapes(for: [[nil, 7, 4]]), "a rank-3 input")
        let first = try decode("Conv2D", ["filters": 5, "kernel_size": 3, "data_format": "channels_first",
                                          "dilation_rate": 2, "use_bias": false])
        XCTAssertEqual(try first.outputShapes(for: [[nil, 3, 9, 6]]), [[nil, 5, 5, 2]])
        XCTAssertEqual(try first.weightSpecs(for: [[nil, 3, 9, 6]]).map(\.shape), [[3, 3, 3, 5]])
        XCTAssertThrowsError(try first.outputShapes(for: [[nil, 3, 4, 6]]), "a valid window taller than the input")

        // Pooling strides default to (and, as null, mean) the pool size.
        XCTAssertEqual(try decode("MaxPooling2D", ["pool_size": [2, 3], "strides": .null]).outputShapes(for: [[nil, 7, 8, 3]]),
                       [[nil, 3, 2, 3]])
        XCTAssertEqual(try decode("AveragePooling2D", ["pool_size": 3, "strides": [2, 3], "padding": "same"])
            .outputShapes(for: [[nil, 7, 8, 3]]), [[nil, 4, 3, 3]])
        XCTAssertEqual(try decode("GlobalAveragePooling2D", ["keepdims": true, "data_format": "channels_first"])
            .outputShapes(for: [[nil, 3, 7, 8]]), [[nil, 3, 1, 1]])
        XCTAssertEqual(try decode("GlobalMaxPooling2D", [:]).outputShapes(for: [[nil, 7, 8, 3]]), [[nil, 3]])
        XCTAssertEqual(try decode("ZeroPadding2D", ["padding": [1, 2]]).outputShapes(for: [[nil, 7, 8, 3]]),
                       [[nil, 9, 12, 3]])
        XCTAssertEqual(try decode("Cropping2D", ["cropping": [[1, 0], [2, 3]], "data_format": "channels_first"])
            .outputShapes(for: [[nil, 3, 7, 8]]), [[nil, 3, 6, 3]])
        XCTAssertThrowsError(try decode("Cropping2D", ["cropping": 4]).outputShapes(for: [[nil, 7, 8, 3]]),
                             "nothing left after cropping")
    }

    /// channels_first computes what channels_last computes on the transposed input.
    private func assertChannelsFirstIsChannelsLastTransposed(_ input: Tensor, _ layers: [(String, JSONValue, [String: Tensor])]) throws {
        let toFirst = [0, input.rank - 1] + Array(1..<input.rank - 1)
        let transposed = input.permutingAxes(toFirst)
        for (className, config, weights) in layers {
            guard case .object(var object) = config else { return XCTFail("not an object") }
            let last = try decode(className, config)
            object["data_format"] = "channels_first"
            let first = try decode(className, .object(object))
            let expected = try last.forward([LayerValue(input)], weights: weights, carry: nil).outputs[0].tensor
            let output = try first.forward([LayerValue(transposed)], weights: weights, carry: nil).outputs[0].tensor
            let shape = try first.outputShapes(for: [[nil] + transposed.shape.dropFirst().map { $0 }])[0]
            XCTAssertEqual(shape.dropFirst().map { $0 }, output.shape.dropFirst().map { $0 }, className)
            let back = expected.rank == input.rank ? expected.permutingAxes(toFirst) : expected
            XCTAssertEqual(output.shape, back.shape, className)
            assertClose(output.scalars, back.scalars, within: 1e-6, className)
        }
    }

    func testChannelsFirstIsChannelsLastTransposed() throws {
        let images = Tensor(shape: [2, 5, 6, 4], scalars: (0..<240).map { Float(($0 * 37) % 23) / 11 - 1 })
        let kernel = Tensor(shape: [3, 2, 2, 4], scalars: (0..<48).map { Float(($0 * 17) % 13) / 13 - 0.5 })
        let bias = Tensor(shape: [4], scalars: [0.1, -0.2, 0.3, 0])
        try assertChannelsFirstIsChannelsLastTransposed(images, [
            ("Conv2D", ["filters": 4, "kernel_size": [3, 2], "strides": [1, 2], "padding": "same", "groups": 2,
                        "activation": "tanh"], ["kernel": kernel, "bias": bias]),
            ("MaxPooling2D", ["pool_size": [2, 3], "strides": [2, 1], "padding": "same"], [:]),
            ("AveragePooling2D", ["pool_size": 3, "strides": [2, 3], "padding": "same"], [:]),
            ("GlobalAveragePooling2D", ["keepdims": true], [:]),
            ("GlobalMaxPooling2D", [:], [:]),
            ("ZeroPadding2D", ["padding": [[1, 2], [0, 1]]], [:]),
            ("Cropping2D", ["cropping": [[2, 0], [1, 3]]], [:]),
        ])
        // Conv1D without groups, which TensorFlow's CPU kernels refuse to run channels first.
        let sequences = images.reshaped([2, 30, 4])
        try assertChannelsFirstIsChannelsLastTransposed(sequences, [
            ("Conv1D", ["filters": 4, "kernel_size": 3, "strides": 2, "padding": "causal", "dilation_rate": 1],
             ["kernel": kernel.reshaped([3, 4, 4]), "bias": bias]),
            ("MaxPooling1D", ["pool_size": 3, "strides": 2, "padding": "same"], [:]),
        ])
    }

    /// A same-padded average divides by the cells inside the image, a max ignores the padding.
    func testSamePaddingTakesNoPartInPooling() throws {
        let image = Tensor(shape: [1, 2, 2, 1], scalars: [-1, -2, -3, -4])
        let average = try decode("AveragePooling2D", ["pool_size": 3, "strides": 1, "padding": "same"])
        let maximum = try decode("MaxPooling2D", ["pool_size": 3, "strides": 1, "padding": "same"])
        XCTAssertEqual(try average.forward([LayerValue(image)], weights: [:], carry: nil).outputs[0].tensor.scalars,
                       [-2.5, -2.5, -2.5, -2.5])
        XCTAssertEqual(try maximum.forward([LayerValue(image)], weights: [:], carry: nil).outputs[0].tensor.scalars,
                       [-1, -1, -1, -1])
    }

    func testImagesTooSmallForTheWindowAreBadUsage() throws {
        let conv = try decode("Conv2D", ["filters": 1, "kernel_size": 3])
        let weights = ["kernel": Tensor(zeros: [3, 3, 1, 1]), "bias": Tensor(zeros: [1])]
        XCTAssertThrowsError(try conv.forward([LayerValue(Tensor(zeros: [1, 2, 5, 1]))], weights: weights, carry: nil)) {
            XCTAssertEqual(($0 as? RNNKitError)?.kind, .badUsage, "\($0)")
        }
    }

    /// A pool size only the config bounds cannot make RNNKit build tables or loop without limit.
    func testHugeWindowsAreRefusedBeforeAllocating() throws {
        let pooling = try decode("MaxPooling2D", ["pool_size": [.int(1 << 24), .int(1 << 24)], "strides": 1, "padding": "same"])
        XCTAssertThrowsError(try pooling.forward([LayerValue(Tensor(zeros: [1, 64, 64, 1]))], weights: [:], carry: nil)) {
            XCTAssertEqual(($0 as? RNNKitError)?.kind, .badUsage, "\($0)")
        }
    }

    func testHugeMarginsAreRefusedBeforeAllocating() throws {
        let padding = try decode("ZeroPadding2D", ["padding": .int(1 << 23)])
        XCTAssertThrowsError(try padding.forward([LayerValue(Tensor(zeros: [1, 2, 2, 1]))], weights: [:], carry: nil)) {
            XCTAssertEqual(($0 as? RNNKitError)?.kind, .badUsage, "\($0)")
        }
    }

    func testPyTorchLayoutNamesTheModulesParameters() throws {
        let conv = try decode("Conv2D", ["filters": 2, "kernel_size": [3, 2]])
        let kernel = Tensor(shape: [3, 2, 4, 2], scalars: (0..<48).map(Float.init))
        let exported = try LayoutConversion.export(["kernel": kernel, "bias": Tensor(shape: [2], scalars: [1, 2])],
                                                   of: conv, to: .pytorch)
        XCTAssertEqual(Set(exported.keys), ["weight", "bias"])
        let weight = try XCTUnwrap(exported["weight"])
        XCTAssertEqual(weight.shape, [2, 4, 3, 2])  // torch.nn.Conv2d: [out, in, kh, kw]
        for h in 0..<3 {
            for w in 0..<2 {
                for c in 0..<4 {
                    for f in 0..<2 {
                        XCTAssertEqual(weight.scalars[((f * 4 + c) * 3 + h) * 2 + w], kernel.scalars[((h * 2 + w) * 4 + c) * 2 + f])
                    }
                }
            }
        }
        XCTAssertEqual(try LayoutConversion.importWeights(exported, of: conv, from: .pytorch)["kernel"], kernel)
        XCTAssertEqual(try LayoutConversion.tensorNames(of: conv, in: .split), ["kernel", "bias"])
    }

    /// torch.nn.Conv2d(C, C·M, k, groups=C) holds a depthwise kernel [k..., C, M] as [C·M, 1, k...];
    /// a separable layer adds the 1×1 `pointwise` module.
    func testPyTorchLayoutRunsDepthwiseAsAGroupedConvolution() throws {
        let separable = try decode("SeparableConv2D", ["filters": 5, "kernel_size": [3, 2], "depth_multiplier": 2])
        let depthwise = Tensor(shape: [3, 2, 4, 2], scalars: (0..<48).map(Float.init))
        let pointwise = Tensor(shape: [1, 1, 8, 5], scalars: (0..<40).map(Float.init))
        let weights = ["depthwise_kernel": depthwise, "pointwise_kernel": pointwise, "bias": Tensor(zeros: [5])]
        let exported = try LayoutConversion.export(weights, of: separable, to: .pytorch)
        XCTAssertEqual(exported.mapValues(\.shape), ["depthwise.weight": [8, 1, 3, 2], "pointwise.weight": [5, 8, 1, 1],
                                                      "pointwise.bias": [5]])
        let weight = try XCTUnwrap(exported["depthwise.weight"])
        for h in 0..<3 {
            for w in 0..<2 {
                for c in 0..<4 {
                    for m in 0..<2 {
                        XCTAssertEqual(weight.scalars[((c * 2 + m) * 3 + h) * 2 + w], depthwise.scalars[((h * 2 + w) * 4 + c) * 2 + m])
                    }
                }
            }
        }
        XCTAssertEqual(try LayoutConversion.importWeights(exported, of: separable, from: .pytorch), weights)
        let alone = try decode("DepthwiseConv1D", ["kernel_size": 3, "depth_multiplier": 2])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: alone, in: .pytorch), ["weight", "bias"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: alone, in: .keras), ["depthwise_kernel", "bias"])
    }

    func testStreamingRefusesImages() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("conv2d_crnn/keras3.keras"))
        XCTAssertThrowsError(try PredictionStream(predictor)) { error in
            XCTAssertTrue("\(error)".contains("needs the whole image"), "\(error)")
        }
    }
}
