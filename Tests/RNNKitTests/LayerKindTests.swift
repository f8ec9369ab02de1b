import XCTest
@testable import RNNKit

/// The closed set of layer kinds: every Keras class RNNKit lists decodes into the kind of that
/// name, and the config it writes back decodes into the same kind.
final class LayerKindTests: XCTestCase {
    /// A small config of each class, with some non-default values so that a field dropped by
    /// the writer shows.
    private let configs: [String: JSONValue] = [
        "InputLayer": ["batch_shape": [.null, 4, 5], "dtype": "int32"],
        "SimpleRNN": ["units": 3, "activation": "relu", "return_sequences": true],
        "LSTM": ["units": 2, "unit_forget_bias": false, "recurrent_activation": "hard_sigmoid"],
        "GRU": ["units": 2, "reset_after": true, "go_backwards": true],
        "CuDNNLSTM": ["units": 2, "unit_forget_bias": false, "return_state": true],
        "CuDNNGRU": ["units": 3, "go_backwards": true],
        "RNN": ["return_sequences": true, "cell": ["class_name": "StackedRNNCells", "config": ["cells": [
            ["class_name": "LSTMCell", "config": ["units": 2, "unit_forget_bias": false]],
            ["class_name": "GRUCell", "config": ["units": 3, "reset_after": true, "activation": "relu"]],
        ]]]],
        "Bidirectional": ["merge_mode": "sum", "layer": ["class_name": "GRU", "config": ["units": 2]]],
        "Dense": ["units": 4, "activation": "gelu", "use_bias": false],
        "Embedding": ["input_dim": 10, "output_dim": 3, "mask_zero": true],
        "TimeDistributed": ["layer": ["class_name": "Dense", "config": ["units": 2]]],
        "Masking": ["mask_value": .double(0.5)],
        "Dropout": ["rate": .double(0.25)],
        "SpatialDropout1D": ["rate": .double(0.125)],
        "GaussianNoise": ["stddev": .double(0.5)],
        "Activation": ["activation": "softmax"],
        "RepeatVector": ["n": 3],
        "Flatten": [:],
        "Concatenate": ["axis": 1],
        "Add": [:],
        "Subtract": [:],
        "Multiply": [:],
        "Average": [:],
        "Maximum": [:],
        "Minimum": [:],
        "ReLU": ["max_value": .double(6), "negative_slope": .double(0.1), "threshold": .double(0.5)],
        "LeakyReLU": ["negative_slope": .double(0.2)],
        "ELU": ["alpha": .double(0.5)],
        "Softmax": ["axis": 1],
        "Reshape": ["target_shape": [-1, 2]],
        "Permute": ["dims": [2, 1]],
        "ZeroPadding1D": ["padding": [1, 2], "data_format": "channels_first"],
        "Cropping1D": ["cropping": 2],
        "UpSampling1D": ["size": 3],
        "GlobalAveragePooling1D": ["keepdims": true],
        "GlobalMaxPooling1D": ["data_format": "channels_first"],
        "Conv1D": ["filters": 4, "kernel_size": [3], "strides": [2], "padding": "causal", "dilation_rate": 1,
                   "groups": 2, "activation": "relu", "use_bias": false],
        "MaxPooling1D": ["pool_size": [3], "strides": .null, "padding": "same"],
        "AveragePooling1D": ["pool_size": 2, "strides": [1]],
        "BatchNormalization": ["axis": [1], "epsilon": .double(0.01), "center": false, "scale": true],
        "LayerNormalization": ["axis": [-2, -1], "epsilon": .double(1e-5), "scale": false, "rms_scaling": true],
        // The call arguments (use_causal_mask...) are not config keys for Keras: the nodes carry them.
        "Attention": ["use_scale": true, "score_mode": "concat", "dropout": .double(0.25)],
        "AdditiveAttention": ["use_scale": false],
        "UnitNormalization": ["axis": [1, 2]],
        "PReLU": ["shared_axes": [1]],
        "Dot": ["axes": [2, 1], "normalize": true],
        "Conv2D": ["filters": 6, "kernel_size": [3, 2], "strides": [2, 1], "padding": "same", "groups": 2,
                   "dilation_rate": 1, "data_format": "channels_first", "activation": "relu", "use_bias": false],
        "MaxPooling2D": ["pool_size": [2, 3], "strides": .null, "padding": "same"],
        "AveragePooling2D": ["pool_size": 2, "data_format": "channels_first"],
        "GlobalAveragePooling2D": ["keepdims": true],
        "GlobalMaxPooling2D": ["data_format": "channels_first"],
        "ZeroPadding2D": ["padding": [[1, 2], [0, 3]]],
        "Cropping2D": ["cropping": 2, "data_format": "channels_first"],
        "DepthwiseConv1D": ["kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2],
        "DepthwiseConv2D": ["kernel_size": [3, 2], "dilation_rate": [1, 2], "depth_multiplier": 3, "activation": "tanh",
                            "use_bias": false, "data_format": "channels_first"],
        "SeparableConv1D": ["filters": 4, "kernel_size": [3], "depth_multiplier": 1],
        "SeparableConv2D": ["filters": 5, "kernel_size": 2, "strides": [2, 1], "padding": "same", "activation": "relu"],
        "Operation": ["operation": "GetItem", "arguments": ["input"],
                      "key": [["start": .null, "stop": .null, "step": .null], ["start": 1, "stop": .null, "step": 2], .null, "...", -1]],
        "MultiHeadAttention": ["num_heads": 2, "key_dim": 3, "value_dim": 4, "use_bias": false, "output_shape": [5],
                               "attention_axes": [1], "dropout": .double(0.1)],
        "ConvLSTM1D": ["filters": 3, "kernel_size": 3, "dilation_rate": 2, "return_state": true, "go_backwards": true,
                       "recurrent_activation": "hard_sigmoid", "unit_forget_bias": false],
        "ConvLSTM2D": ["filters": 2, "kernel_size": [3, 2], "strides": [2, 1], "padding": "same", "activation": "relu",
                       "use_bias": false, "return_sequences": true, "dropout": .double(0.2)],
    ]

    private func decode(_ className: String, _ config: JSONValue, major: Int = 3) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: KerasConfig(object: config.objectValue ?? JSONObject(),
                                                                 pointer: "/config", kerasMajorVersion: major))
    }

    func testEveryKnownClassDecodesAndRoundTripsItsConfig() throws {
        XCTAssertEqual(Set(configs.keys), LayerKind.kerasClassNames, "a config for every class")
        for className in LayerKind.kerasClassNames.sorted() {
            let kind = try decode(className, configs[className]!)
            XCTAssertEqual(kind.className, className)
            XCTAssertEqual(try decode(kind.className, .object(kind.kerasConfig())), kind, className)
        }
    }

    /// channels_first pools the last axis; Keras would lay a mask (which runs along axis 1)
    /// along it, so a masked input is refused rather than guessed at.
    func testChannelsFirstGlobalPooling1DPoolsTheLastAxisAndRefusesAMask() throws {
        let text = """
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "InputLayer", "config": {"batch_shape": [null, 3, 2], "name": "x"}},
          {"class_name": "Masking", "config": {"name": "masking", "mask_value": 0.0}},
          {"class_name": "GlobalAveragePooling1D", "config": {"name": "pool", "data_format": "channels_first"}}]}}
        """
        var model = try KerasModelConfig.parse(JSONParser.parse(text), kerasVersion: "3.15.1", source: "m.json")
        XCTAssertEqual(model.errors, [])
        let input = Tensor(shape: [1, 3, 2], scalars: [1, 3, 0, 0, 5, 9])
        XCTAssertThrowsError(try Predictor(model).predict([input])) { error in
            XCTAssertTrue("\(error)".contains("channels_first' of a masked input is not supported"), "\(error)")
        }
        model.layers.remove(at: 1)
        model.layers[1].nodes = [LayerNode(inputs: [TensorRef(layer: "x")])]
        XCTAssertEqual(try Predictor(model).predict([input])[0].scalars, [2, 0, 7])
    }

    func testUnknownClassIsRefusedByName() {
        XCTAssertThrowsError(try decode("Conv3DTranspose", [:])) { error in
            XCTAssertEqual((error as? RNNKitError)?.message, "unsupported layer class 'Conv3DTranspose'")
        }
    }

    /// A value of the wrong JSON type is an error located at its key, never a default.
    func testValuesOfTheWrongTypeAreRefusedWithTheirPlace() {
        let cases: [(String, JSONValue, String)] = [
            ("Dense", ["units": .double(2.5)], "/config/units"),
            ("Dense", ["units": "4"], "/config/units"),
            ("Dense", ["units": 4, "activation": ["relu"]], "/config/activation"),
            ("LSTM", ["units": 2, "return_sequences": "yes"], "/config/return_sequences"),
            ("InputLayer", ["batch_shape": [.null, 4], "dtype": ["config": 3]], "/config/dtype"),
            ("Bidirectional", ["layer": "LSTM"], "/config/layer"),
        ]
        for (className, config, location) in cases {
            XCTAssertThrowsError(try decode(className, config), "\(className) \(config)") { error in
                XCTAssertEqual((error as? RNNKitError)?.location?.hasPrefix(location), true, "\(error)")
            }
        }
    }

    func testModelConfigRefusesNamesAndFlagsOfTheWrongType() throws {
        let config: JSONValue = ["class_name": "Sequential", "config": ["layers": [
            ["class_name": "InputLayer", "config": ["batch_shape": [.null, 4, 5], "name": ["x"]]],
            ["class_name": "SimpleRNN", "config": ["units": 3, "name": "rnn", "trainable": "no"]],
        ]]]
        let model = try KerasModelConfig.parse(config, kerasVersion: "3.15.1", source: "test.json")
        XCTAssertEqual(model.errors.map(\.location), ["/config/layers/0/config/name", "/config/layers/1/config/trainable"])
        XCTAssertEqual(model.errors.map(\.message), ["expected a string, got a list", "expected a boolean, got a string"])
    }

    func testHardSigmoidKeepsItsKerasVersion() throws {
        let config: JSONValue = ["units": 1, "recurrent_activation": "hard_sigmoid"]
        XCTAssertEqual(try decode("GRU", config, major: 2).activations.last, .hardSigmoid(keras2: true))
        XCTAssertEqual(try decode("GRU", config, major: 3).activations.last, .hardSigmoid(keras2: false))
    }
}
