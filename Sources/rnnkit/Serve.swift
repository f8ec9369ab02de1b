import ArgumentParser
import Foundation
import Logging
import RNNKit
import RNNKitServer

/// `rnnkit serve`: models behind TensorFlow Serving's REST API, with streaming sessions.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve models over HTTP with TensorFlow Serving's REST API, plus streaming sessions.",
        discussion: """
            POST /v1/models/NAME:predict takes {"instances": ...} or {"inputs": ...}; GET /v1/models/NAME \
            and /v1/models/NAME/metadata describe it; POST /v1/models/NAME/sessions opens a session whose \
            :predict carries the recurrent state between calls. Metrics at /monitoring/prometheus/metrics. \
            SIGTERM or SIGINT stops accepting connections, answers the requests in flight and exits 0. \
            Model files are read in this process: serve only files you trust.
            """)

    @Argument(help: ArgumentHelp("Models to serve, each PATH or NAME=PATH (Keras .h5, .keras or RNNKit JSON).",
                                 valueName: "model"))
    var models: [String]

    @Option(help: "Name of the model when one PATH is given (default: the file name without extension).")
    var name: String?

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port = 8501

    @Option(help: "Worker threads per model that run batches.")
    var threads = 1

    @Option(help: ArgumentHelp("Largest request body, e.g. 64M; larger ones are answered 413. (default: 64M)",
                               valueName: "bytes"))
    var maxBody: ByteCount?

    @Option(name: .customLong("batch-window-us"),
            help: "Microseconds a batch waits for more requests after its first one.")
    var batchWindowMicroseconds = 500

    @Option(help: "Most rows run as one batch.")
    var maxBatch = 64

    @Option(help: "Seconds after which an idle streaming session is dropped.")
    var sessionTTL: Double = 600

    @Option(help: "Most streaming sessions alive at once; more are answered 429.")
    var maxSessions = 1000

    @Option(help: "Least severe log level printed: trace, debug, info (one line per request), notice, warning, error.")
    var logLevel = "info"

    func validate() throws {
        guard port >= 0 && port <= 65535 else { throw ValidationError("--port must be 0...65535") }
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be 1...256") }
        guard batchWindowMicroseconds >= 0 && batchWindowMicroseconds <= 1_000_000 else {
            throw ValidationError("--batch-window-us must be 0...1000000")
        }
        guard maxBatch >= 1 && maxBatch <= 1 << 16 else { throw ValidationError("--max-batch must be 1...65536") }
        guard sessionTTL > 0 else { throw ValidationError("--session-ttl must be positive") }
        guard maxSessions >= 0 else { throw ValidationError("--max-sessions must be 0 or more") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        if name != nil && models.count != 1 { throw ValidationError("--name applies to a single model; use NAME=PATH") }
    }

    /// NAME=PATH pairs; a bare PATH is named by --name or its file name.
    func namedPaths() -> [(name: String, path: String)] {
        models.map { argument in
            if let equals = argument.firstIndex(of: "="), !FileManager.default.fileExists(atPath: argument) {
                return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
            }
            let stem = URL(fileURLWithPath: argument).deletingPathExtension().lastPathComponent
            return (name ?? stem, argument)
        }
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let predictors = try namedPaths().map { name, path in
            (name: name, predictor: try Predictor(Model.load(contentsOf: path)))
        }
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.threads = threads
        configuration.maxBodyBytes = maxBody?.value ?? 64 << 20
        configuration.batchWindowMicroseconds = batchWindowMicroseconds
        configuration.maxBatch = maxBatch
        configuration.sessionTTLSeconds = sessionTTL
        configuration.maxSessions = maxSessions
        let server = try ModelServer(models: predictors, configuration: configuration)
        let names = predictors.map(\.name).joined(separator: ", ")
        // The command is synchronous; the server runs on Swift's concurrency pool meanwhile.
        let finished = DispatchSemaphore(value: 0)
        let failure = ServeFailure()
        Task {
            do {
                try await server.run { port in
                    print("rnnkit serve: listening on http://\(host):\(port) (models: \(names))")
                    fflush(stdout)
                }
            } catch {
                failure.error = error
            }
            finished.signal()
        }
        finished.wait()
        if let error = failure.error { throw error }
    }
}

/// Carries the server task's error back to the waiting command.
private final class ServeFailure: @unchecked Sendable {
    var error: (any Error)?
}
