import Foundation
import RNNKitTestSupport
import XCTest

/// `rnnkit plot` through the built binary: the DOT it writes, Graphviz's rendering when it is
/// installed, and the same output rules as `convert`.
final class PlotCLITests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory() }

    private func output(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func rnnkit(_ arguments: String...) throws -> RNNKitBinary.Run {
        try RNNKitBinary.run(arguments, besides: Self.self)
    }

    private var graphvizInstalled: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/dot") }
    }

    func testDotMatchesTheExpectedText() throws {
        let run = try rnnkit("plot", FixtureFiles.path("seq2seq/keras3.keras"), output("s.dot"), "--show-shapes")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout + run.stderr, "")
        XCTAssertEqual(try String(contentsOfFile: output("s.dot"), encoding: .utf8),
                       try String(contentsOfFile: FixtureFiles.path("plots/seq2seq.dot"), encoding: .utf8))
        // Replaced only when asked, as by convert.
        let again = try rnnkit("plot", FixtureFiles.path("simple_rnn/keras3.keras"), output("s.dot"))
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("already exists; use --force"), again.stderr)
        XCTAssertTrue(try String(contentsOfFile: output("s.dot"), encoding: .utf8).contains("lstm_1"))
        XCTAssertEqual(try rnnkit("plot", FixtureFiles.path("simple_rnn/keras3.keras"), output("s.dot"), "--force").status, 0)
        XCTAssertFalse(try String(contentsOfFile: output("s.dot"), encoding: .utf8).contains("lstm_1"))
        let bidirectional = try rnnkit("plot", FixtureFiles.path("bidirectional_concat/keras3.keras"), output("b.dot"),
                                       "--show-shapes", "--show-dtype", "--show-params", "--rankdir", "LR",
                                       "--expand-nested")
        XCTAssertEqual(bidirectional.status, 0, bidirectional.stderr)
        XCTAssertEqual(try String(contentsOfFile: output("b.dot"), encoding: .utf8),
                       try String(contentsOfFile: FixtureFiles.path("plots/bidirectional_concat.dot"), encoding: .utf8))
    }

    func testSeq2SeqDrawsEncoderDecoderStatesAndOutput() throws {
        guard graphvizInstalled else {
            throw XCTSkip("Graphviz's dot is not installed (apt-get install graphviz); SVG not rendered")
        }
        let run = try rnnkit("plot", FixtureFiles.path("seq2seq/keras3.keras"), output("s.svg"), "--show-shapes")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")  // Graphviz's warnings are not passed on
        let svg = try String(contentsOfFile: output("s.svg"), encoding: .utf8)
        for text in ["<svg", ">lstm<", ">lstm_1<", ">dense<", "initial_state[0, 1]", "(None, None, 3)"] {
            XCTAssertTrue(svg.contains(text), text)
        }
        XCTAssertEqual(svg.components(separatedBy: "class=\"node\"").count - 1, 5)
        XCTAssertEqual(svg.components(separatedBy: "class=\"edge\"").count - 1, 4)
        let png = try rnnkit("plot", FixtureFiles.path("stacked_lstm/tfkeras.json"),
                             "--weights", FixtureFiles.path("stacked_lstm/tfkeras_weights.h5"), output("s.png"))
        XCTAssertEqual(png.status, 0, png.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output("s.png"))).prefix(4), Data([0x89, 0x50, 0x4E, 0x47]))
    }

    func testMissingGraphvizIsOneLineAndDotStillWorks() throws {
        var products = Bundle(for: Self.self).bundleURL
        if products.pathExtension == "xctest" { products.deleteLastPathComponent() }
        let process = Process()
        process.executableURL = products.appendingPathComponent("rnnkit")
        process.arguments = ["plot", FixtureFiles.path("simple_rnn/keras3.keras"), output("m.svg")]
        process.environment = ["PATH": directory.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 2, message)
        XCTAssertEqual(message, "rnnkit: error: \(output("m.svg")): Graphviz's dot is not installed: "
                       + "install it (apt-get install graphviz) or write a .dot file\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }

    func testRefusalsLeaveNothingBehind() throws {
        let source = FixtureFiles.path("gru_reset_after/keras3.keras")
        // Files are known by their content, so a model may well be called m.dot.
        let copy = output("m.dot")
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        let cases: [([String], Int32, String)] = [
            (["plot", source, output("g.txt")], 2, "cannot tell the picture format"),
            (["plot", copy, copy, "--force"], 2, "is the input file"),
            (["plot", FixtureFiles.path("malformed/dangling_ref.h5"), output("d.dot")], 1, "unknown layer"),
            (["plot", FixtureFiles.path("malformed/truncated.h5"), output("t.dot")], 2, "truncated.h5"),
        ]
        for (arguments, status, message) in cases {
            let run = try RNNKitBinary.run(arguments, besides: Self.self)
            XCTAssertEqual(run.status, status, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        }
        let badDirection = try rnnkit("plot", source, output("g.dot"), "--rankdir", "BT")
        XCTAssertEqual(badDirection.status, 2)
        XCTAssertTrue(badDirection.stderr.contains("'BT' is invalid for '--rankdir"), badDirection.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["m.dot"])
    }
}
