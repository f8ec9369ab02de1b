import Foundation
import XCTest
@testable import RNNKit

final class RNNKitJSONTests: XCTestCase {
    /// The SimpleRNN's weights in the keras layout, which the layout tests replace.
    private static let simpleRNNKerasWeights = #"""
             "layout": "keras",
             "weights": {
               "kernel": {"shape": [5, 3], "data": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9],
                                                    [-0.1, -0.2, -0.3], [1e-3, 2.5e-2, -7]]},
               "recurrent_kernel": {"shape": [3, 3], "data": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
               "bias": {"shape": [3], "data": [0.01, 0.02, 0.03]}
        """#

    /// SimpleRNN(3) on (4, 5), then Dense(1): 27 + 4 parameters, written by hand.
    private let handWritten = #"""
    {
      "format": "rnnkit", "format_version": 1, "keras_version": "3.15.1", "name": "sequential",
      "inputs": ["input_layer"], "outputs": ["dense"],
      "layers": [
        {"name": "input_layer", "class_name": "InputLayer",
         "config": {"batch_shape": [null, 4, 5], "dtype": "float32"}},
        {"name": "simple_rnn", "class_name": "SimpleRNN", "config": {"units": 3, "activation": "tanh"},
    \#(RNNKitJSONTests.simpleRNNKerasWeights)
         }},
        {"name": "dense", "class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"},
         "weights": {
           "kernel": {"shape": [3, 1], "data": [[0.5], [-0.5], [0.25]]},
           "bias": {"shape": [1], "data": [0.125]}
         }}
      ]
    }
    """#

    private func read(_ text: String) throws -> Model {
        try RNNKitJSON.read(try JSONParser.parse(text), source: "test.json")
    }

    /// The hand-written model with `old` replaced by `new` (which must occur exactly once).
    private func variant(_ old: String, _ new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertEqual(handWritten.components(separatedBy: old).count, 2, "'\(old)' must occur once", file: file, line: line)
        return handWritten.replacingOccurrences(of: old, with: new)
    }

    private func assertThrows(_ text: String, at location: String, _ message: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try read(text), file: file, line: line) { error in
            guard let error = error as? RNNKitError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, .invalidModel, file: file, line: line)
            XCTAssertEqual(error.location, location, file: file, line: line)
            XCTAssertEqual(error.file, "test.json", file: file, line: line)
            XCTAssertTrue(error.message.contains(message), error.message, file: file, line: line)
        }
    }

    private func assertProblem(_ text: String, at location: String, _ message: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try read(text)
        XCTAssertEqual(model.errors.map(\.location), [location], "\(model.problems)", file: file, line: line)
        XCTAssertTrue(model.errors.first?.message.contains(message) == true, "\(model.problems)", file: file, line: line)
    }

    private func bits(_ model: Model) -> [String: [UInt32]] {
        var result: [String: [UInt32]] = [:]
        for layer in model.layers {
            for (name, tensor) in layer.weights {
                result["\(layer.name).\(name)"] = tensor.scalars.map(\.bitPattern)
            }
        }
        return result
    }

    // MARK: - Reading

    func testReadsAHandWrittenModel() throws {
        let model = try read(handWritten)
        XCTAssertEqual(model.problems, [])
        XCTAssertEqual(model.name, "sequential")
        XCTAssertTrue(model.isSequential)
        XCTAssertEqual(model.kerasVersion, "3.15.1")
        XCTAssertEqual(model.source, "test.json")
        XCTAssertEqual(model.layers.map(\.name), ["input_layer", "simple_rnn", "dense"])
        XCTAssertEqual(model.layers.map(\.className), ["InputLayer", "SimpleRNN", "Dense"])
        XCTAssertEqual(model.inputs, [TensorRef(layer: "input_layer")])
        XCTAssertEqual(model.outputs, [TensorRef(layer: "dense")])
        XCTAssertEqual(model.layers[1].nodes, [LayerNode(inputs: [TensorRef(layer: "input_layer")])])
        XCTAssertEqual(model.layers[2].nodes, [LayerNode(inputs: [TensorRef(layer: "simple_rnn")])])
        XCTAssertEqual(model.layers[0].kind, .input(InputLayer(batchShape: [nil, 4, 5])))
        guard case .recurrent(let rnn)? = model.layers[1].kind, case .dense(let dense)? = model.layers[2].kind else {
            return XCTFail("expected SimpleRNN and Dense, got \(model.layers.map(\.className))")
        }
        XCTAssertEqual(rnn.cell, .simpleRNN)
        XCTAssertEqual(rnn.options.units, 3)
        XCTAssertEqual(dense.activation, .sigmoid)

        let rnnWeights = model.layers[1].weights
        XCTAssertEqual(rnnWeights["kernel"]?.shape, [5, 3])
        XCTAssertEqual(rnnWeights["kernel"]?.scalars, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
                                                -0.1, -0.2, -0.3, 1e-3, 2.5e-2, -7])
        XCTAssertEqual(rnnWeights["recurrent_kernel"], Tensor(shape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1]))
        XCTAssertEqual(rnnWeights["bias"], Tensor(shape: [3], scalars: [0.01, 0.02, 0.03]))
        XCTAssertEqual(model.layers[2].weights["kernel"], Tensor(shape: [3, 1], scalars: [0.5, -0.5, 0.25]))
        XCTAssertEqual(model.layers[2].weights["bias"], Tensor(shape: [1], scalars: [0.125]))
        XCTAssertEqual(model.layers.flatMap(\.weights.values).reduce(0) { $0 + $1.count }, 31)
    }

    func testDefaultsMakeAPlainListSequential() throws {
        var text = variant(#""inputs": ["input_layer"], "outputs": ["dense"],"#, "")
        text = text.replacingOccurrences(of: #""keras_version": "3.15.1", "name": "sequential","#, with: "")
        let model = try read(text)
        XCTAssertEqual(model.problems, [])
        XCTAssertTrue(model.isSequential)
        XCTAssertEqual(model.name, "model")
        XCTAssertEqual(model.kerasMajorVersion, 3)
        XCTAssertEqual(model.inputs, [TensorRef(layer: "input_layer")])
        XCTAssertEqual(model.outputs, [TensorRef(layer: "dense")])
    }

    func testExplicitInputsAndOutputIndices() throws {
        let text = #"""
        {"format": "rnnkit", "format_version": 1,
         "layers": [
           {"name": "x", "class_name": "InputLayer", "config": {"batch_shape": [null, 2, 1]}},
           {"name": "lstm", "class_name": "LSTM", "config": {"units": 1, "return_state": true},
            "weights": {"kernel": {"shape": [1, 4], "data": [[1, 2, 3, 4]]},
                        "recurrent_kernel": {"shape": [1, 4], "data": [[5, 6, 7, 8]]},
                        "bias": {"shape": [4], "data": [0, 1, 0, 0]}}},
           {"name": "h", "class_name": "Dense", "config": {"units": 1, "use_bias": false}, "inputs": ["lstm:1"],
            "layout": "pytorch", "weights": {"weight": {"shape": [1, 1], "data": [[2]]}}}
         ],
         "outputs": ["h", "lstm:2"]}
        """#
        let model = try read(text)
        XCTAssertEqual(model.problems, [])
        XCTAssertFalse(model.isSequential)
        XCTAssertEqual(model.layers[2].nodes, [LayerNode(inputs: [TensorRef(layer: "lstm", index: 1)])])
        XCTAssertEqual(model.outputs, [TensorRef(layer: "h"), TensorRef(layer: "lstm", index: 2)])
        XCTAssertEqual(model.layers[2].weights["kernel"], Tensor(shape: [1, 1], scalars: [2]))
    }

    func testEveryLayoutLoadsTheSameKerasWeights() throws {
        let keras = try read(handWritten)
        // The same model written by hand in the pytorch layout, the bias split in two.
        let pytorch = try read(variant(Self.simpleRNNKerasWeights, #"""
                 "layout": "pytorch",
                 "weights": {
                   "weight_ih_l0": {"shape": [3, 5], "data": [[0.1, 0.4, 0.7, -0.1, 1e-3],
                                                              [0.2, 0.5, 0.8, -0.2, 2.5e-2],
                                                              [0.3, 0.6, 0.9, -0.3, -7]]},
                   "weight_hh_l0": {"shape": [3, 3], "data": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
                   "bias_ih_l0": {"shape": [3], "data": [0.01, 0.02, 0]},
                   "bias_hh_l0": {"shape": [3], "data": [0, 0, 0.03]}
            """#))
        XCTAssertEqual(pytorch.problems, [])
        XCTAssertEqual(bits(pytorch), bits(keras))

        for layout in WeightLayout.allCases {
            let written = try RNNKitJSON.write(keras, layout: layout)
            XCTAssertEqual(written["layers"]?.arrayValue?[1]["layout"], .string(layout.rawValue))
            let text = JSONWriter.string(written, pretty: true)
            let back = try read(text)
            XCTAssertEqual(back.problems, [], "\(layout)")
            XCTAssertEqual(bits(back), bits(keras), "\(layout)")
        }
        let split = try RNNKitJSON.write(keras, layout: .split)
        XCTAssertEqual(split["layers"]?.arrayValue?[1]["weights"]?.objectValue?.keys, ["W", "U", "b"])
    }

    /// A functional model of every recurrent kind, its weights generated, written in every
    /// layout and read back bit for bit.
    func testWriteThenReadRoundTripsEveryLayout() throws {
        let architecture = #"""
        {"format": "rnnkit", "format_version": 1, "keras_version": "3.15.1", "name": "mixed",
         "layers": [
           {"name": "tokens", "class_name": "InputLayer", "config": {"batch_shape": [null, 6], "dtype": "int32"}},
           {"name": "embedding", "class_name": "Embedding", "config": {"input_dim": 10, "output_dim": 3}},
           {"name": "bi", "class_name": "Bidirectional",
            "config": {"merge_mode": "concat",
                       "layer": {"class_name": "LSTM", "config": {"units": 2, "return_sequences": true}}}},
           {"name": "gru", "class_name": "GRU", "config": {"units": 2, "reset_after": true, "return_sequences": true}},
           {"name": "rnn", "class_name": "SimpleRNN", "config": {"units": 2, "activation": "relu", "use_bias": false},
            "inputs": ["gru"]},
           {"name": "head", "class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}, "inputs": ["rnn"]}
         ]}
        """#
        var model = try read(architecture)
        XCTAssertEqual(model.errors.map(\.location), ["/layers/1", "/layers/2", "/layers/3", "/layers/4", "/layers/5"])
        let specs = WeightBinding.specs(of: model, GraphAnalysis(model))
        var counter: UInt32 = 0
        for (index, layerSpecs) in specs {
            for spec in layerSpecs {
                let count = spec.shape.reduce(1, *)
                let scalars = (0..<count).map { _ -> Float in
                    counter += 1
                    // Every value distinct and with many significant bits; some awkward ones.
                    switch counter % 17 {
                    case 0: return -0.0
                    case 5: return .leastNonzeroMagnitude * Float(counter)
                    case 9: return .greatestFiniteMagnitude / Float(counter)
                    default: return Float(bitPattern: 0x3E00_0000 &+ counter &* 2_654_435) * (counter % 2 == 0 ? 1 : -1)
                    }
                }
                model.layers[index].weights[spec.name] = Tensor(shape: spec.shape, scalars: scalars)
            }
        }
        XCTAssertEqual(model.layers.flatMap(\.weights.values).reduce(0) { $0 + $1.count },
                       30 + 2 * 4 * 2 * (3 + 2 + 1) + 3 * 2 * (4 + 2 + 2) + 2 * (2 + 2) + 3)

        for layout in WeightLayout.allCases {
            let text = JSONWriter.string(try RNNKitJSON.write(model, layout: layout))
            let back = try read(text)
            XCTAssertEqual(back.problems, [], "\(layout)")
            XCTAssertEqual(bits(back), bits(model), "\(layout)")
            XCTAssertEqual(back.layers.map(\.name), model.layers.map(\.name))
            XCTAssertEqual(back.layers.map(\.nodes), model.layers.map(\.nodes))
            XCTAssertEqual(back.outputs, model.outputs)
            XCTAssertFalse(back.isSequential)
            // Writing what was read gives the same text.
            XCTAssertEqual(JSONWriter.string(try RNNKitJSON.write(back, layout: layout)), text, "\(layout)")
        }
    }

    func testSequentialRoundTripLeavesInputsImplicit() throws {
        let model = try read(handWritten)
        let written = try RNNKitJSON.write(model, layout: .keras)
        let layers = try XCTUnwrap(written["layers"]?.arrayValue)
        XCTAssertEqual(layers.map { $0["inputs"] }, [nil, nil, nil])
        XCTAssertEqual(layers[0]["class_name"], "InputLayer")
        XCTAssertEqual(layers[0]["weights"], nil)
        XCTAssertEqual(written["inputs"], ["input_layer"])
        XCTAssertEqual(written["outputs"], ["dense"])
        let back = try RNNKitJSON.read(written, source: "")
        XCTAssertTrue(back.isSequential)
        XCTAssertEqual(back.layers[1].kind, model.layers[1].kind)
    }

    func testLoadsThroughModelFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnkit-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try handWritten.write(to: url, atomically: true, encoding: .utf8)
        let model = try Model.load(contentsOf: url.path)
        XCTAssertEqual(model.problems, [])
        XCTAssertEqual(model.layers.count, 3)
        XCTAssertNoThrow(try model.checked())
    }

    // MARK: - Problems located by JSON pointer

    func testWrongShape() throws {
        try assertProblem(variant(#""bias": {"shape": [3], "data": [0.01, 0.02, 0.03]}"#,
                                  #""bias": {"shape": [2], "data": [0.01, 0.02]}"#),
                          at: "/layers/1/weights/bias", "simple_rnn.bias has shape (2,), expected (3,)")
    }

    func testWrongShapeInAnotherLayout() throws {
        let text = variant(#""kernel": {"shape": [3, 1], "data": [[0.5], [-0.5], [0.25]]}"#,
                           #""weight": {"shape": [1, 2], "data": [[0.5, -0.5]]}"#)
            .replacingOccurrences(of: #""units": 1, "activation": "sigmoid"},"#,
                                  with: #""units": 1, "activation": "sigmoid"}, "layout": "pytorch","#)
        try assertProblem(text, at: "/layers/2/weights/weight", "tensor 'weight' has shape (1, 2), expected (1, 3)")
    }

    func testMissingWeight() throws {
        try assertProblem(variant(#"[0.25]]},"#, "[0.25]]}")
                            .replacingOccurrences(of: #""bias": {"shape": [1], "data": [0.125]}"#, with: ""),
                          at: "/layers/2/weights/bias", "missing weight 'bias' of shape (1,)")
    }

    func testMissingWeights() throws {
        let bare = #"""
        {"format": "rnnkit", "format_version": 1, "layers": [
          {"name": "in", "class_name": "InputLayer", "config": {"batch_shape": [null, 3]}},
          {"name": "d", "class_name": "Dense", "config": {"units": 2}, "layout": "pytorch"}]}
        """#
        try assertProblem(bare, at: "/layers/1", "layer 'd' has no 'weights' (expected weight, bias)")
    }

    func testExtraWeight() throws {
        try assertProblem(variant(#""bias": {"shape": [1], "data": [0.125]}"#,
                                  #""bias": {"shape": [1], "data": [0.125]}, "gamma": {"shape": [], "data": 1}"#),
                          at: "/layers/2/weights/gamma", "unexpected weight 'gamma': Dense layer 'dense' has kernel, bias")
    }

    func testBadLayoutName() throws {
        try assertProblem(variant(#""layout": "keras","#, #""layout": "tensorflow","#),
                          at: "/layers/1/layout", "unknown layout 'tensorflow' (expected keras, split, pytorch, onnx)")
    }

    func testLayoutRefusal() throws {
        try assertProblem(variant(#""units": 3, "activation": "tanh"}"#, #""units": 3, "activation": "sigmoid"}"#)
                            .replacingOccurrences(of: #""layout": "keras","#, with: #""layout": "pytorch","#),
                          at: "/layers/1/layout", "torch.nn.RNN offers tanh or relu")
    }

    func testUnknownClass() throws {
        let model = try read(variant(#""class_name": "Dense""#, #""class_name": "ConvLSTM3D""#))
        XCTAssertEqual(model.errors.map(\.location), ["/layers/2/class_name"])
        XCTAssertEqual(model.errors.first?.message, "unsupported layer class 'ConvLSTM3D'")
    }

    func testBadConfigIsLocatedInsideIt() throws {
        try assertProblem(variant(#""units": 3, "activation": "tanh""#, #""units": -3, "activation": "tanh""#),
                          at: "/layers/1/config/units", "'units' must be positive")
    }

    // MARK: - Structural errors thrown with a JSON pointer

    func testDataNotMatchingShape() {
        assertThrows(variant(#""data": [0.01, 0.02, 0.03]"#, #""data": [0.01, 0.02]"#),
                     at: "/layers/1/weights/bias/data", "expected 3 item(s) along axis 0 of shape (3,), found 2")
        assertThrows(variant("[0.4, 0.5, 0.6]", "[0.4, 0.5]"),
                     at: "/layers/1/weights/kernel/data/1", "expected 3 item(s) along axis 1 of shape (5, 3), found 2")
        assertThrows(variant("[0.4, 0.5, 0.6]", "[0.4, [0.5], 0.6]"),
                     at: "/layers/1/weights/kernel/data/1/1", "expected a number, found a list")
        assertThrows(variant(#""data": [[0.5], [-0.5], [0.25]]"#, #""data": [0.5, -0.5, 0.25]"#),
                     at: "/layers/2/weights/kernel/data/0", "expected a list of 1 along axis 1 of shape (3, 1), found a number")
        assertThrows(variant(#""data": [0.125]"#, #""data": 0.125"#),
                     at: "/layers/2/weights/bias/data", "expected a list of 1 along axis 0 of shape (1,), found a number")
    }

    func testNonFiniteNumbersAreRefused() {
        assertThrows(variant("0.01, 0.02, 0.03", "NaN, 0.02, 0.03"),
                     at: "/layers/1/weights/bias/data/0", "nan is not a JSON number")
        assertThrows(variant("0.01, 0.02, 0.03", #""Infinity", 0.02, 0.03"#),
                     at: "/layers/1/weights/bias/data/0", "NaN and Infinity are not JSON numbers")
        assertThrows(variant("0.01, 0.02, 0.03", "0.01, 1e39, 0.03"),
                     at: "/layers/1/weights/bias/data/1", "1e39 is outside the float32 range")
    }

    func testBadShapes() {
        assertThrows(variant(#""shape": [3], "data": [0.01"#, #""shape": [-3], "data": [0.01"#),
                     at: "/layers/1/weights/bias/shape/0", "negative dimension -3")
        assertThrows(variant(#""shape": [3], "data": [0.01"#, #""shape": [99999999999], "data": [0.01"#),
                     at: "/layers/1/weights/bias/shape/0", "above the limit")
        assertThrows(variant(#""shape": [3], "data": [0.01"#, #""shape": "3", "data": [0.01"#),
                     at: "/layers/1/weights/bias/shape", "'shape' is not a list")
        let huge = Array(repeating: "16777216", count: 5).joined(separator: ", ")
        assertThrows(variant(#""shape": [3], "data": [0.01"#, #""shape": [\#(huge)], "data": [0.01"#),
                     at: "/layers/1/weights/bias/shape", "holds too many elements")
        assertThrows(variant(#""bias": {"shape": [3], "data""#, #""bias": {"shape": [3], "values""#),
                     at: "/layers/1/weights/bias/values", "unknown key 'values' (expected data, shape)")
    }

    func testBadInputsReference() {
        let explicit = variant(#""units": 1, "activation": "sigmoid"},"#,
                               #""units": 1, "activation": "sigmoid"}, "inputs": ["simple_rnm"],"#)
        assertThrows(explicit, at: "/layers/2/inputs/0", "reference to unknown layer 'simple_rnm'")
        assertThrows(explicit.replacingOccurrences(of: "simple_rnm", with: "simple_rnn:x"),
                     at: "/layers/2/inputs/0", "bad reference 'simple_rnn:x'")
        assertThrows(explicit.replacingOccurrences(of: #"["simple_rnm"]"#, with: #""simple_rnn""#),
                     at: "/layers/2/inputs", "'inputs' is not a list")
        assertThrows(explicit.replacingOccurrences(of: #"["simple_rnm"]"#, with: "[3]"),
                     at: "/layers/2/inputs/0", "found a number")
        assertThrows(variant(#""outputs": ["dense"]"#, #""outputs": ["dense:01"]"#),
                     at: "/outputs/0", "bad reference 'dense:01'")
        assertThrows(variant(#""class_name": "InputLayer","#, #""class_name": "InputLayer", "inputs": ["dense"],"#),
                     at: "/layers/0/inputs", "an InputLayer takes no 'inputs'")
    }

    func testOtherStructuralErrors() {
        assertThrows(variant(#""format_version": 1"#, #""format_version": 2"#),
                     at: "/format_version", "unsupported format_version 2")
        assertThrows(variant(#""layout": "keras","#, #""layuot": "keras","#),
                     at: "/layers/1/layuot", "unknown key 'layuot'")
        assertThrows(variant(#""name": "dense""#, #""name": "simple_rnn""#),
                     at: "/layers/2/name", "duplicate layer name 'simple_rnn'")
        assertThrows(variant(#""name": "dense""#, #""name": "dense:0""#),
                     at: "/layers/2/name", "without ':'")
        assertThrows(variant(#""config": {"units": 1, "activation": "sigmoid"}"#, #""config": []"#),
                     at: "/layers/2/config", "'config' is not an object")
        assertThrows(#"{"format": "rnnkit", "format_version": 1, "layers": []}"#, at: "/layers", "'layers' is empty")
        assertThrows(#"{"format": "rnnkit", "format_version": 1, "layers": [{"name": "d", "class_name": "Dense", "config": {"units": 1}}]}"#,
                     at: "/layers/0", "the first layer has no 'inputs'")
        assertThrows(#"["rnnkit"]"#, at: "", "an RNNKit model is a JSON object")
        XCTAssertTrue(RNNKitJSON.isRNNKitModel(["format": "rnnkit"]))
        XCTAssertFalse(RNNKitJSON.isRNNKitModel(["class_name": "Sequential"]))
    }

    // MARK: - Writing

    func testWriteRefusesWhatJSONCannotHold() throws {
        var model = try read(handWritten)
        model.layers[2].weights["bias"] = Tensor(shape: [1], scalars: [.nan])
        XCTAssertThrowsError(try RNNKitJSON.write(model, layout: .keras)) { error in
            XCTAssertEqual((error as? RNNKitError)?.message, "dense.bias holds NaN at flat index 0, which JSON cannot hold")
        }
        model = try read(handWritten.replacingOccurrences(of: #""activation": "tanh""#, with: #""activation": "elu""#))
        XCTAssertThrowsError(try RNNKitJSON.write(model, layout: .pytorch)) { error in
            XCTAssertTrue((error as? RNNKitError)?.message.hasPrefix("layer 'simple_rnn': the pytorch layout cannot express") == true)
        }
    }

    func testWrittenFloatsAreShortestText() throws {
        var model = try read(handWritten)
        model.layers[2].weights["bias"] = Tensor(shape: [1], scalars: [0.1])
        let written = try RNNKitJSON.write(model, layout: .keras)
        XCTAssertEqual(written["layers"]?.arrayValue?[2]["weights"]?["bias"], ["shape": [1], "data": [.number("0.1")]])
        XCTAssertEqual(try RNNKitJSON.tensorJSON(Tensor(shape: [], scalars: [-0.0]), name: "x"),
                       ["shape": [], "data": .number("-0.0")])
    }

    // MARK: - The schema agrees with the reader

    func testSchemaAgreesWithTheReader() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Schemas/rnnkit-model.schema.json"), encoding: .utf8)
        let schema = try JSONParser.parse(text)
        XCTAssertEqual(schema["$schema"], "https://json-schema.org/draft/2020-12/schema")
        XCTAssertEqual(Set(schema["properties"]?.objectValue?.keys ?? []), RNNKitJSON.topKeys)
        XCTAssertEqual(schema["properties"]?["format"]?["const"], .string(RNNKitJSON.formatName))
        XCTAssertEqual(schema["properties"]?["format_version"]?["const"], .int(RNNKitJSON.formatVersion))
        let layer = try XCTUnwrap(schema["$defs"]?["layer"])
        XCTAssertEqual(Set(layer["properties"]?.objectValue?.keys ?? []), RNNKitJSON.layerKeys)
        XCTAssertEqual(layer["required"], ["name", "class_name", "config"])
        let classNames = layer["properties"]?["class_name"]?["enum"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertEqual(classNames, LayerKind.kerasClassNames.sorted())
        XCTAssertEqual(layer["properties"]?["layout"]?["enum"]?.arrayValue?.compactMap(\.stringValue),
                       WeightLayout.allCases.map(\.rawValue))
        let tensor = try XCTUnwrap(schema["$defs"]?["tensor"])
        XCTAssertEqual(Set(tensor["properties"]?.objectValue?.keys ?? []), RNNKitJSON.weightKeys)
        XCTAssertEqual(tensor["properties"]?["shape"]?["items"]?["maximum"], .int(maximumDimension))
    }
}
