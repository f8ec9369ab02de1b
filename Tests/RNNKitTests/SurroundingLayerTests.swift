import XCTest
@testable import RNNKit
import RNNKitTestSupport

/// The layers around recurrent ones (Conv1D, pooling, normalizations): window arithmetic, config
/// refusals located by JSON pointer, the maths Keras fixtures do not reach, parameter counts and
/// the pytorch layout's names. Keras's own numbers are checked by the fixtures (InferenceTests).
final class SurroundingLayerTests: XCTestCase {
    private func decode(_ className: String, _ config: JSONValue) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: KerasConfig(object: config.objectValue ?? JSONObject(),
                                                                 pointer: "/config", kerasMajorVersion: 3))
    }

    func testWindowsFollowTensorFlowsPaddingArithmetic() {
        // same, even kernel, stride 2 over 9 steps: 5 outputs, 3 padded steps, 1 of them before.
        let same = Window1D(size: 4, stride: 2, padding: .same)
        XCTAssertEqual(same.outputLength(9), 5)
        XCTAssertEqual(same.padBefore(9), 1)
        let causal = Window1D(size: 2, stride: 1, dilation: 2, padding: .causal)
        XCTAssertEqual(causal.outputLength(9), 9)
        XCTAssertEqual(causal.padBefore(9), 2)
        let valid = Window1D(size: 3, stride: 2, padding: .valid)
        XCTAssertEqual(valid.outputLength(9), 4)
        XCTAssertEqual(valid.outputLength(2), 0)
        XCTAssertEqual(Window1D(size: 3, stride: 2, padding: .causal).outputLength(9), 5)
    }

    func testInvalidConfigsAreRefusedWithTheirPlace() {
        let cases: [(String, JSONValue, String)] = [
            ("Conv1D", ["filters": 4, "kernel_size": [3], "padding": "full"], "/config/padding"),
            ("Conv1D", ["filters": 4, "kernel_size": [3, 3]], "/config/kernel_size"),
            ("Conv1D", ["filters": 4, "kernel_size": 0], "/config/kernel_size"),
            ("Conv1D", ["filters": 4, "kernel_size": 3, "groups": 3], "/config/groups"),
            ("Conv1D", ["filters": 4, "kernel_size": 3, "data_format": "channels_middle"], "/config/data_format"),
            ("MaxPooling1D", ["pool_size": 2, "padding": "causal"], "/config/padding"),
            ("AveragePooling1D", ["pool_size": 2, "strides": -1], "/config/strides"),
            ("BatchNormalization", ["axis": [1, 2]], "/config/axis"),
            ("BatchNormalization", ["epsilon": 0], "/config/epsilon"),
            ("BatchNormalization", ["renorm": true], "/config/renorm"),
            ("LayerNormalization", ["axis": ["x"]], "/config/axis/0"),
            ("LayerNormalization", ["epsilon": .double(-1e-3)], "/config/epsilon"),
        ]
        for (className, config, location) in cases {
            XCTAssertThrowsError(try decode(className, config), "\(className) \(config)") { error in
                XCTAssertEqual((error as? RNNKitError)?.location, location, "\(error)")
            }
        }
    }

    func testShapesAndWeightsFollowTheConfig() throws {
        let conv = try decode("Conv1D", ["filters": 6, "kernel_size": [3], "strides": [2], "padding": "same",
                                         "groups": 2])
        XCTAssertEqual(try conv.outputShapes(for: [[nil, 9, 4]]), [[nil, 5, 6]])
        XCTAssertEqual(try conv.outputShapes(for: [[nil, nil, 4]]), [[nil, nil, 6]])
        XCTAssertEqual(try conv.weightSpecs(for: [[nil, 9, 4]]).map(\.shape), [[3, 2, 6], [6]])
        XCTAssertThrowsError(try conv.outputShapes(for: [[nil, 9, 5]]), "channels not divisible by groups")
        let valid = try decode("Conv1D", ["filters": 2, "kernel_size": 5])
        XCTAssertThrowsError(try valid.outputShapes(for: [[nil, 4, 3]]), "a valid window longer than the input")

        let batchNorm = try decode("BatchNormalization", ["axis": 1, "center": false])
        let specs = try batchNorm.weightSpecs(for: [[nil, 5, 4]])
        XCTAssertEqual(specs.map(\.name), ["gamma", "moving_mean", "moving_variance"])
        XCTAssertEqual(specs.map(\.shape), [[5], [5], [5]])
        XCTAssertEqual(specs.map(\.keras3Path), ["vars/0", "vars/1", "vars/2"])
        XCTAssertEqual(specs.map(\.trainable), [true, false, false])

        // Keras 3's rms_scaling keeps gamma even without scale, and never has beta.
        let rms = try decode("LayerNormalization", ["scale": false, "rms_scaling": true])
        XCTAssertEqual(try rms.weightSpecs(for: [[nil, 5, 4]]).map(\.name), ["gamma"])
        let twoAxes = try decode("LayerNormalization", ["axis": [1, 2]])
        XCTAssertEqual(try twoAxes.weightSpecs(for: [[nil, 5, 4]]).map(\.shape), [[5, 4], [5, 4]])
        XCTAssertThrowsError(try decode("LayerNormalization", ["axis": 1]).outputShapes(for: [[nil, 5, 4]]),
                             "a leading axis alone is not supported")
    }

    func testBatchNormalizationCountsItsMovingStatisticsAsNonTrainable() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("lstm_batchnorm/keras3.keras"))
        let summary = ModelSummary(model)
        XCTAssertEqual(summary.nonTrainableParams, 10)
        XCTAssertEqual(summary.totalParams - summary.trainableParams, 10)
    }

    /// Grouped, dilated, causal and strided convolutions against the textbook sum.
    func testConvolutionMatchesTheDirectSum() throws {
        var generator = SeededGenerator(seed: 7)
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        for (padding, stride, dilation, groups) in [("causal", 1, 2, 1), ("same", 2, 1, 2), ("valid", 3, 1, 1),
                                                    ("same", 1, 3, 3)] {
            let kind = try decode("Conv1D", ["filters": 6, "kernel_size": 3, "padding": .string(padding),
                                             "strides": .int(stride), "dilation_rate": .int(dilation),
                                             "groups": .int(groups)])
            guard case .conv1D(let conv) = kind else { return XCTFail("not a Conv1D") }
            let (batch, steps, channels) = (2, 11, 6)
            let input = Tensor(shape: [batch, steps, channels], scalars: values(batch * steps * channels))
            let kernel = Tensor(shape: [3, channels / groups, 6], scalars: values(3 * channels / groups * 6))
            let bias = Tensor(shape: [6], scalars: values(6))
            let output = try conv.forward(LayerValue(input), weights: ["kernel": kernel, "bias": bias]).tensor
            let length = conv.window.outputLength(steps), before = conv.window.padBefore(steps)
            XCTAssertEqual(output.shape, [batch, length, 6])
            let perGroup = channels / groups, filtersPerGroup = 6 / groups
            var expected: [Float] = []
            for b in 0..<batch {
                for t in 0..<length {
                    for f in 0..<6 {
                        var sum = bias.scalars[f]
                        let group = f / filtersPerGroup
                        for tap in 0..<3 {
                            let step = t * stride - before + tap * dilation
                            guard step >= 0, step < steps else { continue }
                            for c in 0..<perGroup {
                                sum += input.scalars[(b * steps + step) * channels + group * perGroup + c]
                                    * kernel.scalars[(tap * perGroup + c) * 6 + f]
                            }
                        }
                        expected.append(sum)
                    }
                }
            }
            assertClose(output.scalars, expected, within: 1e-5, "\(padding) stride \(stride) dilation \(dilation) groups \(groups)")
        }
    }

    func testLayerNormalizationWithRMSScalingDoesNotCentre() throws {
        guard case .layerNormalization(let norm) = try decode("LayerNormalization", ["rms_scaling": true, "epsilon": .double(0.01)])
        else { return XCTFail("not a LayerNormalization") }
        let input = Tensor(shape: [1, 1, 3], scalars: [1, 2, 6])
        let output = try norm.forward(LayerValue(input), weights: ["gamma": Tensor(shape: [3], scalars: [1, 1, 2])])
        let variance: Float = (4 + 1 + 9) / 3  // about the mean 3
        let inv = 1 / (variance + 0.01).squareRoot()
        assertClose(output.tensor.scalars, [1 * inv, 2 * inv, 6 * inv * 2], within: 1e-6, "rms_scaling")
    }

    func testPyTorchLayoutNamesTheModulesParameters() throws {
        let conv = try decode("Conv1D", ["filters": 2, "kernel_size": 3, "groups": 1])
        let kernel = Tensor(shape: [3, 4, 2], scalars: (0..<24).map(Float.init))
        let exported = try LayoutConversion.export(["kernel": kernel, "bias": Tensor(shape: [2], scalars: [1, 2])],
                                                   of: conv, to: .pytorch)
        XCTAssertEqual(Set(exported.keys), ["weight", "bias"])
        let weight = try XCTUnwrap(exported["weight"])
        XCTAssertEqual(weight.shape, [2, 4, 3])  // torch.nn.Conv1d: [out, in, k]
        for k in 0..<3 {
            for c in 0..<4 {
                for f in 0..<2 {
                    XCTAssertEqual(weight.scalars[(f * 4 + c) * 3 + k], kernel.scalars[(k * 4 + c) * 2 + f])
                }
            }
        }
        XCTAssertEqual(try LayoutConversion.importWeights(exported, of: conv, from: .pytorch)["kernel"], kernel)

        XCTAssertEqual(try LayoutConversion.tensorNames(of: try decode("BatchNormalization", [:]), in: .pytorch),
                       ["weight", "bias", "running_mean", "running_var"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try decode("BatchNormalization", [:]), in: .split),
                       ["gamma", "beta", "moving_mean", "moving_variance"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try decode("LayerNormalization", [:]), in: .pytorch),
                       ["weight", "bias"])
    }

    /// Keras 3 drops the mask at Conv1D and the poolings (tf_keras refuses a masked input there);
    /// the normalizations pass it on.
    func testMasksStopAtConvolutionsAndPassNormalizations() throws {
        let input = LayerValue(Tensor(shape: [1, 4, 2], scalars: (0..<8).map(Float.init)), mask: [true, true, false, true])
        let conv = try decode("Conv1D", ["filters": 1, "kernel_size": 1])
        let kernel = Tensor(shape: [1, 2, 1], scalars: [1, 1]), bias = Tensor(shape: [1], scalars: [0])
        XCTAssertNil(try conv.forward([input], weights: ["kernel": kernel, "bias": bias], carry: nil).outputs[0].mask)
        XCTAssertNil(try decode("MaxPooling1D", [:]).forward([input], weights: [:], carry: nil).outputs[0].mask)
        let statistics = ["moving_mean": Tensor(zeros: [2]), "moving_variance": Tensor(shape: [2], scalars: [1, 1])]
        XCTAssertEqual(try decode("BatchNormalization", ["center": false, "scale": false])
            .forward([input], weights: statistics, carry: nil).outputs[0].mask, input.mask)
        XCTAssertEqual(try decode("LayerNormalization", ["center": false, "scale": false])
            .forward([input], weights: [:], carry: nil).outputs[0].mask, input.mask)
    }

    func testStreamingRefusesConvolutionsAndPooling() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("conv1d_stack/keras3.keras"))
        XCTAssertThrowsError(try PredictionStream(predictor)) { error in
            XCTAssertTrue("\(error)".contains("needs the whole sequence"), "\(error)")
        }
        XCTAssertNoThrow(try PredictionStream(try Predictor(contentsOf: FixtureFiles.path("gru_layernorm/keras3.keras"))))
        // batchnorm_options normalizes along time (axis=1); lstm_batchnorm along the features.
        XCTAssertThrowsError(try PredictionStream(try Predictor(contentsOf: FixtureFiles.path("batchnorm_options/tfkeras.h5")))) {
            XCTAssertTrue("\($0)".contains("BatchNormalization along the time axis"), "\($0)")
        }
        let stream = try PredictionStream(try Predictor(contentsOf: FixtureFiles.path("lstm_batchnorm/tfkeras.h5")))
        let inputs = try FixtureFiles.inputs(of: "lstm_batchnorm")[0]
        var last: [Tensor] = []
        for step in 0..<inputs.shape[1] {
            last = try stream.feed([inputs.timeStep(step)])
        }
        assertClose(last, try FixtureFiles.kerasOutputs(of: "lstm_batchnorm", writer: "tfkeras"), "streamed step by step")
    }
}

/// Activation layers, element-wise merges, Reshape and Permute.
final class ActivationMergeReshapeTests: XCTestCase {
    private func decode(_ className: String, _ config: JSONValue, major: Int = 3) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: KerasConfig(object: config.objectValue ?? JSONObject(),
                                                                 pointer: "/config", kerasMajorVersion: major))
    }

    func testInvalidConfigsAreRefusedWithTheirPlace() {
        let cases: [(String, JSONValue, String)] = [
            ("ReLU", ["threshold": .double(-0.5)], "/config/threshold"),
            ("ReLU", ["max_value": .double(-1)], "/config/max_value"),
            ("ReLU", ["negative_slope": "x"], "/config/negative_slope"),
            ("Softmax", ["axis": [1, 2]], "/config/axis"),
            ("Reshape", ["target_shape": [-1, -1]], "/config/target_shape"),
            ("Reshape", ["target_shape": [0, 3]], "/config/target_shape"),
            ("Reshape", [:], "/config/target_shape"),
            ("Permute", ["dims": [1, 1]], "/config/dims"),
            ("Permute", ["dims": [0, 1]], "/config/dims"),
            ("ZeroPadding1D", ["padding": [1, 2, 3]], "/config/padding"),
            ("ZeroPadding1D", ["padding": -1], "/config/padding"),
            ("Cropping1D", ["cropping": ["a"]], "/config/cropping/0"),
            ("UpSampling1D", ["size": 0], "/config/size"),
        ]
        for (className, config, location) in cases {
            XCTAssertThrowsError(try decode(className, config), "\(className) \(config)") { error in
                XCTAssertEqual((error as? RNNKitError)?.location, location, "\(error)")
            }
        }
    }

    func testLeakyReLUReadsBothKerasSpellings() throws {
        XCTAssertEqual(try decode("LeakyReLU", ["alpha": .double(0.1)], major: 2), .leakyReLU(LeakyReLULayer(negativeSlope: 0.1)))
        XCTAssertEqual(try decode("LeakyReLU", ["negative_slope": .double(0.2)]), .leakyReLU(LeakyReLULayer(negativeSlope: 0.2)))
        XCTAssertEqual(try decode("LeakyReLU", [:]), .leakyReLU(LeakyReLULayer(negativeSlope: 0.3)))
    }

    func testReLUOptionsFollowKeras() {
        let layer = ReLULayer(maxValue: 1.5, negativeSlope: 0.1, threshold: 0.5)
        // below the threshold: slope · (x − threshold); between: x; above max_value: max_value.
        XCTAssertEqual(layer(-1), -0.15, accuracy: 1e-7)
        XCTAssertEqual(layer(0.5), 0)
        XCTAssertEqual(layer(1), 1)
        XCTAssertEqual(layer(3), 1.5)
    }

    func testShapes() throws {
        XCTAssertEqual(try decode("Reshape", ["target_shape": [-1, 8]]).outputShapes(for: [[nil, 6, 4]]), [[nil, 3, 8]])
        XCTAssertEqual(try decode("Reshape", ["target_shape": [-1, 8]]).outputShapes(for: [[nil, nil, 4]]), [[nil, nil, 8]])
        XCTAssertThrowsError(try decode("Reshape", ["target_shape": [5, -1]]).outputShapes(for: [[nil, 6, 4]]))
        XCTAssertEqual(try decode("Permute", ["dims": [2, 1]]).outputShapes(for: [[nil, 6, 4]]), [[nil, 4, 6]])
        XCTAssertThrowsError(try decode("Permute", ["dims": [2, 1]]).outputShapes(for: [[nil, 6, 4, 2]]))
        XCTAssertThrowsError(try decode("Subtract", [:]).outputShapes(for: [[nil, 4], [nil, 4], [nil, 4]]))
        XCTAssertThrowsError(try decode("Maximum", [:]).outputShapes(for: [[nil, 4], [nil, 5]]))
        XCTAssertEqual(try decode("ZeroPadding1D", ["padding": [1, 2]]).outputShapes(for: [[nil, 6, 3]]), [[nil, 9, 3]])
        XCTAssertEqual(try decode("Cropping1D", ["cropping": 2]).outputShapes(for: [[nil, nil, 3]]), [[nil, nil, 3]])
        XCTAssertThrowsError(try decode("Cropping1D", ["cropping": 3]).outputShapes(for: [[nil, 6, 3]]), "nothing left")
        XCTAssertEqual(try decode("UpSampling1D", ["size": 3]).outputShapes(for: [[nil, 6, 3]]), [[nil, 18, 3]])
    }

    func testPermuteMovesEveryValue() {
        let tensor = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        let permuted = Permute(dims: [2, 1]).forward(LayerValue(tensor)).tensor
        XCTAssertEqual(permuted.shape, [2, 4, 3])
        for b in 0..<2 { for t in 0..<3 { for f in 0..<4 {
            XCTAssertEqual(permuted.scalars[(b * 4 + f) * 3 + t], tensor.scalars[(b * 3 + t) * 4 + f])
        } } }
    }

    /// A [B, T] input of scores with its mask: masked positions get (almost) no weight.
    func testSoftmaxAppliesAMaskOfItsOwnShape() throws {
        let input = LayerValue(Tensor(shape: [1, 3], scalars: [1, 2, 3]), mask: [true, true, false])
        let output = try SoftmaxLayer(axis: -1).forward(input)
        let e1 = Foundation.exp(Float(-1))
        assertClose(output.tensor.scalars, [e1 / (1 + e1), 1 / (1 + e1), 0], within: 1e-7, "masked softmax")
        XCTAssertEqual(output.mask, [true, true, false])
    }

    func testMergesCombineMasks() {
        let a = LayerValue(Tensor(shape: [1, 2, 1], scalars: [1, 4]), mask: [true, false])
        let b = LayerValue(Tensor(shape: [1, 2, 1], scalars: [3, 2]), mask: [true, true])
        XCTAssertEqual(ElementwiseMerge.subtract.forward([a, b]).tensor.scalars, [-2, 2])
        XCTAssertEqual(ElementwiseMerge.average.forward([a, b]).tensor.scalars, [2, 3])
        XCTAssertEqual(ElementwiseMerge.minimum.forward([a, b]).tensor.scalars, [1, 2])
        XCTAssertEqual(ElementwiseMerge.multiply.forward([a, b]).mask, [true, false])
    }
}

/// Layers that are Python code (Lambda) or custom registered classes are refused in one line that
/// names the layer (the problem's location), its class and what to do.
final class PythonLayerRefusalTests: XCTestCase {
    func testLambdaAndCustomClassesAreRefusedWithWhatToDo() throws {
        let config: JSONValue = ["class_name": "Sequential", "config": ["layers": [
            ["class_name": "InputLayer", "config": ["batch_shape": [.null, 4, 5], "name": "input"]],
            ["module": "keras.layers", "class_name": "Lambda", "registered_name": .null,
             "config": ["name": "scale_by_two", "function": ["class_name": "__lambda__", "config": ["code": "4wEAAA"]]]],
            ["module": .null, "class_name": "Gated", "registered_name": "my_package>Gated",
             "config": ["name": "gate", "units": 3]],
            ["class_name": "my_package>Attention", "config": ["name": "attention"]],
            ["class_name": "Conv3DTranspose", "config": ["name": "later"]],
        ]]]
        let model = try KerasModelConfig.parse(config, kerasVersion: "3.15.1", source: "test.json")
        let problems = model.errors.map { "\($0.location): \($0.message)" }
        let advice = "replace it by built-in layers (Activation, Reshape, Permute, Add, Multiply...) and save the model again"
        XCTAssertEqual(problems, [
            "scale_by_two (/config/layers/1/class_name): unsupported layer class 'Lambda': it runs Python code saved "
                + "with the model, which RNNKit cannot run; " + advice,
            "gate (/config/layers/2/class_name): unsupported layer class 'Gated' (registered as 'my_package>Gated'): "
                + "a custom class that only its own Python code defines; " + advice,
            "attention (/config/layers/3/class_name): unsupported layer class 'my_package>Attention': a custom class "
                + "that only its own Python code defines; " + advice,
            "later (/config/layers/4/class_name): unsupported layer class 'Conv3DTranspose'",
        ])
    }
}
