import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// MultiHeadAttention: config decoding and refusals, both Keras node formats of its tensor
/// arguments, Keras's masking on hand-made cases, and the fixtures' discrimination. (Outputs of
/// mha_self and mha_masked in every file format, summaries, writers and plots are checked by the
/// fixture-wide tests.)
final class MultiHeadAttentionTests: XCTestCase {
    private func decode(_ config: JSONValue, kerasMajorVersion: Int = 3) throws -> MultiHeadAttention {
        let kind = try LayerKind(kerasClass: "MultiHeadAttention",
                                 config: KerasConfig(object: config.objectValue ?? JSONObject(), pointer: "/config",
                                                     kerasMajorVersion: kerasMajorVersion))
        guard case .multiHeadAttention(let layer) = kind else { throw XCTSkip("not a MultiHeadAttention") }
        return layer
    }

    /// One head of width 1 whose projections are identities: the scores are q·k, as in
    /// AttentionTests, for query [[1], [2]] and value [[1], [2], [3]].
    private let identity: [String: Tensor] = Dictionary(uniqueKeysWithValues: ["query", "key", "value", "attention_output"].flatMap {
        [($0 + "/kernel", Tensor(shape: [1, 1, 1], scalars: [1])), ($0 + "/bias", Tensor(shape: [1], scalars: [0]))]
    })
    private let query = Tensor(shape: [1, 2, 1], scalars: [1, 2])
    private let value = Tensor(shape: [1, 3, 1], scalars: [1, 2, 3])

    private func attend(_ config: JSONValue = [:], kerasMajorVersion: Int = 3, query: LayerValue, value: LayerValue,
                        attentionMask: Tensor? = nil) throws -> [LayerValue] {
        var object = config.objectValue ?? JSONObject()
        object["num_heads"] = 1
        object["key_dim"] = 1
        let layer = try decode(.object(object), kerasMajorVersion: kerasMajorVersion)
        let inputs = [query, value, value] + (attentionMask.map { [LayerValue($0)] } ?? [])
        return try LayerKind.multiHeadAttention(layer).forward(inputs, weights: identity, carry: nil).outputs
    }

    func testMasksCombineAsKerasCombinesThem() throws {
        let (e1, e2) = (Float(M_E), exp(Float(2)))
        // Value step 2 hidden by the value's mask; query step 1 hidden by the query's mask sees
        // no value step: uniform weights (tf_keras, Keras 3's fused path), its mask kept.
        let masked = try attend(query: LayerValue(query, mask: [true, false]), value: LayerValue(value, mask: [true, true, false]))
        assertClose(masked[0].tensor.scalars, [(e1 + 2 * e2) / (e1 + e2), 2], within: 1e-6)
        XCTAssertEqual(masked[0].mask, [true, false])
        // The attention mask (a call input) and the causal mask hide more: step 0 sees value 0 only,
        // step 1 sees value 0 alone once the attention mask hides value 1.
        let attentionMask = Tensor(shape: [1, 2, 3], scalars: [1, 1, 1, 1, 0, 1])
        let causal = try attend(["use_causal_mask": true], query: LayerValue(query), value: LayerValue(value),
                                attentionMask: attentionMask)
        assertClose(causal[0].tensor.scalars, [1, 1], within: 1e-6)
        // Returned weights [B, heads, Tq, Tv]: Keras 3 zeroes a row that sees nothing, tf_keras not.
        let keras3 = try attend(["return_attention_scores": true], query: LayerValue(query, mask: [true, false]),
                                value: LayerValue(value))
        XCTAssertEqual(keras3[1].tensor.shape, [1, 1, 2, 3])
        XCTAssertEqual(Array(keras3[1].tensor.scalars[3...]), [0, 0, 0])
        XCTAssertEqual(keras3[0].tensor.scalars[1], 0, "no weights, no context: the output is the output bias")
        let tfKeras = try attend(["return_attention_scores": true], kerasMajorVersion: 2,
                                 query: LayerValue(query, mask: [true, false]), value: LayerValue(value))
        assertClose(Array(tfKeras[1].tensor.scalars[3...]), [1 / 3, 1 / 3, 1 / 3], within: 1e-6)
    }

    /// Lengths unknown until run time are checked before anything is indexed.
    func testInputsThatDoNotFitAreRefusedAtRunTime() throws {
        let layer = LayerKind.multiHeadAttention(try decode(["num_heads": 1, "key_dim": 1]))
        let shortKey = LayerValue(Tensor(shape: [1, 2, 1], scalars: [1, 2]))
        XCTAssertThrowsError(try layer.forward([LayerValue(query), LayerValue(value), shortKey], weights: identity, carry: nil)) {
            XCTAssertEqual(($0 as? RNNKitError)?.message,
                           "MultiHeadAttention query, value, key and attention_mask do not fit: (1, 2, 1), (1, 3, 1), (1, 2, 1)")
        }
        let wrongMask = LayerValue(Tensor(shape: [1, 3, 3], scalars: Array(repeating: 1, count: 9)))
        XCTAssertThrowsError(try layer.forward([LayerValue(query), LayerValue(value), LayerValue(value), wrongMask],
                                               weights: identity, carry: nil))
    }

    func testConfigsAndRefusals() throws {
        let layer = try decode(["num_heads": 2, "key_dim": 3, "output_shape": [4], "attention_axes": [1]])
        XCTAssertEqual(layer.valueDim, 3, "value_dim defaults to key_dim")
        XCTAssertEqual(layer.outputDim, 4)
        let specs = try LayerKind.multiHeadAttention(layer).weightSpecs(for: [[nil, 5, 6], [nil, 7, 2], [nil, 7, 5]])
        XCTAssertEqual(specs.map(\.shape), [[6, 2, 3], [2, 3], [5, 2, 3], [2, 3], [2, 2, 3], [2, 3], [2, 3, 4], [4]])
        XCTAssertEqual(specs.map(\.keras3Path).first, "query_dense/vars/0")
        XCTAssertEqual(try LayerKind.multiHeadAttention(layer).outputShapes(for: [[nil, 5, 6], [nil, 7, 2], [nil, 7, 5]]),
                       [[nil, 5, 4]])
        XCTAssertThrowsError(try LayerKind.multiHeadAttention(layer).outputShapes(for: [[nil, 5, 6], [nil, 7, 2], [nil, 6, 5]]))
        for (key, bad) in [("attention_axes", JSONValue.array([2])), ("use_gate", true), ("sliding_window", 3),
                           ("output_shape", [2, 3]), ("softmax_robust_masking", true)] {
            let config = JSONObject([("num_heads", 2), ("key_dim", 3), (key, bad)])
            XCTAssertThrowsError(try decode(.object(config)), key) {
                XCTAssertEqual(($0 as? RNNKitError)?.location, "/config/\(key)")
            }
        }
    }

    /// tf_keras passes value, key and attention_mask as references in the kwargs of its single
    /// node entry; Keras 3 the query and value as args and the rest as kwargs. Both give
    /// [query, value, key, attention_mask], the key the value when absent.
    func testTensorArgumentsFromBothNodeFormats() throws {
        let text = try String(contentsOfFile: FixtureFiles.path("mha_self/tfkeras.json"), encoding: .utf8)
        let model = try KerasModelConfig.parse(try JSONParser.parse(text), kerasVersion: nil, source: "tfkeras.json")
        let selfAttention = try XCTUnwrap(model.layerIndex(named: "multi_head_attention"))
        XCTAssertEqual(model.layers[selfAttention].nodes[0].inputs.map(\.layer), ["bidirectional", "bidirectional", "bidirectional"])
        let crossAttention = try XCTUnwrap(model.layerIndex(named: "multi_head_attention_1"))
        XCTAssertEqual(model.layers[crossAttention].nodes[0].inputs.map(\.layer), ["add", "input_1", "bidirectional"])

        let keras3 = try String(contentsOfFile: FixtureFiles.path("mha_self/keras3.json"), encoding: .utf8)
        let key = #""kwargs": {"key": {"class_name": "__keras_tensor__", "config": {"shape": [null, 5, 6], "dtype": "float32", "keras_history": ["bidirectional", 0, 0]}}"#
        XCTAssertTrue(keras3.contains(key))
        let withMask = keras3.replacingOccurrences(of: key, with: key + #", "attention_mask": {"class_name": "__keras_tensor__", "config": {"keras_history": ["input_layer", 0, 0]}}"#)
        let parsed = try KerasModelConfig.parse(try JSONParser.parse(withMask), kerasVersion: nil, source: "keras3.json")
        let index = try XCTUnwrap(parsed.layerIndex(named: "multi_head_attention_1"))
        XCTAssertEqual(parsed.layers[index].nodes[0].inputs.map(\.layer), ["add", "input_layer", "bidirectional", "input_layer"])
        let unknown = keras3.replacingOccurrences(of: key, with: key + #", "bias": {"class_name": "__keras_tensor__", "config": {"keras_history": ["input_layer", 0, 0]}}"#)
        let refused = try KerasModelConfig.parse(try JSONParser.parse(unknown), kerasVersion: nil, source: "keras3.json")
        XCTAssertEqual(refused.errors.map(\.message), ["MultiHeadAttention tensor argument 'bias' is not supported or repeated"])
    }

    /// Near-miss implementations (causal mask or attention_mask ignored) move the fixtures' outputs.
    func testFixturesTellTheMasksApart() throws {
        let fixtures = [("mha_self", "multi_head_attention_1"), ("mha_masked", "multi_head_attention"),
                        ("mha_attention_mask", "multi_head_attention")]
        for (fixture, layerName) in fixtures {
            var model = try Model.load(contentsOf: FixtureFiles.path("\(fixture)/tfkeras.h5"))
            let index = try XCTUnwrap(model.layerIndex(named: layerName), fixture)
            guard case .multiHeadAttention(var layer) = model.layers[index].kind else { return XCTFail(fixture) }
            layer.useCausalMask.toggle()
            model.layers[index].kind = .multiHeadAttention(layer)
            let outputs = try Predictor(model).predict(try FixtureFiles.inputs(of: fixture))
            let expected = try FixtureFiles.kerasOutputs(of: fixture, writer: "tfkeras")
            let moved = zip(outputs, expected).map { zip($0.scalars, $1.scalars).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
            XCTAssertGreaterThan(moved, 1e-3, fixture)
        }
        let predictor = try Predictor(contentsOf: FixtureFiles.path("mha_attention_mask/keras3.keras"))
        var inputs = try FixtureFiles.inputs(of: "mha_attention_mask")
        inputs[1] = Tensor(shape: inputs[1].shape, scalars: Array(repeating: 1, count: inputs[1].scalars.count))
        let unmasked = try predictor.predict(inputs)[0].scalars
        let expected = try FixtureFiles.kerasOutputs(of: "mha_attention_mask", writer: "keras3")[0].scalars
        XCTAssertGreaterThan(zip(unmasked, expected).map { abs($0 - $1) }.max() ?? 0, 1e-3, "attention_mask ignored")
    }

    func testOperationCountIncludesProjectionsScoresAndOutput() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("mha_attention_mask/keras3.keras"))
        // GRU(4) on 3 features: 2·4·7·3·4. Attention (2 heads of width 2 over 4 steps of width 4):
        // projections 4·4·4 + 4·(4·4 + 4·4), scores and weighted values 4·2·4·(2 + 2), output
        // 4·4·4, each times 2. Dense(2): 2·4·4·2.
        XCTAssertEqual(try predictor.flops(batch: 1, steps: 4), 672 + 2 * (192 + 128 + 64) + 64)
    }

    /// ONNX export, which MultiHeadAttention has, is tested in ONNXExportTests.
    func testStreamingIsRefused() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("mha_attention_mask/keras3.keras"))
        XCTAssertThrowsError(try PredictionStream(try Predictor(model))) {
            XCTAssertTrue("\($0)".contains("MultiHeadAttention attends over the whole value sequence"), "\($0)")
        }
    }
}
