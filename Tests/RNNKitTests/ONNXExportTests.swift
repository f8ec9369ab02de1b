import Foundation
import RNNKitTestSupport
import XCTest
@testable import RNNKit

/// The ONNX graphs the exporter builds, by structure: operators, initializer names and shapes,
/// dims and attributes. ONNX Runtime runs them in Fixtures/interop/check_onnx_export.py.
final class ONNXExportTests: XCTestCase {
    private func export(_ fixture: String, opset: Int = ONNXExport.defaultOpset) throws -> Onnx_ModelProto {
        let model = try Model.load(contentsOf: FixtureFiles.path(fixture)).checked()
        let bytes = try ONNXExport.serialized(model, opset: opset)
        // What is written reads back as the same message.
        let proto = try Onnx_ModelProto(serializedBytes: bytes)
        XCTAssertEqual(proto, try ONNXExport.modelProto(model, opset: opset))
        return proto
    }

    private func operators(_ proto: Onnx_ModelProto) -> [String: Int] {
        proto.graph.node.reduce(into: [:]) { counts, node in counts[node.opType, default: 0] += 1 }
    }

    private func initializerShapes(_ proto: Onnx_ModelProto) -> [String: [Int64]] {
        Dictionary(uniqueKeysWithValues: proto.graph.initializer.filter { $0.name.contains(".") }.map { ($0.name, $0.dims) })
    }

    private func node(_ op: String, in proto: Onnx_ModelProto) throws -> Onnx_NodeProto {
        try XCTUnwrap(proto.graph.node.first { $0.opType == op }, "no \(op) node")
    }

    private func attribute(_ name: String, of node: Onnx_NodeProto) throws -> Onnx_AttributeProto {
        try XCTUnwrap(node.attribute.first { $0.name == name }, "\(node.opType) has no \(name)")
    }

    private func dims(_ value: Onnx_ValueInfoProto) -> [String] {
        ONNXModelInfo.port(value).dimensions
    }

    func testEncoderDecoderPassesTheEncoderStatesAsInitialStates() throws {
        let proto = try export("seq2seq/keras3.keras")
        XCTAssertEqual(proto.opsetImport.map(\.version), [17])
        XCTAssertEqual(proto.irVersion, 8)
        XCTAssertEqual(proto.producerName, "rnnkit")
        let graph = proto.graph
        XCTAssertEqual(graph.input.map(\.name), ["input_layer", "input_layer_1"])
        XCTAssertEqual(graph.input.map(dims), [["batch", "input_layer_dim1", "4"], ["batch", "input_layer_1_dim1", "3"]])
        XCTAssertEqual(graph.output.map(\.name), ["dense"])
        XCTAssertEqual(graph.output.map(dims), [["batch", "?", "3"]])
        XCTAssertEqual(operators(proto)["LSTM"], 2)
        XCTAssertEqual(operators(proto)["Softmax"], 1)
        XCTAssertEqual(initializerShapes(proto), [
            "lstm.W": [1, 20, 4], "lstm.R": [1, 20, 5], "lstm.B": [1, 40],
            "lstm_1.W": [1, 20, 3], "lstm_1.R": [1, 20, 5], "lstm_1.B": [1, 40],
            "dense.kernel": [5, 3], "dense.bias": [3],
        ])
        let lstms = graph.node.filter { $0.opType == "LSTM" }
        // The decoder takes initial_h and initial_c (inputs 5 and 6), made from the encoder's Y_h, Y_c.
        XCTAssertEqual(lstms[0].input.count, 4)
        XCTAssertEqual(lstms[1].input.count, 7)
        XCTAssertEqual(lstms[1].input[4], "")
        for lstm in lstms {
            XCTAssertEqual(try attribute("hidden_size", of: lstm).i, 5)
            XCTAssertEqual(String(decoding: try attribute("direction", of: lstm).s, as: UTF8.self), "forward")
            XCTAssertEqual(try attribute("layout", of: lstm).i, 0)
            XCTAssertEqual(try attribute("activations", of: lstm).strings.map { String(decoding: $0, as: UTF8.self) },
                           ["Sigmoid", "Tanh", "Tanh"])
        }
    }

    func testBidirectionalIsOneOperatorWithBothDirections() throws {
        let proto = try export("bidirectional_concat/keras3.keras")
        let lstm = try node("LSTM", in: proto)
        XCTAssertEqual(String(decoding: try attribute("direction", of: lstm).s, as: UTF8.self), "bidirectional")
        XCTAssertEqual(try attribute("activations", of: lstm).strings.count, 6)
        XCTAssertEqual(initializerShapes(proto), [
            "bidirectional.W": [2, 12, 4], "bidirectional.R": [2, 12, 3], "bidirectional.B": [2, 24],
        ])
        XCTAssertEqual(operators(proto)["Concat"], 1)
        XCTAssertEqual(operators(proto)["ReduceMax"], 1)
    }

    func testGoBackwardsGRUWithoutResetAfterRunsInReverse() throws {
        let proto = try export("gru_reset_before/tfkeras.h5")
        let gru = try node("GRU", in: proto)
        XCTAssertEqual(String(decoding: try attribute("direction", of: gru).s, as: UTF8.self), "reverse")
        XCTAssertEqual(try attribute("linear_before_reset", of: gru).i, 0)
        // Keras returns a go_backwards layer's outputs in processing order: a reversing Slice,
        // the only one (the operator's single direction is dropped by a Squeeze alone).
        XCTAssertEqual(operators(proto)["Slice"], 1)
        // Opset 17 gives ReduceMean its axes as an attribute, 18 as an input.
        XCTAssertEqual(try attribute("axes", of: node("ReduceMean", in: proto)).ints, [1])
        let newer = try export("gru_reset_before/tfkeras.h5", opset: 18)
        XCTAssertEqual(try node("ReduceMean", in: newer).input.count, 2)
        XCTAssertEqual(newer.irVersion, 8)
        let resetAfter = try export("gru_reset_after/keras3.keras")
        XCTAssertEqual(try attribute("linear_before_reset", of: node("GRU", in: resetAfter)).i, 1)
    }

    func testHardSigmoidFollowsTheKerasThatWroteTheFile() throws {
        for (file, alpha) in [("activations/tfkeras.h5", Float(0.2)), ("activations/keras3.keras", Float(1) / 6)] {
            let proto = try export(file)
            let lstm = try node("LSTM", in: proto)
            XCTAssertEqual(try attribute("activations", of: lstm).strings.map { String(decoding: $0, as: UTF8.self) },
                           ["HardSigmoid", "Softsign", "Softsign"], file)
            XCTAssertEqual(try attribute("activation_alpha", of: lstm).floats, [alpha], file)
            XCTAssertEqual(try attribute("activation_beta", of: lstm).floats, [0.5], file)
            XCTAssertNil(lstm.input.dropFirst(3).first, "use_bias=False: no B input")
            let gru = try node("GRU", in: proto)
            XCTAssertEqual(try attribute("activations", of: gru).strings.map { String(decoding: $0, as: UTF8.self) },
                           ["HardSigmoid", "Elu"], file)
            XCTAssertEqual(try attribute("activation_alpha", of: gru).floats, [alpha, 1], file)
            XCTAssertEqual(operators(proto)["RNN"], 1, file)
            XCTAssertEqual(operators(proto)["Tile"], 1, file)
            XCTAssertEqual(operators(proto)["Flatten"], 1, file)
        }
    }

    func testOtherLayersAreStandardOperators() throws {
        let proto = try export("misc_layers/keras3.keras")
        let counts = operators(proto)
        XCTAssertEqual(counts["RNN"], 1)
        XCTAssertEqual(counts["MatMul"], 2)  // TimeDistributed(Dense), Dense
        XCTAssertNil(counts["Dropout"])       // inference-time identities are left out
        XCTAssertEqual(counts["ReduceMax"], 1)
        XCTAssertEqual(Set(initializerShapes(proto).keys), [
            "simple_rnn.W", "simple_rnn.R", "simple_rnn.B", "time_distributed.kernel", "time_distributed.bias",
            "dense_1.kernel", "dense_1.bias",
        ])
        let bidirectional = try export("bidirectional_none/keras3.keras")
        XCTAssertEqual(bidirectional.graph.output.map(\.name), ["dense", "bidirectional"])
    }

    /// Convolutions and poolings run channels first between Transposes, kernels in Conv's
    /// [F, C / groups, k...]; Keras's same padding is SAME_UPPER. ONNX Runtime's numbers are
    /// checked by Fixtures/interop/check_onnx_export.py.
    func testConvolutionsAndPoolingsAreConvAndPoolOperators() throws {
        let crnn = try export("conv2d_crnn/keras3.keras")
        let counts = operators(crnn)
        XCTAssertEqual(counts["Conv"], 2)
        XCTAssertEqual(counts["MaxPool"], 2)
        XCTAssertEqual(counts["Reshape"], 1)
        XCTAssertEqual(counts["Transpose"].map { $0 >= 5 }, true)  // around each Conv and MaxPool, and Permute
        XCTAssertEqual(initializerShapes(crnn)["conv2d.weight"], [4, 1, 3, 3])
        let conv = try XCTUnwrap(crnn.graph.node.first { $0.opType == "Conv" })
        XCTAssertEqual(conv.attribute.first { $0.name == "auto_pad" }?.s, Data("SAME_UPPER".utf8))
        let separable = operators(try export("depthwise_separable/tfkeras.h5"))
        XCTAssertEqual(separable["Conv"], 7)  // 4 depthwise, 2 of them followed by a pointwise 1×1
    }

    /// BatchNormalization is its operator between Transposes (axis -1 of [B, T, C]);
    /// LayerNormalization is its operator from opset 17 where it has gamma, Keras's arithmetic
    /// from ReduceMean otherwise. ONNX Runtime's numbers: Fixtures/interop/check_onnx_export.py.
    func testNormalizationsAreTheirOperatorsOrKerasArithmetic() throws {
        let batchNorm = try export("lstm_batchnorm/keras3.keras")
        let normalization = try node("BatchNormalization", in: batchNorm)
        XCTAssertEqual(Array(normalization.input.dropFirst()), ["batch_normalization.gamma", "batch_normalization.beta",
                                                                "batch_normalization.moving_mean",
                                                                "batch_normalization.moving_variance"])
        XCTAssertEqual(try attribute("epsilon", of: normalization).f, 1e-3)
        XCTAssertEqual(initializerShapes(batchNorm)["batch_normalization.moving_variance"], [5])
        XCTAssertEqual(operators(batchNorm)["Transpose"], 5)  // 2 around each LSTM, and 2 around BatchNormalization
        XCTAssertEqual(operators(try export("lstm_batchnorm/keras3.keras", opset: 14))["Transpose"], 5)

        let layerNorm = try export("layernorm_options/tfkeras.h5")
        // defaults and center=False are operators; scale=False (no gamma) is Keras's arithmetic.
        let operatorForms = layerNorm.graph.node.filter { $0.opType == "LayerNormalization" }
        XCTAssertEqual(operatorForms.map(\.input), [["input_1", "defaults.gamma", "defaults.beta"],
                                                     ["input_1", "no_center.gamma"]])
        XCTAssertEqual(try operatorForms.map { try attribute("epsilon", of: $0).f }, [1e-3, 1e-6])
        XCTAssertEqual(operators(layerNorm)["ReduceMean"], 2)
        let older = operators(try export("layernorm_options/tfkeras.h5", opset: 14))
        XCTAssertNil(older["LayerNormalization"])
        XCTAssertEqual(older["ReduceMean"], 6)
        XCTAssertEqual(older["Reciprocal"], 3)
    }

    /// UnitNormalization and Dot(normalize=True) scale by ReduceSumSquare, capped as Keras 3 does
    /// (Min) or floored as tf_keras does (Max); PReLU is PRelu on the whole alpha; Dot is MatMul.
    func testUnitNormalizationPReLUAndDotFollowTheirKeras() throws {
        let keras3 = try export("unit_prelu_dot/keras3.keras")
        let counts = operators(keras3)
        XCTAssertEqual(counts["PRelu"], 2)
        XCTAssertEqual(counts["ReduceSumSquare"], 4)  // two UnitNormalization, both inputs of the normalized Dot
        XCTAssertEqual(counts["Min"], 4)
        XCTAssertNil(counts["Max"])
        XCTAssertEqual(counts["MatMul"], 6)  // the two Dense branches and the four Dots
        XCTAssertEqual(initializerShapes(keras3)["prelu_full.alpha"], [5, 6])
        XCTAssertEqual(initializerShapes(keras3)["prelu_shared.alpha"], [1, 6])
        let tfKeras = operators(try export("unit_prelu_dot/tfkeras.h5"))
        XCTAssertEqual(tfKeras["Max"], 4)
        XCTAssertNil(tfKeras["Min"])
    }

    /// ReLU's options, LeakyReLU, ELU and Softmax on its axis as their operators; the time
    /// resamplers as Pad, Slice and Resize; TimeDistributed folds time into the batch around the
    /// inner layer's own form.
    func testActivationReshapingAndTimeDistributedLayers() throws {
        let activations = try export("activation_layers/keras3.keras")
        let counts = operators(activations)
        XCTAssertEqual(counts["Where"], 2)  // the two thresholds
        XCTAssertEqual(counts["Clip"], 2)   // the two max_values
        XCTAssertEqual(counts["LeakyRelu"], 1)
        XCTAssertEqual(try attribute("alpha", of: node("Elu", in: activations)).f, 0.7)
        XCTAssertEqual(counts["Softmax"], 2)

        let resampling = operators(try export("time_resampling/keras3.keras"))
        XCTAssertEqual(resampling["Pad"], 2)
        XCTAssertEqual(resampling["Resize"], 2)
        let resize = try node("Resize", in: try export("time_resampling/keras3.keras"))
        XCTAssertEqual(String(decoding: try attribute("nearest_mode", of: resize).s, as: UTF8.self), "floor")

        let timeDistributed = try export("time_distributed_any/keras3.keras")
        let inner = operators(timeDistributed)
        XCTAssertEqual(inner["Conv"], 1)
        XCTAssertEqual(inner["LSTM"], 1)
        XCTAssertEqual(inner["BatchNormalization"], 1)
        XCTAssertEqual(inner["Reshape"], 10)  // folded and unfolded around 5 inner layers
        XCTAssertTrue(Set(initializerShapes(timeDistributed).keys).isSuperset(of: [
            "td_conv.weight", "td_lstm.W", "td_batchnorm.moving_mean", "td_dense.kernel",
        ]))
    }

    /// Attention scores are MatMul (dot) or Add/Tanh/ReduceSum (concat, additive), the weights a
    /// Softmax over the value steps; the causal mask is built from the run-time lengths (Range)
    /// and MultiHeadAttention's attention_mask input hides its zeros (Equal). ONNX Runtime's
    /// numbers are checked by Fixtures/interop/check_onnx_export.py.
    func testAttentionIsMatMulAndSoftmax() throws {
        let options = try export("attention_options/keras3.keras")
        var counts = operators(options)
        XCTAssertEqual(counts["Softmax"], 3)
        XCTAssertEqual(counts["Tanh"], 2)       // the two concat layers
        XCTAssertEqual(counts["ReduceSum"], 2)
        XCTAssertEqual(counts["Range"], 2)      // use_causal_mask on the first: query and value steps
        XCTAssertEqual(initializerShapes(options)["attention.scale"], [])
        XCTAssertEqual(initializerShapes(options)["attention_1.concat_score_weight"], [])
        XCTAssertEqual(options.graph.output.map(\.name), ["attention", "attention_1", "attention_2"])
        let additive = operators(try export("attention_causal_self/tfkeras.h5"))
        XCTAssertEqual(additive["Greater"], 1)
        XCTAssertEqual(additive["Softmax"], 1)

        let heads = try export("mha_self/keras3.keras")
        counts = operators(heads)
        XCTAssertEqual(counts["Softmax"], 2)
        XCTAssertEqual(initializerShapes(heads)["multi_head_attention.query/kernel"], [6, 2, 3])
        XCTAssertEqual(initializerShapes(heads)["multi_head_attention.attention_output/kernel"], [2, 2, 6])
        XCTAssertNil(initializerShapes(heads)["multi_head_attention_1.query/bias"])  // use_bias False
        // The returned scores [B, heads, Tq, Tv] are the model's second output.
        XCTAssertEqual(heads.graph.output.map { dims($0) }.last, ["batch", "2", "5", "5"])
        let masked = try export("mha_attention_mask/keras3.keras")
        XCTAssertEqual(masked.graph.input.map(\.name), ["input_layer", "input_layer_1"])
        XCTAssertEqual(operators(masked)["Equal"], 1)  // attention_mask: zero hides
        XCTAssertEqual(operators(masked)["Max"], 1)    // combined with the causal mask
    }

    /// Operations are standard operators; booleans are floats, as in the runtime. Every operation
    /// runs in ONNX Runtime in Fixtures/interop/check_onnx_export.py (every_operation).
    func testOperationsAreStandardOperators() throws {
        let proto = try export("ops_graph/keras3.keras")
        let counts = operators(proto)
        XCTAssertEqual(counts["Where"], 1)
        XCTAssertEqual(counts["Greater"], 1)
        XCTAssertEqual(counts["Softmax"], 1)
        XCTAssertEqual(counts["ReduceMean"], 1)
        XCTAssertEqual(counts["ReduceMax"], 1)
        XCTAssertEqual(counts["Slice"], 4)  // one per GetItem (the LSTM's one direction is a Squeeze alone)
        let softmax = try node("Softmax", in: proto)
        XCTAssertEqual(try attribute("axis", of: softmax).i, 1)
        XCTAssertEqual(proto.graph.output.map(\.name), ["dense", "expand_dims", "get_item_1", "get_item_2", "matmul", "softmax", "max"])
    }

    /// A boolean model input is declared BOOL; a layer that computes on floats reads it cast to
    /// 1 and 0 (as Keras casts it), Embedding as int64 ids, and an explicit `mask=` as it is.
    /// ONNX Runtime's numbers: check_onnx_export.py (boolean input).
    func testBooleanInputsAreDeclaredBoolAndCastWhereLayersNeedFloats() throws {
        let model = try RNNKitJSON.read(JSONParser.parse(#"""
            {"format": "rnnkit", "format_version": 1, "inputs": ["x", "flags"],
             "outputs": ["simple_rnn", "dense", "embedding"], "layers": [
              {"name": "x", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 3], "dtype": "float32"}},
              {"name": "flags", "class_name": "InputLayer", "config": {"batch_shape": [null, 4], "dtype": "bool"}},
              {"name": "simple_rnn", "class_name": "SimpleRNN", "config": {"units": 2}, "inputs": ["x"], "mask": ["flags"],
               "weights": {"kernel": {"shape": [3, 2], "data": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]},
                           "recurrent_kernel": {"shape": [2, 2], "data": [[1, 0], [0, 1]]},
                           "bias": {"shape": [2], "data": [0.01, 0.02]}}},
              {"name": "dense", "class_name": "Dense", "config": {"units": 2}, "inputs": ["flags"],
               "weights": {"kernel": {"shape": [4, 2], "data": [[1, 2], [3, 4], [5, 6], [7, 8]]},
                           "bias": {"shape": [2], "data": [0.5, -0.5]}}},
              {"name": "embedding", "class_name": "Embedding", "config": {"input_dim": 2, "output_dim": 2}, "inputs": ["flags"],
               "weights": {"embeddings": {"shape": [2, 2], "data": [[0, 1], [2, 3]]}}}]}
            """#), source: "flags.json").checked()
        let proto = try ONNXExport.modelProto(model)
        let bool = Int32(Onnx_TensorProto.DataType.bool.rawValue), float = Int32(Onnx_TensorProto.DataType.float.rawValue)
        XCTAssertEqual(proto.graph.input.map(\.name), ["x", "flags"])
        XCTAssertEqual(proto.graph.input.map(\.type.tensorType.elemType), [float, bool])
        XCTAssertEqual(proto.graph.output.map(\.type.tensorType.elemType), [float, float, float])
        let readers = proto.graph.node.filter { $0.input.contains("flags") }
        let casts = try readers.filter { $0.opType == "Cast" }.map { try attribute("to", of: $0).i }
        XCTAssertEqual(casts.sorted(), [Int64(Onnx_TensorProto.DataType.float.rawValue),
                                        Int64(Onnx_TensorProto.DataType.int64.rawValue)])  // Dense's; Embedding's ids
        XCTAssertEqual(readers.count, 3, "the mask reads the input itself: \(readers.map(\.opType))")
        let asFloat = try XCTUnwrap(readers.first { try $0.opType == "Cast" && attribute("to", of: $0).i == Int64(float) })
        XCTAssertTrue(proto.graph.node.contains { $0.opType == "MatMul" && $0.input[0] == asFloat.output[0] },
                      "Dense multiplies the flags as floats")
    }

    /// Keras's implicit masks reach attention as values: the value's hides columns of the
    /// scores, the query's zeroes Attention's outputs and hides MultiHeadAttention's rows, and the
    /// output keeps the query's mask. ONNX Runtime's numbers: check_onnx_export.py
    /// (attention_masked, mha_masked).
    func testAttentionReadsTheMasksItsInputsCarry() throws {
        let additive = try export("attention_masked/tfkeras.h5")
        let counts = operators(additive)
        XCTAssertEqual(counts["Not"], 5)      // the Embedding's mask; value and query masks in both layers
        XCTAssertEqual(counts["Softmax"], 3)  // both layers' weights and the Dense
        let heads = try export("mha_masked/keras3.keras")
        XCTAssertGreaterThanOrEqual(operators(heads)["Not"] ?? 0, 2)
        XCTAssertEqual(heads.graph.output.count, 2)
    }

    func testWhatOperatorsCannotComputeIsRefusedByLayerAndReason() throws {
        // A CuDNN layer over a mask is refused, as Keras and the runtime refuse it.
        var masked = try Model.load(contentsOf: FixtureFiles.path("masking_gru/keras3.keras"))
        let gruIndex = try XCTUnwrap(masked.layerIndex(named: "gru"))
        guard case .recurrent(var gru)? = masked.layers[gruIndex].kind else { return XCTFail("no GRU") }
        gru.isCuDNN = true
        masked.layers[gruIndex].kind = .recurrent(gru)
        XCTAssertThrowsError(try ONNXExport.serialized(masked)) { error in
            XCTAssertEqual((error as? RNNKitError)?.message, "cannot export CuDNNGRU to ONNX exactly: CuDNNGRU does not "
                           + "support masking (Keras refuses a mask for it too)")
        }
        // Keras's Softmax leaves out masked values when the mask covers the whole input ([B, T, 1]
        // after Embedding(output_dim=1, mask_zero=True)).
        let maskedScores = try RNNKitJSON.read(JSONParser.parse(#"""
            {"format": "rnnkit", "format_version": 1, "layers": [
              {"name": "ids", "class_name": "InputLayer", "config": {"batch_shape": [null, 3], "dtype": "int32"}},
              {"name": "embedding", "class_name": "Embedding", "config": {"input_dim": 4, "output_dim": 1, "mask_zero": true},
               "weights": {"embeddings": {"shape": [4, 1], "data": [[0], [1], [2], [3]]}}},
              {"name": "scores", "class_name": "Softmax", "config": {"axis": 1}}]}
            """#), source: "scores.json")
        XCTAssertThrowsError(try ONNXExport.serialized(maskedScores)) { error in
            XCTAssertEqual((error as? RNNKitError)?.location, "scores")
            XCTAssertTrue((error as? RNNKitError)?.message.contains("cannot export Softmax to ONNX exactly") == true, "\(error)")
        }
        let model = try Model.load(contentsOf: FixtureFiles.path("simple_rnn/keras3.keras"))
        XCTAssertThrowsError(try ONNXExport.serialized(model, opset: 13)) { error in
            XCTAssertEqual((error as? RNNKitError)?.message, "opset 13 is not one RNNKit writes: use 14 to 21")
        }
    }

    // MARK: - Scans: what the recurrent operators cannot compute

    private func scans(_ proto: Onnx_ModelProto) -> [Onnx_NodeProto] {
        proto.graph.node.filter { $0.opType == "Scan" }
    }

    /// A Scan body's operator counts.
    private func bodyOperators(_ scan: Onnx_NodeProto) throws -> [String: Int] {
        try attribute("body", of: scan).g.node.reduce(into: [:]) { counts, node in counts[node.opType, default: 0] += 1 }
    }

    /// A masked recurrent layer is a Scan of Keras's cell over x·kernel + bias and the mask; a
    /// masked step keeps the states and the last output (Where). ONNX Runtime's numbers:
    /// Fixtures/interop/check_onnx_export.py.
    func testMaskedRecurrentLayersAreScansThatKeepTheStateAtMaskedSteps() throws {
        let proto = try export("masking_gru/keras3.keras")
        XCTAssertNil(operators(proto)["GRU"])
        let scan = try XCTUnwrap(scans(proto).first)
        XCTAssertEqual(scans(proto).count, 1)
        XCTAssertEqual(try attribute("num_scan_inputs", of: scan).i, 2)
        XCTAssertEqual(try attribute("scan_input_axes", of: scan).ints, [1, 1])
        XCTAssertEqual(try attribute("scan_input_directions", of: scan).ints, [0, 0])
        XCTAssertEqual(try attribute("scan_output_axes", of: scan).ints, [1])
        XCTAssertEqual(scan.input.count, 4)   // h, last output, gates, mask
        XCTAssertEqual(scan.output.count, 3)  // h, last output, the sequence
        let body = try attribute("body", of: scan).g
        XCTAssertEqual(body.input.map { $0.type.tensorType.elemType }, [1, 1, 1, 9])  // float ×3, bool
        XCTAssertEqual(try bodyOperators(scan), ["MatMul": 1, "Add": 5, "Split": 2, "Sigmoid": 2, "Tanh": 1, "Mul": 3,
                                                 "Sub": 1, "Where": 2, "Identity": 1])
        XCTAssertEqual(initializerShapes(proto), [
            "gru.kernel": [3, 9], "gru.recurrent_kernel": [3, 9], "gru.bias": [2, 9],
            "dense.kernel": [3, 1], "dense.bias": [1],
        ])
        // The mask of Embedding(mask_zero): ids other than 0. An LSTM keeps h and c.
        let embedded = try export("embedding_mask/tfkeras.h5")
        XCTAssertEqual(operators(embedded)["Not"], 1)
        XCTAssertNil(operators(embedded)["LSTM"])
        XCTAssertEqual(try bodyOperators(try XCTUnwrap(scans(embedded).first))["Where"], 3)
    }

    /// A masked Bidirectional is two Scans, the backward one scanning backwards and writing its
    /// outputs back in time order; Concatenate ANDs its inputs' masks; GlobalAveragePooling1D
    /// averages the kept steps only.
    func testMaskedBidirectionalAndAverageFollowTheMask() throws {
        let proto = try export("ops_masking/tfkeras.h5")
        let found = scans(proto)
        XCTAssertEqual(found.count, 3)
        XCTAssertEqual(try found.map { try attribute("scan_input_directions", of: $0).ints }, [[0, 0], [1, 1], [0, 0]])
        XCTAssertEqual(try found.prefix(2).map { try attribute("scan_output_directions", of: $0).ints }, [[0], [1]])
        XCTAssertEqual(operators(proto)["And"], 1)
        XCTAssertEqual(operators(proto)["ReduceSum"], 2)
        XCTAssertNil(operators(proto)["ReduceMean"])
        XCTAssertEqual(Set(initializerShapes(proto).keys.filter { $0.hasPrefix("bidirectional.") }), [
            "bidirectional.forward.kernel", "bidirectional.forward.recurrent_kernel", "bidirectional.forward.bias",
            "bidirectional.backward.kernel", "bidirectional.backward.recurrent_kernel", "bidirectional.backward.bias",
        ])
    }

    /// Every masked form of the masked_recurrent fixture is Scans (two per Bidirectional), none an
    /// operator; Keras 2's hard_sigmoid inside a body keeps tf_keras's slope.
    func testEveryMaskedRecurrentFormIsScans() throws {
        let proto = try export("masked_recurrent/tfkeras.h5")
        let counts = operators(proto)
        XCTAssertEqual(counts["Scan"], 8)
        XCTAssertNil(counts["LSTM"] ?? counts["GRU"] ?? counts["RNN"])
        let gru = try XCTUnwrap(scans(proto).first { try bodyOperators($0)["HardSigmoid"] != nil })
        XCTAssertEqual(try attribute("scan_input_directions", of: gru).ints, [1, 1])
        let hardSigmoid = try XCTUnwrap(try attribute("body", of: gru).g.node.first { $0.opType == "HardSigmoid" })
        XCTAssertEqual(try attribute("alpha", of: hardSigmoid).f, 0.2)
        XCTAssertEqual(proto.graph.output.count, 10)
    }

    /// Activations ONNX's recurrent operators lack make that layer a Scan, its activations as
    /// elementwise operators; the others stay operators.
    func testActivationsTheOperatorsLackAreScans() throws {
        let proto = try export("activations_more/tfkeras.h5")
        XCTAssertEqual(scans(proto).count, 5)  // selu, swish, relu6, gelu, exponential
        XCTAssertEqual(operators(proto)["RNN"], 3)  // softplus, leaky_relu, tanh
        let bodies = try scans(proto).map(bodyOperators)
        XCTAssertEqual(bodies.filter { $0["Selu"] != nil }.count, 1)
        XCTAssertEqual(bodies.filter { $0["Erf"] == 2 }.count, 1)  // gelu on the candidate and on c
        XCTAssertTrue(bodies.allSatisfy { $0["Where"] == nil }, "no mask, no Where")
    }

    /// RNN(StackedRNNCells) over a mask with go_backwards: one Scan per cell; the first scans
    /// backwards, the next ones forwards over its outputs with the mask reversed.
    func testStackedCellsOverAMaskAreOneScanPerCell() throws {
        let proto = try export("rnn_cells_masked/keras3.keras")
        let found = scans(proto)
        XCTAssertEqual(found.count, 3)
        XCTAssertEqual(try found.map { try attribute("scan_input_directions", of: $0).ints }, [[1, 1], [0, 0], [0, 0]])
        XCTAssertEqual(try bodyOperators(found[2])["Relu"], 2)  // LSTMCell(2, relu)
        XCTAssertEqual(try bodyOperators(found[1])["MatMul"], 2)  // GRU reset_after=False: (r·h)·R_h apart
    }

    // MARK: - Reading ONNX files (summary, validate)

    func testWhatIsWrittenReadsBack() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("seq2seq/keras3.keras"))
        let info = try ONNXModelInfo(bytes: ONNXExport.serialized(model), source: "m.onnx")
        XCTAssertEqual(info.inputs.map(\.name), ["input_layer", "input_layer_1"])
        XCTAssertEqual(info.inputs[0].dimensions, ["batch", "input_layer_dim1", "4"])
        XCTAssertEqual(info.inputs[0].elementType, "float")
        XCTAssertEqual(info.outputs.map(\.name), ["dense"])
        XCTAssertEqual(info.outputs[0].dimensions, ["batch", "?", "3"])
        XCTAssertEqual(info.opsets, ["ai.onnx": 17])
        XCTAssertEqual(info.irVersion, 8)
        XCTAssertEqual(info.operatorCounts["LSTM"], 2)
        XCTAssertEqual(info.problems, [])
        XCTAssertTrue(info.table.hasPrefix("ONNX model: IR version 8, opsets ai.onnx 17, produced by rnnkit"), info.table)
    }

    func testOutputNamesAreKerasNamesMadeUnique() throws {
        // Output 1 of layer `bidirectional` would be named like the layer `bidirectional_1`, and an
        // output may be named like an input: each graph value keeps one name.
        let outputs = [TensorRef(layer: "bidirectional", index: 0), TensorRef(layer: "bidirectional", index: 1),
                       TensorRef(layer: "bidirectional_1"), TensorRef(layer: "ids"), TensorRef(layer: "dense")]
        XCTAssertEqual(ONNXGraphBuilder.outputNames(outputs, taken: ["ids", "dense_output"]),
                       ["bidirectional_0", "bidirectional_1", "bidirectional_1_output", "ids_output", "dense"])
        XCTAssertEqual(ONNXGraphBuilder.outputNames([TensorRef(layer: "a", index: 0), TensorRef(layer: "a", index: 1),
                                                     TensorRef(layer: "a_1"), TensorRef(layer: "a_1_output")]),
                       ["a_0", "a_1", "a_1_output", "a_1_output_output"])
    }

    func testWeightsPastTheInlineLimitGoToTheExternalDataFile() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("seq2seq/keras3.keras")).checked()
        let inline = try ONNXExport.modelProto(model)
        let small = try ONNXExport.files(model, dataLocation: "m.onnx.data", external: false)
        XCTAssertTrue(small.externalData.isEmpty, "seq2seq's weights are far below 2 GB")
        let weightBytes = inline.graph.initializer.reduce(0) { $0 + $1.rawData.count }
        let files = try ONNXExport.files(model, dataLocation: "m.onnx.data", external: false, inlineLimit: weightBytes - 1)
        let proto = try Onnx_ModelProto(serializedBytes: files.model)
        XCTAssertFalse(files.externalData.isEmpty)
        var data = Data()
        for (offset, bytes) in files.externalData {
            XCTAssertEqual(offset % ONNXExport.externalAlignment, 0)
            data += Data(count: offset - data.count) + bytes
        }
        // Each float tensor is the same message with its bytes moved to the data file; the int64
        // shapes and axes stay for shape inference.
        for (written, original) in zip(proto.graph.initializer, inline.graph.initializer) {
            guard written.dataLocation == .external else {
                XCTAssertEqual(written, original)
                XCTAssertNotEqual(original.dataType, Int32(Onnx_TensorProto.DataType.float.rawValue), original.name)
                continue
            }
            let entries = Dictionary(uniqueKeysWithValues: written.externalData.map { ($0.key, $0.value) })
            XCTAssertEqual(entries["location"], "m.onnx.data")
            let offset = try XCTUnwrap(Int(entries["offset"] ?? "")), length = try XCTUnwrap(Int(entries["length"] ?? ""))
            XCTAssertEqual(data[offset..<offset + length], original.rawData, written.name)
            XCTAssertTrue(written.rawData.isEmpty)
            XCTAssertEqual(written.dims, original.dims)
        }
        XCTAssertEqual(proto.graph.node, inline.graph.node)
    }

    func testONNXOptionsOnOtherFormatsAreBadUsage() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("simple_rnn/keras3.keras"))
        let target = NSTemporaryDirectory() + "rnnkit-\(UUID().uuidString).h5"
        for (write, message) in [({ try model.write(to: target, opset: 17) }, "--opset is for .onnx files"),
                                 ({ try model.write(to: target, externalData: true) }, "external data is for .onnx files")]
            as [(() throws -> Void, String)] {
            XCTAssertThrowsError(try write()) { error in
                XCTAssertEqual((error as? RNNKitError)?.kind, .badUsage)
                XCTAssertEqual((error as? RNNKitError)?.message, message)
                XCTAssertEqual((error as? RNNKitError)?.file, target)
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
    }

    func testExternalDataIsCheckedWithoutBeingRead() throws {
        var weight = ONNXGraphBuilder.floatTensor("w", Tensor(shape: [2], scalars: [1, 2]))
        weight.rawData = Data()
        weight.dataLocation = .external
        func problems(_ entries: [String: String]) -> [String] {
            weight.externalData = entries.sorted { $0.key < $1.key }.map { key, value in
                var entry = Onnx_StringStringEntryProto()
                entry.key = key
                entry.value = value
                return entry
            }
            return ONNXModelInfo.externalDataProblems(weight, folder: FixtureFiles.path("seq2seq")).map(\.description)
        }
        XCTAssertEqual(problems(["location": "keras3.keras", "offset": "4", "length": "8"]), [])
        XCTAssertEqual(problems(["location": "../seq2seq/keras3.keras"]), [
            "error: initializer w: external data needs a location relative to the model's folder, inside it; "
                + "got '../seq2seq/keras3.keras'",
        ])
        XCTAssertEqual(problems(["location": "/etc/passwd"]).count, 1)
        XCTAssertEqual(problems(["location": "keras3.keras", "length": "12"]),
                       ["error: initializer w: external data of 12 bytes does not fill shape [2]"])
        XCTAssertEqual(problems(["location": "keras3.keras", "offset": "-1"]),
                       ["error: initializer w: external data offset and length must be numbers of bytes"])
        XCTAssertEqual(problems(["location": "keras3.keras", "offset": "\(Int.max)"]),
                       ["error: initializer w: external data file 'keras3.keras' is missing or ends before byte "
                        + "\(Int.max)"])
        XCTAssertEqual(problems(["location": "absent.data"]),
                       ["error: initializer w: external data file 'absent.data' is missing or ends before byte 8"])
    }

    func testGraphProblemsAreListedAndBrokenBytesRefused() throws {
        var relu = Onnx_NodeProto()
        relu.opType = "Relu"
        relu.input = ["missing"]
        relu.output = ["y"]
        var again = relu
        again.input = ["y"]
        var output = Onnx_ValueInfoProto()
        output.name = "z"
        var weight = ONNXGraphBuilder.floatTensor("w", Tensor(shape: [2], scalars: [1, 2]))
        weight.dims = [3]
        var proto = Onnx_ModelProto()
        proto.irVersion = 8
        proto.graph.node = [relu, again]
        proto.graph.output = [output]
        proto.graph.initializer = [weight]
        let info = try ONNXModelInfo(bytes: proto.serializedData(), source: "bad.onnx")
        XCTAssertEqual(info.problems.map(\.description), [
            "error: /opset_import: no opset for the default domain (ai.onnx)",
            "error: initializer w: raw data of 8 bytes does not fill shape [3]",
            "error: node 0 (Relu): input 'missing' is not made before this node",
            "error: node 1 (Relu): 'y' is defined more than once",
            "error: output z: no node, input or initializer makes it",
        ])
        XCTAssertThrowsError(try ONNXModelInfo(bytes: Data([0x08, 0x08, 0x3A, 0xFF]), source: "t.onnx")) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .unreadable)
            XCTAssertTrue((error as? RNNKitError)?.message.hasPrefix("not an ONNX model") == true, "\(error)")
        }
        XCTAssertTrue(ONNXModelInfo.looksLikeONNX([0x08, 0x08, 0x12, 0x06]))
        XCTAssertFalse(ONNXModelInfo.looksLikeONNX(Array("{\"a\"".utf8)))
    }
}
