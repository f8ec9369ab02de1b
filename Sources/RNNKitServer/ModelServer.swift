import Foundation
import Hummingbird
import Logging
import NIOCore
import RNNKit
import ServiceLifecycle
import UnixSignals

/// What `rnnkit serve` is told on its command line.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (`ModelServer.run` reports the one bound).
    public var port = 8501
    /// Larger request bodies are answered 413 before they are read whole.
    public var maxBodyBytes = 64 << 20
    /// How long the batcher waits for more requests after the first of a batch arrives.
    public var batchWindowMicroseconds = 500
    /// Most rows run in one batch.
    public var maxBatch = 64
    /// Worker threads per model that run batches.
    public var threads = 1
    /// Idle sessions are dropped after this long.
    public var sessionTTLSeconds: Double = 600
    /// Most sessions alive at once, over all models.
    public var maxSessions = 1000
    /// A connection that sends nothing for this long is closed (idle keep-alive connections, and
    /// clients that open a connection and stall).
    public var idleTimeoutSeconds = 120

    public init() {}
}

/// A TensorFlow Serving–compatible HTTP server for RNNKit models (Hummingbird 2 on swift-nio):
/// TF Serving's REST API for predictions, status and metadata, with dynamic batching, plus
/// streaming sessions that carry recurrent state between requests, Prometheus metrics and one
/// log line per request. It keeps no state outside sessions, so replicas scale behind any load
/// balancer (with session affinity for streaming).
public final class ModelServer: Sendable {
    public let configuration: ServerConfiguration
    public let models: [String: ServedModel]
    public let metrics: ServerMetrics
    let sessions: SessionStore
    let logger: Logger
    private let running = RunningGroup()

    /// Each model under its name (names must be unique and usable in a URL path).
    public init(models named: [(name: String, predictor: Predictor)], configuration: ServerConfiguration,
                logger: Logger = Logger(label: "rnnkit.serve")) throws {
        var models: [String: ServedModel] = [:]
        let metrics = ServerMetrics()
        for (name, predictor) in named {
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw RNNKitError(.badUsage, "model name '\(name)' must be letters, digits, '-', '_' or '.'")
            }
            guard models[name] == nil else { throw RNNKitError(.badUsage, "two models are named '\(name)'") }
            models[name] = ServedModel(name: name, predictor: predictor, configuration: configuration, metrics: metrics)
        }
        self.configuration = configuration
        self.models = models
        self.metrics = metrics
        self.logger = logger
        sessions = SessionStore(ttlSeconds: configuration.sessionTTLSeconds, capacity: configuration.maxSessions,
                                onCountChange: { model, count in metrics.setLiveSessions(model: model, count: count) })
    }

    /// Serves until one of `signals` arrives or `shutdown()` is called; then stops accepting
    /// connections, answers every request already accepted, and returns. `onRunning` receives
    /// the bound port once the server listens.
    public func run(gracefulShutdownSignals signals: [UnixSignal] = [.sigterm, .sigint],
                    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let responder = ServeResponder(server: self)
        let application = Application(
            responder: responder,
            server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()],
                                                idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "rnnkit"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: signals,
                                                      logger: logger))
        running.set(group)
        defer {
            running.set(nil)
            // Every accepted request has been answered: the batch workers can end.
            for model in models.values { model.batcher.stop() }
        }
        try await group.run()
    }

    /// Starts a graceful shutdown, as SIGTERM does.
    public func shutdown() async {
        await running.get()?.triggerGracefulShutdown()
    }
}

/// The service group of a running server, for `shutdown()`.
private final class RunningGroup: @unchecked Sendable {
    private let lock = NSLock()
    private var group: ServiceGroup?

    func set(_ group: ServiceGroup?) { lock.withLock { self.group = group } }
    func get() -> ServiceGroup? { lock.withLock { group } }
}
