import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// Attention and AdditiveAttention: Keras's masking rules on small hand-made cases, and the
/// fixtures' discrimination (each option the fixtures use moves their outputs well beyond 1e-5).
final class AttentionTests: XCTestCase {
    private func decode(_ className: String, _ config: JSONValue) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: KerasConfig(object: config.objectValue ?? JSONObject(),
                                                                 pointer: "/config", kerasMajorVersion: 3))
    }

    private func attention(_ config: JSONValue, query: LayerValue, value: LayerValue) throws -> [LayerValue] {
        try decode("Attention", config).forward([query, value], weights: [:], carry: nil).outputs
    }

    /// query [[1], [2]] against value [[1], [2], [3]]: dot scores are q·v.
    private let query = Tensor(shape: [1, 2, 1], scalars: [1, 2])
    private let value = Tensor(shape: [1, 3, 1], scalars: [1, 2, 3])

    func testValueMaskHidesStepsAndQueryMaskZeroesOutputs() throws {
        let outputs = try attention(["return_attention_scores": true],
                                    query: LayerValue(query, mask: [true, false]),
                                    value: LayerValue(value, mask: [true, true, false]))
        let (first, second) = (Float(M_E) / (Float(M_E) + exp(2)), exp(2) / (Float(M_E) + exp(2)))
        assertClose(outputs[0].tensor.scalars, [first + 2 * second, 0], within: 1e-6)
        XCTAssertEqual(outputs[0].mask, [true, false], "the output keeps the query's mask")
        XCTAssertEqual(outputs[1].tensor.shape, [1, 2, 3])
        XCTAssertEqual(outputs[1].tensor.scalars[2], 0, "a hidden value step gets no weight")
        XCTAssertNil(outputs[1].mask, "Keras gives the scores no mask")
    }

    func testCausalMaskAndFullyHiddenRowsAsKerasComputesThem() throws {
        let causal = try attention(["use_causal_mask": true], query: LayerValue(query), value: LayerValue(value))
        // Step 0 sees value step 0 only; step 1 sees steps 0 and 1.
        let weight = exp(Float(4)) / (exp(2) + exp(4))
        assertClose(causal[0].tensor.scalars, [1, (1 - weight) + 2 * weight], within: 1e-6)
        // Every value step hidden: scores − 1e9 round to −1e9 in float32, so the weights are uniform.
        let hidden = try attention(["use_causal_mask": true], query: LayerValue(query),
                                   value: LayerValue(value, mask: [false, false, false]))
        assertClose(hidden[0].tensor.scalars, [2, 2], within: 1e-6)
    }

    func testConfigsAndCallArguments() throws {
        // tf_keras's deprecated `causal` config key still makes the mask causal.
        guard case .attention(let old) = try decode("Attention", ["causal": true]) else { return XCTFail() }
        XCTAssertTrue(old.useCausalMask)
        XCTAssertEqual(old.kerasCallArguments["use_causal_mask"], true, "written back as a call argument")
        XCTAssertNil(old.kerasConfig()["causal"])
        XCTAssertThrowsError(try decode("Attention", ["score_mode": "general"])) {
            XCTAssertEqual(($0 as? RNNKitError)?.location, "/config/score_mode")
        }
        guard case .attention(let additive) = try decode("AdditiveAttention", [:]) else { return XCTFail() }
        XCTAssertTrue(additive.useScale, "AdditiveAttention scales by default")
        XCTAssertEqual(try LayerKind.attention(additive).weightSpecs(for: [[nil, 3, 4], [nil, 5, 4]]),
                       [WeightSpec(name: "scale", shape: [4], keras3Path: "vars/0")])
        XCTAssertThrowsError(try LayerKind.attention(additive).outputShapes(for: [[nil, 3, 4], [nil, 5, 2]]))
    }

    /// Keras keeps use_causal_mask per call, RNNKit per layer: calls that differ are refused.
    func testCallsWithDifferentArgumentsAreRefused() throws {
        let text = try String(contentsOfFile: FixtureFiles.path("attention_causal_self/tfkeras.json"), encoding: .utf8)
        let call = #"[["gru", 0, 0, {"use_causal_mask": true}], ["gru", 0, 0, {"use_causal_mask": true}]]"#
        XCTAssertTrue(text.contains(call))
        let twice = text.replacingOccurrences(of: call, with: call + #", [["gru", 0, 0, {}], ["gru", 0, 0, {}]]"#)
        let model = try KerasModelConfig.parse(try JSONParser.parse(twice), kerasVersion: nil, source: "twice.json")
        XCTAssertEqual(model.errors.map(\.message),
                       ["the layer's calls differ in use_causal_mask or return_attention_scores, which RNNKit keeps per layer"])
    }

    /// Lengths unknown until run time are checked before anything is indexed.
    func testKeyAndValueOfDifferentLengthsAreRefused() throws {
        let key = LayerValue(Tensor(shape: [1, 2, 1], scalars: [1, 2]))
        XCTAssertThrowsError(try decode("Attention", [:]).forward([LayerValue(query), LayerValue(value), key],
                                                                  weights: [:], carry: nil)) {
            XCTAssertEqual(($0 as? RNNKitError)?.message,
                           "Attention query, value and key do not fit: (1, 2, 1), (1, 3, 1), (1, 2, 1)")
        }
    }

    /// Near-miss implementations (no causal mask, no scale) move every fixture's outputs.
    func testFixturesTellTheOptionsApart() throws {
        let cases: [(fixture: String, layer: String, change: (inout ModelLayer) -> Void)] = [
            ("attention_options", "attention", { Self.toggleCausal(&$0) }),
            ("attention_causal_self", "additive_attention", { Self.toggleCausal(&$0) }),
            ("attention_seq2seq", "attention", { $0.weights["scale"] = Tensor(shape: [], scalars: [1]) }),
            ("attention_masked", "additive_attention", { $0.weights["scale"] = Tensor(shape: [6], scalars: Array(repeating: 1, count: 6)) }),
        ]
        for (fixture, layerName, change) in cases {
            var model = try Model.load(contentsOf: FixtureFiles.path("\(fixture)/tfkeras.h5"))
            let index = try XCTUnwrap(model.layerIndex(named: layerName), fixture)
            change(&model.layers[index])
            let outputs = try Predictor(model).predict(try FixtureFiles.inputs(of: fixture))
            let expected = try FixtureFiles.kerasOutputs(of: fixture, writer: "tfkeras")
            let moved = zip(outputs, expected).map { zip($0.scalars, $1.scalars).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
            XCTAssertGreaterThan(moved, 1e-3, fixture)
        }
    }

    private static func toggleCausal(_ layer: inout ModelLayer) {
        guard case .attention(var attention) = layer.kind else { return }
        attention.useCausalMask.toggle()
        layer.kind = .attention(attention)
    }

    func testOperationCountIncludesTheScoresAndTheWeightedSum() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("attention_causal_self/keras3.keras"))
        // GRU(4) on 4 features: 2·5·8·3·4; attention: 2·5·5·(4 + 4); Dense(2): 2·5·4·2.
        XCTAssertEqual(try predictor.flops(batch: 1, steps: 5), 960 + 400 + 80)
    }

    func testStreamingRefusesAttention() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("attention_causal_self/keras3.keras"))
        XCTAssertThrowsError(try PredictionStream(predictor)) {
            XCTAssertTrue("\($0)".contains("AdditiveAttention attends over the whole value sequence"), "\($0)")
        }
    }
}
