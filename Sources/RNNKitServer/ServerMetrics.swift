import Prometheus

/// The server's Prometheus metrics, served at `/monitoring/prometheus/metrics` (TF Serving's
/// path): requests and their latency per model, endpoint and status; rows per batch; live
/// sessions. Each server has its own registry (no process-wide metrics factory), so that
/// several servers in one process, as in the tests, count separately.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(500),
        .seconds(1), .seconds(5),
    ]
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    public init() {}

    func recordRequest(model: String, endpoint: String, status: Int, duration: Duration) {
        let labels = [("model", model), ("endpoint", endpoint), ("status", String(status))]
        registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "rnnkit_serve_requests", unitName: "total",
                                             helpText: "HTTP requests answered, by model, endpoint and status."),
            labels: labels
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "rnnkit_serve_request_duration", unitName: "seconds",
                                             helpText: "Time from a request's arrival to its response."),
            labels: labels, buckets: Self.latencyBuckets
        ).record(duration)
    }

    func recordBatch(model: String, rows: Int) {
        registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(metricName: "rnnkit_serve_batch", unitName: "rows",
                                             helpText: "Rows per batch run by the dynamic batcher."),
            labels: [("model", model)], buckets: Self.batchBuckets
        ).record(Double(rows))
    }

    func setLiveSessions(model: String, count: Int) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: "rnnkit_serve_live", unitName: "sessions",
                                             helpText: "Streaming sessions open now."),
            labels: [("model", model)]
        ).set(to: Double(count))
    }

    /// The text exposition format.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
