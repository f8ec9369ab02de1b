import Foundation
import RNNKit
import RNNKitServer
import RNNKitTestSupport
import XCTest

/// Batching, graceful shutdown and a short, bounded load: many clients, every answer checked.
final class ServeLoadTests: XCTestCase {
    /// One Keras row of lstm_sequences as a request body, and its Keras output.
    struct Case: Sendable {
        var body: [UInt8]
        var expected: [Float]
    }

    static func lstmCases() throws -> [Case] {
        let input = try FixtureArrays.tensor("lstm_sequences/input_0.npy")
        let expected = try FixtureArrays.tensor("lstm_sequences/expected_keras3_0.npy")
        let rowSize = expected.count / expected.shape[0]
        return (0..<input.shape[0]).map { row in
            Case(body: Array("{\"instances\":\(FixtureArrays.json(input, rows: row..<row + 1))}".utf8),
                 expected: Array(expected.scalars[row * rowSize..<(row + 1) * rowSize]))
        }
    }

    /// Concurrent one-row requests are run as batches, and each gets what it gets alone.
    func testConcurrentRequestsAreBatchedAndAgreeWithUnbatchedRuns() async throws {
        let server = try await RunningServer.start([("gru", "gru_reset_after/keras3.keras")],
                                                   configure: { $0.batchWindowMicroseconds = 50_000 })
        addTeardownBlock { try await server.stop() }
        let predictor = try XCTUnwrap(server.server.models["gru"]).predictor
        // 24 different sequences: scaled copies of the fixture's rows.
        let input = try FixtureArrays.tensor("gru_reset_after/input_0.npy")
        let rowSize = input.count / input.shape[0]
        let rows = (0..<24).map { index -> Tensor in
            let base = index % input.shape[0]
            let scale = 1 + Float(index) / 10
            return Tensor(shape: [1] + input.shape.dropFirst(),
                          scalars: input.scalars[base * rowSize..<(base + 1) * rowSize].map { $0 * scale })
        }
        let port = server.port
        let answers = try await withThrowingTaskGroup(of: (Int, HTTPResult).self) { group in
            for (index, row) in rows.enumerated() {
                let body = Array("{\"instances\":\(FixtureArrays.json(row))}".utf8)
                group.addTask {
                    (index, try await onThread { try HTTPConnection(port: port).send("POST", "/v1/models/gru:predict", body: body) })
                }
            }
            var answers: [Int: HTTPResult] = [:]
            for try await (index, answer) in group { answers[index] = answer }
            return answers
        }
        for (index, row) in rows.enumerated() {
            let answer = try XCTUnwrap(answers[index])
            XCTAssertEqual(answer.status, 200, answer.text)
            let json = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
            let alone = try predictor.predict([row])[0].scalars
            assertClose(FixtureArrays.flatten(json?["predictions"] ?? []), alone, tolerance: 1e-6, "row \(index)")
        }
        let metrics = try await server.request("GET", "/monitoring/prometheus/metrics").text
        // The batch-size histogram saw fewer batches than requests: some batches held several rows.
        let batches = metrics.split(separator: "\n").first { $0.hasPrefix("rnnkit_serve_batch_rows_count{model=\"gru\"}") }
        let count = batches.flatMap { Int($0.split(separator: " ").last ?? "") }
        XCTAssertNotNil(count, metrics)
        XCTAssertLessThan(count ?? 99, 24, "24 concurrent requests ran in \(count ?? 0) batches")
    }

    /// A graceful shutdown answers every request already accepted, then refuses connections.
    func testGracefulShutdownAnswersRequestsInFlight() async throws {
        // A long batch window keeps the requests in flight when the shutdown starts.
        let server = try await RunningServer.start([("lstm", "lstm_sequences/keras3.keras")],
                                                   configure: { $0.batchWindowMicroseconds = 400_000 })
        let cases = try Self.lstmCases()
        let port = server.port
        let connections = try (0..<12).map { _ in try HTTPConnection(port: port) }
        let answers = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for (index, connection) in connections.enumerated() {
                let body = cases[index % cases.count].body
                nonisolated(unsafe) let connection = connection
                group.addTask { try await onThread { try connection.send("POST", "/v1/models/lstm:predict", body: body) } }
            }
            try await Task.sleep(for: .milliseconds(150))
            await server.server.shutdown()
            var answers: [HTTPResult] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        XCTAssertEqual(answers.map(\.status), Array(repeating: 200, count: 12), answers.map(\.text).joined())
        try await server.stop()
        XCTAssertThrowsError(try HTTPConnection(port: port), "the server no longer accepts connections")
    }

    /// 64 concurrent keep-alive clients for a bounded time (about 3 s, at most 400 requests
    /// each); every answer is checked against Keras's numbers. The 20 s measurement is
    /// docs/deploy/load-test.sh (README, "Serving").
    func testSixtyFourConcurrentClientsGetKerasNumbers() async throws {
        let server = try await RunningServer.start([("lstm", "lstm_sequences/keras3.keras")])
        addTeardownBlock { try await server.stop() }
        let cases = try Self.lstmCases()
        let port = server.port
        let deadline = Date().addingTimeInterval(3)
        let results = try await withThrowingTaskGroup(of: (ok: Int, failures: [String]).self) { group in
            for client in 0..<64 {
                group.addTask {
                    try await onThread {
                        let connection = try HTTPConnection(port: port)
                        var ok = 0, failures: [String] = []
                        var request = 0
                        while request < 400 && Date() < deadline && failures.count < 3 {
                            let sample = cases[(client + request) % cases.count]
                            request += 1
                            let answer = try connection.send("POST", "/v1/models/lstm:predict", body: sample.body)
                            let json = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
                            let values = FixtureArrays.flatten(json?["predictions"] ?? [])
                            let worst = zip(values, sample.expected).map { abs($0 - $1) }.max() ?? .infinity
                            if answer.status == 200 && values.count == sample.expected.count && worst <= 1e-5 {
                                ok += 1
                            } else {
                                failures.append("\(answer.status) \(answer.text.prefix(200))")
                            }
                        }
                        return (ok, failures)
                    }
                }
            }
            var total = 0, failures: [String] = []
            for try await result in group {
                total += result.ok
                failures += result.failures
            }
            return (total, failures)
        }
        XCTAssertEqual(results.1, [], "failed answers")
        XCTAssertGreaterThan(results.0, 64, "each client got answers")
        print("ServeLoadTests: 64 clients, \(results.0) checked predictions in about 3 s")
    }
}
