import Foundation
import RNNKit
@testable import rnnkit
import RNNKitTestSupport
import XCTest

/// `rnnkit bench`'s measurements, in process.
final class BenchmarkTests: XCTestCase {
    /// The loading measurement of `rnnkit bench`: real times, and the weights' size from the model.
    func testLoadingIsMeasuredAgainstReadingTheFile() throws {
        let path = FixtureFiles.path("simple_rnn/keras3.keras")
        let (model, loading) = try Benchmark.measureLoading(of: [path]) { try Model.load(contentsOf: path) }
        XCTAssertTrue(model.layers.contains { $0.name == "simple_rnn" })
        XCTAssertEqual(loading.weightBytes, 31 * 4)
        XCTAssertGreaterThan(loading.readMilliseconds, 0)
        XCTAssertGreaterThan(loading.loadMilliseconds, 0)
        #if os(Linux)
        XCTAssertNotNil(loading.peakAddedBytes)
        #endif
    }

    /// Random inputs take the model's shapes, and token ids stay inside every vocabulary.
    func testRandomInputsFitTheModel() throws {
        let predictor = try Predictor(Model.load(contentsOf: FixtureFiles.path("embedding_mask/keras3.keras")))
        let inputs = try Benchmark.randomInputs(for: predictor, batch: 3, steps: 7)
        let spec = predictor.inputSpecs[0]
        XCTAssertEqual(inputs[0].shape, try spec.concreteShape(batch: 3, steps: 7))
        let limit = try XCTUnwrap(predictor.tokenIDLimit)
        XCTAssertTrue(inputs[0].scalars.allSatisfy { $0 >= 0 && $0 < Float(limit) && $0 == $0.rounded() })
        XCTAssertNoThrow(try predictor.predict(inputs))
    }

    /// SimpleRNN(3) on (4, 5) then Dense(1): 2·4 steps·(5 + 3)·3 for the cell, 2·3 for the Dense.
    func testFlopsCountTheMultiplyAdds() throws {
        let predictor = try Predictor(Model.load(contentsOf: FixtureFiles.path("simple_rnn/keras3.keras")))
        XCTAssertEqual(try predictor.flops(batch: 1, steps: 100), 2 * 4 * 8 * 3 + 2 * 3)
        XCTAssertEqual(try predictor.flops(batch: 5, steps: 100), 5 * (2 * 4 * 8 * 3 + 2 * 3))
    }

    /// One median per layer call, in the order the graph runs them, the model inputs left out.
    func testLayerTimesNameEveryLayerCall() throws {
        let predictor = try Predictor(Model.load(contentsOf: FixtureFiles.path("conv1d_stack/keras3.keras")))
        let times = try Benchmark.layerTimes(predictor, batch: 2, steps: 10, runs: 3)
        XCTAssertEqual(times.map(\.name), ["embedding", "conv1d", "max_pooling1d", "lstm", "dense"])
        XCTAssertEqual(times.map(\.className), ["Embedding", "Conv1D", "MaxPooling1D", "LSTM", "Dense"])
        XCTAssertTrue(times.allSatisfy { $0.medianMs > 0 && $0.medianMs.isFinite }, "\(times)")
    }
}
