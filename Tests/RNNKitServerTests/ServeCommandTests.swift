import Foundation
import RNNKitTestSupport
import XCTest

/// The built `rnnkit serve`, as an operator runs it: SIGTERM during requests, log lines.
final class ServeCommandTests: XCTestCase {
    /// Bad usage and unreadable models stop `rnnkit serve` before it listens, with exit status 2.
    func testBadUsageAndUnreadableModelsExitTwoWithOneLine() throws {
        let missing = try RNNKitBinary.run(["serve", "m=/nonexistent/model.h5", "--port", "0"], besides: Self.self)
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertTrue(missing.stderr.hasPrefix("rnnkit: error: "), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        let model = "lstm=" + FixtureFiles.path("lstm_sequences/keras3.keras")
        for arguments in [["--port", "70000"], ["--max-batch", "0"], ["--log-level", "loud"],
                          ["--name", "x", model]] {
            let run = try RNNKitBinary.run(["serve", model] + arguments, besides: Self.self)
            XCTAssertEqual(run.status, 2, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains("rnnkit: error: "), "\(arguments): \(run.stderr)")
        }
        let duplicate = try RNNKitBinary.run(["serve", model, model, "--port", "0"], besides: Self.self)
        XCTAssertEqual(duplicate.status, 2, duplicate.stderr)
        XCTAssertTrue(duplicate.stderr.contains("two models are named 'lstm'"), duplicate.stderr)
    }

    /// SIGTERM while requests wait in a batch: each is answered, then the server exits 0.
    func testSIGTERMLosesNoAcceptedRequestAndExitsZero() async throws {
        var products = Bundle(for: Self.self).bundleURL
        if products.pathExtension == "xctest" { products.deleteLastPathComponent() }
        let process = Process()
        process.executableURL = products.appendingPathComponent("rnnkit")
        process.arguments = ["serve", "lstm=" + FixtureFiles.path("lstm_sequences/keras3.keras"), "--port", "0",
                             "--batch-window-us", "300000"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        addTeardownBlock { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // "rnnkit serve: listening on http://127.0.0.1:PORT (models: lstm)"
        let banner = try await onThread { () -> String in
            var line = Data()
            while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
                line.append(byte)
            }
            return String(decoding: line, as: UTF8.self)
        }
        let port = try XCTUnwrap(banner.components(separatedBy: "127.0.0.1:").last.flatMap { Int($0.prefix { $0.isNumber }) },
                                 banner)
        let cases = try ServeLoadTests.lstmCases()
        let connections = try (0..<8).map { _ in try HTTPConnection(port: port) }
        let answers = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for (index, connection) in connections.enumerated() {
                nonisolated(unsafe) let connection = connection
                let body = cases[index % cases.count].body
                group.addTask { try await onThread { try connection.send("POST", "/v1/models/lstm:predict", body: body) } }
            }
            try await Task.sleep(for: .milliseconds(120))
            process.terminate()
            var answers: [HTTPResult] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        XCTAssertEqual(answers.map(\.status), Array(repeating: 200, count: 8), answers.map(\.text).joined())
        let log = try await onThread { String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0, log)
        // One structured line per request.
        let requestLines = log.split(separator: "\n").filter { $0.contains("endpoint=predict") && $0.contains("status=200") }
        XCTAssertEqual(requestLines.count, 8, log)
    }
}
