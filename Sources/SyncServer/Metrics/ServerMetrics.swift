import Metrics
import Prometheus

/// The server's Prometheus metrics, through swift-metrics (`GET /metrics`).
///
/// Labels are roles, routes, statuses and problem codes: never tokens, cities' records or names.
package struct ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    /// Bootstraps swift-metrics with a Prometheus registry (once per process).
    package static func bootstrap() -> ServerMetrics {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return ServerMetrics(registry: registry)
    }

    func sync(role: String, changesIn: Int, changesOut: Int, bytesIn: Int, bytesOut: Int, duration: Duration) {
        Counter(label: "fieldsync_syncs_total", dimensions: [("role", role)]).increment()
        Counter(label: "fieldsync_changes_in_total").increment(by: changesIn)
        Counter(label: "fieldsync_changes_out_total").increment(by: changesOut)
        Counter(label: "fieldsync_bytes_in_total").increment(by: bytesIn)
        Counter(label: "fieldsync_bytes_out_total").increment(by: bytesOut)
        Metrics.Timer(label: "fieldsync_sync_duration_seconds").recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// A push merged as it decoded (see `PushStream`).
    func streamedPush() {
        Counter(label: "fieldsync_pushes_streamed_total").increment()
    }

    func error(_ code: String) {
        Counter(label: "fieldsync_errors_total", dimensions: [("type", code)]).increment()
    }

    /// A connection the server closed to keep within its bounds: `over-capacity`, `evicted-idle`,
    /// `pipelined`, `stalled`.
    func connectionClosed(_ reason: String) {
        Counter(label: "fieldsync_connections_closed_total", dimensions: [("reason", reason)]).increment()
    }

    func upstream(success: Bool) {
        Counter(label: "fieldsync_upstream_syncs_total", dimensions: [("result", success ? "ok" : "failed")])
            .increment()
    }

    func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}
