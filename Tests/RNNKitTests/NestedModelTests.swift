import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// Models used as layers (of a Functional or a Sequential model, at any depth, or wrapped in
/// TimeDistributed) are flattened into the outer model; Keras's numbers, summaries and written
/// files are checked for every fixture (nested_models, nested_in_sequential, nested_two_deep,
/// nested_siamese, time_distributed_nested among them) by
/// InferenceTests, FixtureModelTests and KerasWriterTests. These check the flattening itself.
final class NestedModelTests: XCTestCase {
    func testNestedLayersAreNamedAfterTheirModelAndSummarizedAsOneRow() throws {
        for file in ["keras3.keras", "keras3.h5", "tfkeras.h5"] {
            let model = try Model.load(contentsOf: FixtureFiles.path("nested_models/\(file)"))
            XCTAssertEqual(model.problems, [], file)
            let nested = model.layers.filter { $0.nestedIn != nil }
            XCTAssertEqual(nested.map(\.name), ["encoder.dense", "encoder.lstm", "head.dense_1", "head.gru"], file)
            XCTAssertEqual(nested.map { $0.nestedIn?.className }, ["Sequential", "Sequential", "Functional", "Functional"])
            XCTAssertEqual(Set(nested[1].weights.keys), ["kernel", "recurrent_kernel", "bias"], file)
            let summary = ModelSummary(model)
            XCTAssertEqual(summary.rows.map(\.name).dropFirst(), ["encoder", "head", "dense_2"], file)
            XCTAssertEqual(summary.rows.map(\.params), [0, 112, 120, 10], file)
            XCTAssertEqual(summary.rows.map(\.outputShapes).dropFirst(), [[[nil, 5, 3]], [[nil, 4]], [[nil, 2]]], file)
        }
    }

    func testPlotDrawsANestedModelAsOneBoxOrExpandedAsACluster() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("nested_models/keras3.keras"))
        let collapsed = try ModelDiagram(model, options: .init(showParams: true)).dot
        XCTAssertTrue(collapsed.contains("<b>encoder</b> (Sequential)"), collapsed)
        XCTAssertTrue(collapsed.contains("Params: <b>120</b>"), collapsed)
        XCTAssertFalse(collapsed.contains("encoder.lstm") || collapsed.contains("cluster"), collapsed)
        let expanded = try ModelDiagram(model, options: .init(expandNested: true)).dot
        XCTAssertEqual(expanded.components(separatedBy: "subgraph cluster_").count, 3, expanded)
        XCTAssertTrue(expanded.contains("label=<<b>head</b> (Functional)>"), expanded)
        XCTAssertTrue(expanded.contains("<b>encoder.lstm</b> (LSTM)"), expanded)
    }

    /// A model called on two inputs (a siamese encoder) keeps one weight set: each of its layers
    /// is called once per call of the model, and a later layer or model output reads the call it
    /// names (tf_keras numbers the calls from 1; Keras 3 from 0, but from 1 in output_layers).
    /// Keras's numbers and summary: InferenceTests and FixtureModelTests (nested_siamese).
    func testANestedModelCalledTwiceCallsItsLayersOncePerCallWithOneWeightSet() throws {
        for file in ["keras3.keras", "keras3.h5", "tfkeras.h5"] {
            let model = try Model.load(contentsOf: FixtureFiles.path("nested_siamese/\(file)"))
            XCTAssertEqual(model.problems, [], file)
            let layers = Dictionary(uniqueKeysWithValues: model.layers.map { ($0.name, $0) })
            let dense = try XCTUnwrap(layers["encoder.dense"], file), lstm = try XCTUnwrap(layers["encoder.lstm"], file)
            XCTAssertEqual(dense.nodes.map(\.inputs), model.inputs.map { [$0] }, file)
            XCTAssertEqual(lstm.nodes.map(\.inputs), [[TensorRef(layer: "encoder.dense", node: 0)],
                                                      [TensorRef(layer: "encoder.dense", node: 1)]], file)
            XCTAssertEqual(Set(lstm.weights.keys), ["kernel", "recurrent_kernel", "bias"], file)
            XCTAssertEqual(layers["subtract"]?.nodes.map(\.inputs), [[TensorRef(layer: "encoder.lstm", node: 0),
                                                                      TensorRef(layer: "encoder.lstm", node: 1)]], file)
            XCTAssertEqual(model.outputs, [TensorRef(layer: "dense_1"), TensorRef(layer: "encoder.lstm", node: 1)], file)
            let summary = ModelSummary(model)
            XCTAssertEqual(summary.rows.map(\.name).suffix(3), ["encoder", "subtract", "dense_1"], file)
            XCTAssertEqual(summary.rows.map(\.params).suffix(3), [112, 0, 4], file)
        }
    }

    /// A Sequential called twice: Keras 3 numbers its calls from 0 in output_layers too (it is no
    /// Functional), tf_keras from 1.
    func testANestedSequentialCalledTwiceGivesEachCallsOutput() throws {
        func config(_ call: (String) -> String, outputs: String) -> String {
            #"""
            {"class_name": "Functional", "config": {"name": "pair", "layers": [
              {"class_name": "InputLayer", "name": "a", "config": {"batch_shape": [null, 3], "name": "a"}, "inbound_nodes": []},
              {"class_name": "InputLayer", "name": "b", "config": {"batch_shape": [null, 3], "name": "b"}, "inbound_nodes": []},
              {"class_name": "Sequential", "name": "seq", "config": {"name": "seq", "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [null, 3], "name": "x"}},
                {"class_name": "Dense", "config": {"name": "d", "units": 2}}]},
               "inbound_nodes": [\#(call("a")), \#(call("b"))]}],
              "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": \#(outputs)}}
            """#
        }
        let keras3 = config({ #"{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["\#($0)", 0, 0]}}]}"# },
                            outputs: #"[["seq", 0, 0], ["seq", 1, 0]]"#)
        let tfKeras = config({ #"[["\#($0)", 0, 0, {}]]"# }, outputs: #"[["seq", 1, 0], ["seq", 2, 0]]"#)
        for (text, version) in [(keras3, "3.15.1"), (tfKeras, "2.21.0")] {
            let model = try KerasModelConfig.parse(JSONParser.parse(text), kerasVersion: version, source: "pair.json")
            XCTAssertEqual(model.problems, [], version)
            XCTAssertEqual(model.outputs, [TensorRef(layer: "seq.d", node: 0), TensorRef(layer: "seq.d", node: 1)], version)
            XCTAssertEqual(model.layers.last?.nodes.map(\.inputs), [[TensorRef(layer: "a")], [TensorRef(layer: "b")]], version)
        }
    }

    func testACallOfANestedModelThatDoesNotExistIsAnError() throws {
        // tf_keras numbers the encoder's two calls 1 and 2: a third is no tensor of the graph.
        let text = try String(contentsOfFile: FixtureFiles.path("nested_siamese/tfkeras.json"), encoding: .utf8)
            .replacingOccurrences(of: #"["encoder", 2, 0, {}]"#, with: #"["encoder", 3, 0, {}]"#)
        let model = try KerasModelConfig.parse(JSONParser.parse(text), kerasVersion: nil, source: "shared.json")
        let errors = GraphAnalysis(model).problems.filter { $0.severity == .error }.map(\.description)
        XCTAssertEqual(errors, ["error: subtract: input 1 (encoder): reference to call 3, output 0 of nested model "
                                + "'encoder', which it does not make"])
    }

    /// A nested model that no node calls, and a TimeDistributed of a model called twice, are
    /// refused by name and place.
    func testANestedModelNeverCalledAndATimeDistributedModelCalledTwiceAreRefused() throws {
        let text = #"""
        {"class_name": "Functional", "config": {"name": "outer", "layers": [
          {"class_name": "InputLayer", "name": "a", "config": {"batch_shape": [null, 4, 3], "name": "a"}, "inbound_nodes": []},
          {"class_name": "InputLayer", "name": "b", "config": {"batch_shape": [null, 4, 3], "name": "b"}, "inbound_nodes": []},
          {"class_name": "Sequential", "name": "unused", "config": {"name": "unused", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 3], "name": "y"}},
            {"class_name": "Dense", "config": {"name": "e", "units": 2}}]}, "inbound_nodes": []},
          {"class_name": "TimeDistributed", "name": "td", "config": {"name": "td", "layer": {"class_name": "Sequential",
            "config": {"name": "steps", "layers": [
              {"class_name": "InputLayer", "config": {"batch_shape": [null, 3], "name": "x"}},
              {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}},
           "inbound_nodes": [[["a", 0, 0, {}]], [["b", 0, 0, {}]]]}],
          "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["a", 0, 0]]}}
        """#
        let model = try KerasModelConfig.parse(JSONParser.parse(text), kerasVersion: "2.21.0", source: "outer.json")
        let errors = model.problems.filter { $0.severity == .error }.map(\.description)
        XCTAssertTrue(errors.contains("error: unused (/config/layers/2/inbound_nodes): a nested model that is never "
                                      + "called is not supported"), "\(errors)")
        XCTAssertTrue(errors.contains("error: td (/config/layers/3/inbound_nodes): a TimeDistributed of a model "
                                      + "called 2 times is not supported"), "\(errors)")
    }

    func testModelsNestedInASequentialAreFlattenedInItsChain() throws {
        for file in ["keras3.keras", "keras3.h5", "tfkeras.h5"] {
            let model = try Model.load(contentsOf: FixtureFiles.path("nested_in_sequential/\(file)"))
            XCTAssertEqual(model.problems, [], file)
            XCTAssertTrue(model.isSequential, file)
            XCTAssertEqual(model.layers.map(\.name).dropFirst(),
                           ["embedding", "encoder.dense", "encoder.lstm", "head.gru", "lstm_1", "dense_1"], file)
            // The layer after a nested model reads its output, the nested model's first layer the one before.
            XCTAssertEqual(model.layers[2].nodes.map(\.inputs), [[TensorRef(layer: "embedding")]], file)
            XCTAssertEqual(model.layers[5].nodes.map(\.inputs), [[TensorRef(layer: "head.gru")]], file)
            let summary = ModelSummary(model)
            XCTAssertEqual(summary.rows.map(\.name), ["embedding", "encoder", "head", "lstm_1", "dense_1"], file)
        }
    }

    func testAModelNestedTwoDeepIsFlattenedWithBothOrigins() throws {
        for file in ["keras3.keras", "keras3.h5", "tfkeras.h5"] {
            let model = try Model.load(contentsOf: FixtureFiles.path("nested_two_deep/\(file)"))
            XCTAssertEqual(model.problems, [], file)
            let nested = model.layers.filter { !$0.nesting.isEmpty }
            XCTAssertEqual(nested.map(\.name), ["middle.inner.dense", "middle.inner.lstm", "middle.gru"], file)
            XCTAssertEqual(nested[1].nesting.map(\.model), ["middle", "middle.inner"], file)
            XCTAssertEqual(nested[1].nesting.map(\.className), ["Functional", "Sequential"], file)
            XCTAssertEqual(nested[1].nesting.last?.output, TensorRef(layer: "middle.inner.lstm"), file)
            XCTAssertEqual(Set(nested[1].weights.keys), ["kernel", "recurrent_kernel", "bias"], file)
            XCTAssertEqual(ModelSummary(model).rows.map(\.name), ["masking", "middle", "dense_1"], file)
        }
        XCTAssertEqual(Keras3WeightsH5.groupNames(try Model.load(contentsOf: FixtureFiles.path("nested_two_deep/keras3.keras")))
                           .values.sorted(),
                       ["dense", "functional/layers/gru", "functional/layers/sequential/layers/dense",
                        "functional/layers/sequential/layers/lstm", "masking"])
        // One cluster, the outermost nested model's, holds the layers of the model nested in it.
        let expanded = try ModelDiagram(try Model.load(contentsOf: FixtureFiles.path("nested_two_deep/keras3.keras")),
                                        options: .init(expandNested: true)).dot
        XCTAssertEqual(expanded.components(separatedBy: "subgraph cluster_").count, 2, expanded)
        XCTAssertTrue(expanded.contains("<b>middle.inner.lstm</b> (LSTM)"), expanded)
    }

    func testANestedModelWithTwoOutputsInASequentialIsRefused() throws {
        let text = #"""
        {"class_name": "Sequential", "config": {"name": "outer", "layers": [
          {"class_name": "InputLayer", "config": {"batch_shape": [null, 5, 3], "name": "in"}},
          {"class_name": "Functional", "config": {"name": "inner", "layers": [
            {"class_name": "InputLayer", "name": "x", "config": {"batch_shape": [null, 5, 3], "name": "x"}, "inbound_nodes": []},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [[["x", 0, 0, {}]]]}],
            "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0], ["x", 0, 0]]}}]}}
        """#
        let model = try KerasModelConfig.parse(JSONParser.parse(text), kerasVersion: "2.21.0", source: "outer.json")
        XCTAssertEqual(model.problems.map(\.description),
                       ["error: inner (/config/layers/1): a model in a Sequential model must have one output, it has 2"])
    }

    func testATimeDistributedModelIsFlattenedIntoTimeDistributedLayers() throws {
        for file in ["keras3.keras", "keras3.h5", "tfkeras.h5"] {
            let model = try Model.load(contentsOf: FixtureFiles.path("time_distributed_nested/\(file)"))
            XCTAssertEqual(model.problems, [], file)
            let nested = model.layers.filter { !$0.nesting.isEmpty }
            XCTAssertEqual(nested.map(\.name), ["time_distributed.conv2d", "time_distributed.max_pooling2d",
                                                 "time_distributed.flatten", "time_distributed_1.dense",
                                                 "time_distributed_1.dense_1"], file)
            XCTAssertEqual(Set(nested.map(\.className)), ["TimeDistributed"], file)
            XCTAssertEqual(Set(nested[0].weights.keys), ["kernel", "bias"], file)
            let summary = ModelSummary(model)
            XCTAssertEqual(summary.rows.map(\.name), ["time_distributed", "time_distributed_1", "lstm", "dense_2"], file)
            XCTAssertEqual(summary.rows.map(\.params), [20, 51, 84, 8], file)
            XCTAssertEqual(summary.rows.map(\.outputShapes).prefix(2), [[[nil, 4, 8]], [[nil, 4, 3]]], file)
        }
        let keras3 = try Model.load(contentsOf: FixtureFiles.path("time_distributed_nested/keras3.keras"))
        XCTAssertEqual(Keras3WeightsH5.groupNames(keras3).values.sorted(),
                       ["dense", "lstm", "time_distributed/layer/layers/conv2d", "time_distributed/layer/layers/flatten",
                        "time_distributed/layer/layers/max_pooling2d", "time_distributed_1/layer/layers/dense",
                        "time_distributed_1/layer/layers/dense_1"])
        let expanded = try ModelDiagram(keras3, options: .init(expandNested: true)).dot
        XCTAssertTrue(expanded.contains("label=<<b>time_distributed</b> (TimeDistributed)>"), expanded)
        XCTAssertTrue(expanded.contains("<b>time_distributed.conv2d</b>"), expanded)
    }

    func testATimeDistributedModelOfALayerWithoutAStepFormIsRefusedByName() throws {
        let text = #"""
        {"class_name": "Sequential", "config": {"name": "outer", "layers": [
          {"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 3], "name": "in"}},
          {"class_name": "TimeDistributed", "config": {"name": "td", "layer": {"class_name": "Sequential",
            "config": {"name": "steps", "layers": [
              {"class_name": "InputLayer", "config": {"batch_shape": [null, 3], "name": "x"}},
              {"class_name": "Masking", "config": {"name": "m", "mask_value": 0.0}}]}}}}]}}
        """#
        let model = try KerasModelConfig.parse(JSONParser.parse(text), kerasVersion: "3.15.1", source: "outer.json")
        XCTAssertEqual(model.problems.map(\.description),
                       ["error: td.m (/config/layers/1/config/layer/config/layers/1): TimeDistributed of 'Masking' is not "
                        + "supported: it would make a mask for every step"])
    }
}
