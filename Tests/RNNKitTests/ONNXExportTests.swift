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
        // Keras returns a go_backwards layer's outputs in processing order: a reversing Slice.
        XCTAssertEqual(operators(proto)["Slice"], 2)
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

    func testWhatOperatorsCannotComputeIsRefusedByLayerAndReason() throws {
        let cases = [
            // Every layer that stops the export is named, not only the first.
            ("time_distributed_any/keras3.keras", "td_lstm", "cannot export TimeDistributed to ONNX exactly: "
             + "only TimeDistributed(Dense) has an ONNX form yet (and 2 more layer(s) refused: td_conv, td_batchnorm)"),
        ]
        for (file, layer, message) in cases {
            let model = try Model.load(contentsOf: FixtureFiles.path(file))
            XCTAssertThrowsError(try ONNXExport.serialized(model), file) { error in
                let error = error as? RNNKitError
                XCTAssertEqual(error?.kind, .invalidModel, file)
                XCTAssertEqual(error?.location, layer, file)
                XCTAssertTrue(error?.message.contains(message) == true, "\(file): \(String(describing: error))")
            }
        }
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
