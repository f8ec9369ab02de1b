import Foundation
import RNNKit
import RNNKitServer
import RNNKitTestSupport
import XCTest

/// The real server on a loopback port, spoken to over HTTP as a TF Serving client would.
final class ServeAPITests: XCTestCase {
    /// Every fixture, row and columnar, gives Keras's numbers within 1e-5.
    func testEveryFixtureAnswersKerasNumbersInRowAndColumnarFormat() async throws {
        let manifest = try FixtureFiles.manifest()
        let server = try await RunningServer.start(manifest.map { ($0.name, FixtureFiles.mainModel(of: $0).file) })
        addTeardownBlock { try await server.stop() }
        for entry in manifest {
            let (fixture, writer) = (entry.name, FixtureFiles.mainModel(of: entry).writer)
            let model = try XCTUnwrap(server.server.models[fixture])
            let inputs = try model.inputs.indices.map { try FixtureArrays.tensor("\(fixture)/input_\($0).npy") }
            let integers = model.inputs.map { $0.dataType == .int32 }
            let outputNames = model.outputs.map(\.name)
            let expected = try outputNames.indices.map { try FixtureArrays.tensor("\(fixture)/expected_\(writer)_\($0).npy") }

            // Columnar: one tensor, or an object of them.
            let columns = inputs.count == 1 ? FixtureArrays.json(inputs[0], integers: integers[0])
                : "{" + zip(model.inputs, inputs).enumerated().map { index, pair in
                    "\"\(pair.0.name)\":\(FixtureArrays.json(pair.1, integers: integers[index]))"
                }.joined(separator: ",") + "}"
            let columnar = try await server.json("POST", "/v1/models/\(fixture):predict", body: "{\"inputs\":\(columns)}")
            XCTAssertEqual(columnar.status, 200, "\(fixture): \(columnar.json)")
            let outputs = try XCTUnwrap((columnar.json as? [String: Any])?["outputs"], fixture)
            for (index, name) in outputNames.enumerated() {
                let value = outputNames.count == 1 ? outputs : (outputs as? [String: Any])?[name] as Any
                assertClose(FixtureArrays.flatten(value), expected[index].scalars, tolerance: 1e-5, "\(fixture) \(name)")
            }

            // Row format: a list per batch row, objects keyed by input name for several inputs.
            func rowJSON(_ input: Int, _ row: Int) -> String {
                // The row's own list, without the batch axis's brackets.
                String(FixtureArrays.json(inputs[input], integers: integers[input], rows: row..<row + 1).dropFirst().dropLast())
            }
            var rows: [String] = []
            for row in 0..<inputs[0].shape[0] {
                if inputs.count == 1 {
                    rows.append(rowJSON(0, row))
                } else {
                    let members = model.inputs.indices.map { "\"\(model.inputs[$0].name)\":" + rowJSON($0, row) }
                    rows.append("{" + members.joined(separator: ",") + "}")
                }
            }
            let body = "{\"signature_name\":\"serving_default\",\"instances\":[\(rows.joined(separator: ","))]}"
            let rowAnswer = try await server.json("POST", "/v1/models/\(fixture)/versions/1:predict", body: body)
            XCTAssertEqual(rowAnswer.status, 200, "\(fixture): \(rowAnswer.json)")
            let predictions = try XCTUnwrap((rowAnswer.json as? [String: Any])?["predictions"] as? [Any], fixture)
            XCTAssertEqual(predictions.count, inputs[0].shape[0])
            for (index, name) in outputNames.enumerated() {
                let values = outputNames.count == 1 ? predictions
                    : predictions.map { ($0 as? [String: Any])?[name] as Any }
                assertClose(FixtureArrays.flatten(values), expected[index].scalars, tolerance: 1e-5, "\(fixture) rows \(name)")
            }
        }
    }

    func testStatusMetadataHealthAndMetrics() async throws {
        let server = try await RunningServer.start([("seq2seq", "seq2seq/keras3.keras"), ("embedding", "embedding_mask/keras3.h5")])
        addTeardownBlock { try await server.stop() }
        let status = try await server.json("GET", "/v1/models/seq2seq")
        XCTAssertEqual(status.status, 200)
        let versions = try XCTUnwrap((status.json as? [String: Any])?["model_version_status"] as? [[String: Any]])
        XCTAssertEqual(versions.first?["version"] as? String, "1")
        XCTAssertEqual(versions.first?["state"] as? String, "AVAILABLE")
        XCTAssertEqual((versions.first?["status"] as? [String: Any])?["error_code"] as? String, "OK")
        let versioned = try await server.request("GET", "/v1/models/seq2seq/versions/1")
        XCTAssertEqual(versioned.status, 200)

        let metadata = try await server.json("GET", "/v1/models/seq2seq/metadata")
        XCTAssertEqual(metadata.status, 200)
        let root = try XCTUnwrap(metadata.json as? [String: Any])
        XCTAssertEqual((root["model_spec"] as? [String: Any])?["name"] as? String, "seq2seq")
        XCTAssertEqual((root["model_spec"] as? [String: Any])?["version"] as? String, "1")
        let signature = try XCTUnwrap(((root["metadata"] as? [String: Any])?["signature_def"] as? [String: Any])?["signature_def"]
            as? [String: Any])["serving_default"] as? [String: Any]
        XCTAssertEqual(signature?["method_name"] as? String, "tensorflow/serving/predict")
        let inputs = try XCTUnwrap(signature?["inputs"] as? [String: [String: Any]])
        XCTAssertEqual(inputs.count, 2)
        for info in inputs.values {
            XCTAssertEqual(info["dtype"] as? String, "DT_FLOAT")
            let dims = ((info["tensor_shape"] as? [String: Any])?["dim"] as? [[String: Any]])?.compactMap { $0["size"] as? String }
            XCTAssertEqual(dims?.first, "-1", "the batch dimension is any size")
            XCTAssertEqual(dims?.count, 3)
        }
        let outputs = try XCTUnwrap(signature?["outputs"] as? [String: [String: Any]])
        XCTAssertEqual(outputs.count, 1)

        let embedding = try await server.json("GET", "/v1/models/embedding/metadata")
        let embeddingText = String(describing: embedding.json)
        XCTAssertTrue(embeddingText.contains("DT_INT32"), "token ids are DT_INT32: \(embeddingText)")

        let health = try await server.request("GET", "/healthz")
        XCTAssertEqual(health.status, 200)
        let metrics = try await server.request("GET", "/monitoring/prometheus/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.text.contains("rnnkit_serve_requests_total{model=\"seq2seq\",endpoint=\"metadata\",status=\"200\"} 1"),
                      metrics.text)
        XCTAssertTrue(metrics.text.contains("rnnkit_serve_request_duration_seconds_bucket"), metrics.text)
    }

    /// Every error is TF Serving's `{"error": ...}` with its status, naming what was wrong.
    func testErrorsCarryTFServingStatusesAndSayWhatWasWrong() async throws {
        let server = try await RunningServer.start(
            [("lstm", "lstm_sequences/keras3.keras"), ("seq2seq", "seq2seq/keras3.keras"),
             ("embedding", "embedding_mask/keras3.keras"), ("bidi", "bidirectional_concat/keras3.keras")],
            configure: { $0.maxBodyBytes = 4096; $0.maxSessions = 1 })
        addTeardownBlock { try await server.stop() }
        func expectError(_ method: String, _ path: String, _ body: String?, _ status: Int, _ fragments: [String],
                         line: UInt = #line) async throws {
            let answer = try await server.json(method, path, body: body)
            XCTAssertEqual(answer.status, status, "\(path) \(body ?? ""): \(answer.json)", line: line)
            let message = try XCTUnwrap((answer.json as? [String: Any])?["error"] as? String, "\(answer.json)", line: line)
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "'\(message)' lacks '\(fragment)'", line: line)
            }
        }
        let row = "[[0.1,0.2,0.3],[0.1,0.2,0.3],[0.1,0.2,0.3],[0.1,0.2,0.3],[0.1,0.2,0.3]]"
        try await expectError("POST", "/v1/models/lstm:predict", "{\"instances\": [1,", 400, ["JSON Parse error"])
        try await expectError("POST", "/v1/models/lstm:predict", "", 400, ["empty"])
        try await expectError("POST", "/v1/models/lstm:predict", "[1]", 400, ["Is not object"])
        try await expectError("POST", "/v1/models/lstm:predict", "{}", 400, ["Missing 'inputs' or 'instances' key"])
        try await expectError("POST", "/v1/models/lstm:predict", "{\"instances\":[],\"inputs\":[]}", 400, ["only one of"])
        try await expectError("POST", "/v1/models/lstm:predict", "{\"instances\":[]}", 400, ["No values"])
        try await expectError("POST", "/v1/models/lstm:predict", "{\"instances\":[[[1,2],[3,4]]]}", 400,
                              ["input 'input_layer'", "(None, 5, 3)", "(1, 2, 2)"])
        try await expectError("POST", "/v1/models/lstm:predict", "{\"instances\":[\(row), [[1,2,3]]]}", 400,
                              ["element 1", "[1,3]", "[5,3]"])
        try await expectError("POST", "/v1/models/lstm:predict", "{\"instances\":[[[\"a\",0,0],[0,0,0],[0,0,0],[0,0,0],[0,0,0]]]}",
                              400, ["input 'input_layer'", "DT_FLOAT", "String"])
        try await expectError("POST", "/v1/models/lstm:predict", "{\"inputs\":[[[1,2,3],[1,2]]]}", 400, ["rectangular"])
        try await expectError("POST", "/v1/models/lstm:predict", "{\"signature_name\":\"other\",\"instances\":[\(row)]}", 400,
                              ["other", "serving_default"])
        try await expectError("POST", "/v1/models/embedding:predict", "{\"instances\":[[1.5,2,3,4,5,6]]}", 400,
                              ["DT_INT32", "1.5"])
        try await expectError("POST", "/v1/models/embedding:predict", "{\"instances\":[[1000000,2,3,4,5,6]]}", 400, [])
        try await expectError("POST", "/v1/models/seq2seq:predict", "{\"instances\":[\(row)]}", 400, ["list of objects"])
        try await expectError("POST", "/v1/models/seq2seq:predict", "{\"inputs\":{\"x\":[1]}}", 400, ["Missing named input"])
        try await expectError("POST", "/v1/models/nope:predict", "{\"instances\":[1]}", 404, ["Servable not found", "nope"])
        try await expectError("POST", "/v1/models/lstm/versions/2:predict", "{\"instances\":[\(row)]}", 404,
                              ["Specific(lstm, 2)"])
        try await expectError("GET", "/v1/models/lstm/versions/7", nil, 404, ["lstm"])
        try await expectError("GET", "/v1/models/nope/metadata", nil, 404, ["nope"])
        try await expectError("GET", "/v1/models/lstm:predict", nil, 400, ["Malformed request"])
        try await expectError("GET", "/elsewhere", nil, 404, [])
        try await expectError("POST", "/v1/models/lstm:predict", "{\"instances\":[" + String(repeating: "0.5,", count: 2000) + "1]}",
                              413, ["limit"])
        // Sessions: a model that needs the whole sequence, an unknown session, the cap.
        try await expectError("POST", "/v1/models/bidi/sessions", nil, 400, ["cannot stream", "Bidirectional"])
        try await expectError("POST", "/v1/models/lstm/sessions/none:predict", "{\"instances\":[\(row)]}", 404, ["none"])
        let session = try await server.json("POST", "/v1/models/lstm/sessions")
        XCTAssertEqual(session.status, 200)
        try await expectError("POST", "/v1/models/lstm/sessions", nil, 429, ["too many"])

        // Metrics name only served models: a made-up name is counted as "unknown".
        let metrics = try await server.request("GET", "/monitoring/prometheus/metrics").text
        XCTAssertFalse(metrics.contains("nope"), metrics)
        XCTAssertTrue(metrics.contains("model=\"unknown\",endpoint=\"other\",status=\"404\""), metrics)

        // A body declared larger than the limit is refused before it is read.
        let connection = try HTTPConnection(port: server.port)
        try connection.write(Array("POST /v1/models/lstm:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n{".utf8))
        let refused = try connection.readResponse()
        XCTAssertEqual(refused.status, 413)
        XCTAssertTrue(refused.text.contains("\"error\""), refused.text)
    }

    /// curl sends `Expect: 100-continue` before large bodies and waits for the interim answer.
    func testExpectContinueIsAnsweredBeforeTheBody() async throws {
        let server = try await RunningServer.start([("lstm", "lstm_sequences/keras3.keras")])
        addTeardownBlock { try await server.stop() }
        let input = try FixtureArrays.tensor("lstm_sequences/input_0.npy")
        let body = Array("{\"inputs\":\(FixtureArrays.json(input))}".utf8)
        let port = server.port
        let (interim, final) = try await onThread { () -> (HTTPResult, HTTPResult) in
            let connection = try HTTPConnection(port: port)
            try connection.write(Array(("POST /v1/models/lstm:predict HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                                        + "Content-Length: \(body.count)\r\n\r\n").utf8))
            let interim = try connection.readResponse()
            try connection.write(body)
            return (interim, try connection.readResponse())
        }
        XCTAssertEqual(interim.status, 100)
        XCTAssertEqual(final.status, 200, final.text)
    }

    /// A connection that stalls is closed after the idle timeout.
    func testStalledConnectionsAreClosed() async throws {
        let server = try await RunningServer.start([("lstm", "lstm_sequences/keras3.keras")],
                                                   configure: { $0.idleTimeoutSeconds = 1 })
        addTeardownBlock { try await server.stop() }
        let port = server.port
        let closed = try await onThread { () -> Bool in
            let connection = try HTTPConnection(port: port)
            try connection.write(Array("POST /v1/models/lstm:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{".utf8))
            do {
                _ = try connection.readResponse()
                return false
            } catch {
                return true
            }
        }
        XCTAssertTrue(closed, "the server closed the stalled connection")
    }

    /// A session fed one time step per request gives what one whole-sequence run gives.
    func testSessionsCarryStateAndEqualWholeSequenceRuns() async throws {
        let fixtures = ["lstm_sequences", "simple_rnn", "gru_reset_after", "stacked_lstm", "masking_gru"]
        let server = try await RunningServer.start(fixtures.map { ($0, "\($0)/keras3.keras") },
                                                   configure: { $0.sessionTTLSeconds = 0.5 })
        addTeardownBlock { try await server.stop() }
        for fixture in fixtures {
            let input = try FixtureArrays.tensor("\(fixture)/input_0.npy")
            let expected = try FixtureArrays.tensor("\(fixture)/expected_keras3_0.npy")
            let created = try await server.json("POST", "/v1/models/\(fixture)/sessions")
            let id = try XCTUnwrap((created.json as? [String: Any])?["session_id"] as? String)
            let (batch, steps) = (input.shape[0], input.shape[1])
            var chunks: [[Float]] = []
            var last: [Float] = []
            for step in 0..<steps {
                let chunk = input.timeStep(step)
                // Alternate the formats: both carry the same state.
                let body = step % 2 == 0 ? "{\"inputs\":\(FixtureArrays.json(chunk))}"
                    : "{\"instances\":\(FixtureArrays.json(chunk))}"
                let answer = try await server.json("POST", "/v1/models/\(fixture)/sessions/\(id):predict", body: body)
                XCTAssertEqual(answer.status, 200, "\(fixture) step \(step): \(answer.json)")
                let root = answer.json as? [String: Any]
                last = FixtureArrays.flatten(root?["outputs"] ?? root?["predictions"] ?? [])
                chunks.append(last)
            }
            if expected.rank == 3 {
                // Sequence outputs: chunk t holds step t of every row.
                let outputFeatures = expected.shape[2]
                var reordered = [Float](repeating: 0, count: expected.count)
                for (step, chunk) in chunks.enumerated() {
                    for row in 0..<batch {
                        for feature in 0..<outputFeatures {
                            reordered[(row * steps + step) * outputFeatures + feature] = chunk[row * outputFeatures + feature]
                        }
                    }
                }
                assertClose(reordered, expected.scalars, tolerance: 1e-5, "\(fixture) streamed sequence")
            } else {
                assertClose(last, expected.scalars, tolerance: 1e-5, "\(fixture) streamed last step")
            }
            let deleted = try await server.request("DELETE", "/v1/models/\(fixture)/sessions/\(id)")
            XCTAssertEqual(deleted.status, 200)
            let gone = try await server.request("POST", "/v1/models/\(fixture)/sessions/\(id):predict",
                                                body: "{\"inputs\":\(FixtureArrays.json(input))}")
            XCTAssertEqual(gone.status, 404)
        }
        // Idle sessions expire after the time to live.
        let created = try await server.json("POST", "/v1/models/simple_rnn/sessions")
        let id = try XCTUnwrap((created.json as? [String: Any])?["session_id"] as? String)
        let metrics = try await server.request("GET", "/monitoring/prometheus/metrics")
        XCTAssertTrue(metrics.text.contains("rnnkit_serve_live_sessions{model=\"simple_rnn\"} 1"), metrics.text)
        try await Task.sleep(for: .milliseconds(800))
        let input = try FixtureArrays.tensor("simple_rnn/input_0.npy")
        let expired = try await server.request("POST", "/v1/models/simple_rnn/sessions/\(id):predict",
                                               body: "{\"inputs\":\(FixtureArrays.json(input))}")
        XCTAssertEqual(expired.status, 404, expired.text)
    }
}
