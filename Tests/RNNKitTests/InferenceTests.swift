import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// Every fixture, in every file format, predicts what Keras predicted (max abs error ≤ 1e-5).
final class InferenceTests: XCTestCase {
    func testEveryFixtureMatchesKerasOutputsInEveryFormat() throws {
        var worst: (error: Float, file: String) = (0, "")
        var checked = 0
        for fixture in try FixtureFiles.manifest() {
            let inputs = try FixtureFiles.inputs(of: fixture.name)
            for writer in fixture.writers {
                let expected = try FixtureFiles.kerasOutputs(of: fixture.name, writer: writer)
                for (modelPath, weightsPath) in FixtureFiles.files(of: fixture.name, writer: writer) {
                    let outputs = try Predictor(contentsOf: modelPath, weights: weightsPath).predict(inputs)
                    let error = assertClose(outputs, expected, modelPath)
                    if error > worst.error { worst = (error, modelPath) }
                    checked += 1
                }
            }
        }
        print("InferenceTests: \(checked) model files, worst max abs error \(worst.error) in \(worst.file)")
        XCTAssertGreaterThanOrEqual(checked, 75)
    }

    /// Threads split a batch's rows, and every row is computed the same way on any thread: the
    /// outputs must be bit-identical to one thread's. (The fixtures are small: any work is split.)
    func testSeveralThreadsGiveTheSameOutputsAsOne() throws {
        splitAnyWork()
        for fixture in try FixtureFiles.manifest() {
            let inputs = try FixtureFiles.inputs(of: fixture.name)
            guard let (modelPath, weightsPath) = FixtureFiles.files(of: fixture.name, writer: fixture.writers[0]).first
            else { continue }
            let predictor = try Predictor(contentsOf: modelPath, weights: weightsPath)
            RNNKitRuntime.setThreadCount(1)
            let single = try predictor.predict(inputs)
            for threads in [2, 3] {
                RNNKitRuntime.setThreadCount(threads)
                XCTAssertEqual(try predictor.predict(inputs), single, "\(modelPath) on \(threads) threads")
            }
        }
    }

    /// Batches of six rows and more take the stacked product ([x_t, h] by [kernel;
    /// recurrent_kernel]); the fixtures' inputs repeated four times along the batch must still
    /// give Keras's outputs, row by row, on one thread and split among three, and the same
    /// outputs on both.
    func testLargeBatchesMatchKerasOutputs() throws {
        splitAnyWork()
        func repeated(_ tensor: Tensor) -> Tensor {
            Tensor(shape: [tensor.shape[0] * 4] + tensor.shape.dropFirst(),
                   scalars: Array((0..<4).map { _ in tensor.scalars }.joined()))
        }
        for fixture in try FixtureFiles.manifest() {
            let writer = fixture.writers[0]
            guard let (modelPath, weightsPath) = FixtureFiles.files(of: fixture.name, writer: writer).first
            else { continue }
            let inputs = try FixtureFiles.inputs(of: fixture.name).map(repeated)
            let expected = try FixtureFiles.kerasOutputs(of: fixture.name, writer: writer).map(repeated)
            let predictor = try Predictor(contentsOf: modelPath, weights: weightsPath)
            // A model with a fixed batch size (stateful layers need one) takes no other.
            if predictor.model.layers.contains(where: { ($0.kind?.inputLayer?.batchShape.first ?? nil) != nil }) { continue }
            var single: [Tensor] = []
            for threads in [1, 3] {
                RNNKitRuntime.setThreadCount(threads)
                let outputs = try predictor.predict(inputs)
                if threads == 1 { single = outputs } else { XCTAssertEqual(outputs, single, modelPath) }
                assertClose(outputs, expected, "\(modelPath) on \(threads) threads")
            }
        }
    }

    func testWrongInputsAreRefusedWithTheReason() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("simple_rnn/keras3.keras"))
        let cases: [([Tensor], String)] = [
            ([], "takes 1 input(s), got 0"),
            ([Tensor(zeros: [2, 4])], "expects shape (None, 4, 5), got (2, 4)"),
            ([Tensor(zeros: [2, 4, 6])], "expects shape (None, 4, 5), got (2, 4, 6)"),
        ]
        for (inputs, message) in cases {
            XCTAssertThrowsError(try predictor.predict(inputs)) { error in
                XCTAssertEqual((error as? RNNKitError)?.kind, .badUsage)
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    func testTokenOutsideVocabularyIsRefused() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("embedding_mask/keras3.keras"))
        let ids = Tensor(shape: [1, 6], scalars: [1, 2, 3, 20, 0, 0])
        XCTAssertThrowsError(try predictor.predict([ids])) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .badUsage)
            XCTAssertTrue("\(error)".contains("token id 20.0 is outside the vocabulary [0, 20)"), "\(error)")
        }
    }

    func testConcurrentPredictionsAgree() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("stacked_lstm/keras3.keras"))
        let inputs = try FixtureFiles.inputs(of: "stacked_lstm")
        let reference = try predictor.predict(inputs)
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 16)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            results[index] = (try? predictor.predict(inputs)) == reference
        }
        XCTAssertTrue(results.allSatisfy { $0 })
    }

    func testInvalidModelDoesNotRun() {
        XCTAssertThrowsError(try Predictor(contentsOf: FixtureFiles.path("malformed/nan_weight.h5"))) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .invalidModel)
            XCTAssertTrue("\(error)".contains("NaN"), "\(error)")
        }
    }
}

/// Feeding a sequence in chunks gives what one whole-sequence run gives.
final class PredictionStreamTests: XCTestCase {
    private func steps(_ tensor: Tensor, _ range: Range<Int>) -> Tensor {
        let batch = tensor.shape[0], length = tensor.shape[1], width = tensor.count / (batch * length)
        var scalars: [Float] = []
        for row in 0..<batch {
            scalars += tensor.scalars[(row * length + range.lowerBound) * width..<(row * length + range.upperBound) * width]
        }
        return Tensor(shape: [batch, range.count] + tensor.shape.dropFirst(2), scalars: scalars)
    }

    func testChunkedSequenceOutputsEqualWholeRun() throws {
        for fixture in ["lstm_sequences", "masking_gru", "stacked_lstm", "embedding_mask"] {
            let predictor = try Predictor(contentsOf: FixtureFiles.path("\(fixture)/keras3.keras"))
            let input = try TensorFile.read(FixtureFiles.path("\(fixture)/input_0.npy"))[0].tensor
            let whole = try predictor.predict([input])[0]
            let stream = try PredictionStream(predictor)
            let length = input.shape[1]
            var pieces: [Tensor] = []
            for range in [0..<1, 1..<3] + [3..<length] {
                pieces.append(try stream.feed([steps(input, range)])[0])
            }
            if whole.rank == 3 {
                let joined = (0..<whole.shape[0]).flatMap { row in
                    pieces.flatMap { piece in
                        let width = piece.count / piece.shape[0]
                        return piece.scalars[row * width..<(row + 1) * width]
                    }
                }
                XCTAssertEqual(joined, whole.scalars, fixture)
            } else {
                XCTAssertEqual(pieces.last, whole, fixture)
            }
            stream.reset()
            XCTAssertEqual(try stream.feed([input])[0], whole, fixture)
        }
    }

    func testModelsThatNeedTheWholeSequenceAreRefused() throws {
        for fixture in ["bidirectional_concat", "seq2seq", "gru_reset_before"] {
            let predictor = try Predictor(contentsOf: FixtureFiles.path("\(fixture)/keras3.keras"))
            XCTAssertThrowsError(try PredictionStream(predictor), fixture) { error in
                XCTAssertTrue("\(error)".contains("cannot stream this model"), "\(error)")
            }
        }
    }
}

/// The README's library example, kept runnable.
final class ReadmeExampleTests: XCTestCase {
    func testSeq2SeqAndStreamingExample() throws {
        let seq2seq = try Predictor(contentsOf: FixtureFiles.path("seq2seq/keras3.keras"))
        let encoderInput = Tensor(shape: [1, 5, 4], scalars: (0..<20).map { Float($0) / 20 })
        let decoderInput = Tensor(shape: [1, 3, 3], scalars: Array(repeating: 0.1, count: 9))
        let outputs = try seq2seq.predict([encoderInput, decoderInput])
        XCTAssertEqual(outputs[0].shape, [1, 3, 3])
        let attention = try Predictor(contentsOf: FixtureFiles.path("attention_seq2seq/keras3.keras"))
        let decoded = try attention.predict([encoderInput, Tensor(shape: [1, 4, 3], scalars: Array(repeating: 0.1, count: 12))])
        XCTAssertEqual(decoded.map(\.shape), [[1, 4, 3], [1, 4, 5]])
        let stream = try PredictionStream(try Predictor(contentsOf: FixtureFiles.path("lstm_sequences/keras3.keras")))
        let firstStep = try stream.feed([Tensor(shape: [1, 1, 3], scalars: [0.1, 0.2, 0.3])])
        XCTAssertEqual(firstStep[0].shape, [1, 1, 2])
    }
}
