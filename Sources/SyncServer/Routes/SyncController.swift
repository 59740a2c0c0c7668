import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SyncCore
import Synchronization

/// The HTTP face of a store: `/healthz`, `/metrics`, `/v1/session`, `/v1/sync`.
package struct SyncController: Sendable {
    let service: SyncService
    let limiter: RateLimiter
    /// Failed authentications per client address (nil: no limit).
    let failures: RateLimiter?
    /// Bytes decompressed per token (nil: no limit).
    let decompression: RateLimiter?
    let metrics: ServerMetrics
    let configuration: ServerConfiguration
    let readAhead = ReadAhead()

    /// The method each route answers (another method on these paths gets 405 with `Allow`).
    static let methods = ["/healthz": "GET", "/metrics": "GET", "/v1/session": "GET", "/v1/sync": "POST"]

    func addRoutes(to router: Router<ServerContext>) {
        router.get("/healthz") { _, _ in try await health() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        let v1 = router.group("v1").add(
            middleware: AuthMiddleware(store: service.store, limiter: limiter, failures: failures))
        v1.get("session") { request, context in try await session(request, context: context) }
        v1.post("sync") { request, context in try await sync(request, context: context) }
    }

    private func health() async throws -> Response {
        let check = try await Self.answer(within: .seconds(Self.healthSeconds)) { [store = service.store] in
            try await store.head()
        }
        var writer = JSONWriter(capacity: 128)
        writer.raw("{\"status\":\"ok\",\"node\":")
        writer.string(service.store.nodeID.description)
        writer.raw(",\"version\":")
        writer.string(FieldSyncVersion.current)
        writer.raw(",\"mode\":")
        writer.string(configuration.upstream == nil ? "central" : "hub")
        writer.raw(",\"head\":")
        writer.string(check.description)
        writer.byte(UInt8(ascii: "}"))
        return json(writer.bytes, request: nil)
    }

    /// How long `/healthz` waits for the store (a load balancer's check must get an answer).
    static let healthSeconds: Int64 = 5

    /// `body`'s answer, or `.unavailable` once `limit` has passed: the caller is answered then, while `body`
    /// (a query on a connection whose server vanished, which no timeout of the server can end) finishes on
    /// its own.
    package static func answer<T: Sendable>(
        within limit: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            let work = Task {
                do { once.resume(.success(try await body())) } catch { once.resume(.failure(error)) }
            }
            let timer = Task {
                try await Task.sleep(for: limit)
                once.resume(.failure(SyncError(.unavailable, "The store did not answer within \(limit).")))
                work.cancel()
            }
            Task {
                _ = await work.result
                timer.cancel()
            }
        }
    }

    private func session(_ request: Request, context: ServerContext) async throws -> Response {
        guard let token = context.token else { throw AuthMiddleware.unauthorized("missing") }
        var writer = JSONWriter(capacity: 256)
        writer.byte(UInt8(ascii: "{"))
        token.writeFields(into: &writer)
        writer.raw(",\"server_node\":")
        writer.string(service.store.nodeID.description)
        writer.raw(",\"clock\":")
        writer.int(Int64(clamping: SystemClock().nowMillis()))
        writer.byte(UInt8(ascii: "}"))
        return json(writer.bytes, request: request)
    }

    /// `POST /v1/sync`: the body decoded here (CPU work, no waiting), then the service over the store.
    private func sync(_ request: Request, context: ServerContext) async throws -> Response {
        let started = ContinuousClock.now
        guard let token = context.token else { throw AuthMiddleware.unauthorized("missing") }
        try checkContentType(request)
        try checkDecompressionBudget(token)
        let raw = try await readBody(request)
        let body = try decodeBody(raw, encoding: request.headers[.contentEncoding])
        decompression?.spend(token.id, Double(body.count))
        let principal = token.principal
        let now = self.now()
        // A large push merges as it decodes (see `PushStream`). Rolled back unless the service committed it.
        let streaming = StreamSlot()
        defer { streaming.stream?.abort() }
        let message = try SyncRequest(
            decoding: body, maxRecords: configuration.maxBatchRecords,
            pushChunks: body.count < Self.streamedBodyBytes
                ? nil
                : { node, records in
                    streaming.offer(records, node: node) {
                        stream(for: token, node: node, principal: principal, now: now)
                    }
                })
        // The stream belongs to the node the body named before its push: the request's (a second "node"
        // is refused by the decoder; this guards the write lock, which binding a token would wait for).
        if streaming.stream != nil, streaming.node != message.node { streaming.stream?.abort() }
        let coding = responseCoding(request)
        let prepared: SyncResponse.Prepared
        do {
            try await service.bindNode(token, to: message)
            // Before a page read ahead may answer it: every request moves the client's lease (a push in the
            // transaction that applies it).
            if !message.pushesChanges { try await service.checkLease(message, principal: principal, now: now) }
            if message.push == nil, message.heartbeat == nil, message.relayed.isEmpty, message.conflicts.isEmpty,
                let pull = message.pull,
                let task = await readAhead.take(key(token, message.node, pull, coding: coding)),
                let ready = try? await task.value
            {
                // A pull the server read ahead for (the pipelined client asks for exactly the next page).
                prepared = ready
            } else {
                let response = try await service.handle(
                    message, principal: principal, now: now, leaseChecked: !message.pushesChanges,
                    streamed: streaming.node == message.node ? streaming.stream : nil)
                prepared = SyncResponse.Prepared(
                    response, coding: Self.answerCoding(coding, records: response.pull?.batch.recordCount ?? 0))
            }
        } catch let error as SyncError {
            context.logger.info(
                "sync refused",
                metadata: [
                    "sync.client": "\(message.node)", "sync.role": "\(principal.role.rawValue)",
                    "sync.error": "\(error.code)",
                ])
            throw error
        }
        if let pull = message.pull {
            await readAhead(
                after: prepared, token: token, node: message.node, pull: pull, coding: coding, principal: principal)
        }
        // The decoded records (a few thousand allocations) are freed off the request's path.
        Self.releaseLater(message)
        return respond(
            prepared, raw: raw, principal: principal, node: message.node, started: started, context: context,
            pushed: prepared.pushedRecords,
            clientSendsBest: ContentCoding(header: request.headers[.contentEncoding]) == .zstdDictionary)
    }

    /// A push body from this size on merges as it decodes: below it, decoding takes too little time for
    /// the overlap to pay for the stream.
    static let streamedBodyBytes = 32 * 1024

    /// A stream for a push by `node`, or nil when the push must not stream: its node comes after it in the
    /// body, or its token is not yet bound to it (binding writes, and a stream may hold the write lock).
    private func stream(for token: TokenRecord, node: NodeID?, principal: Principal, now: Int64) -> (any PushStream)? {
        guard let node, token.role == .admin || token.node == node,
            let stream = service.store.beginPush(
                client: node, scope: principal.scope, role: principal.role, now: now)
        else { return nil }
        metrics.streamedPush()
        return stream
    }

    /// Where decoded pushes are freed once answered, and their sync logged, while their answer goes out.
    private static let disposal = DispatchQueue(label: "fieldsync.disposal", qos: .utility)

    private static func releaseLater(_ message: SyncRequest) {
        guard message.push?.batch.isEmpty == false else { return }
        disposal.async { withExtendedLifetime(message) {} }
    }

    private func key(
        _ token: TokenRecord, _ node: NodeID, _ pull: SyncRequest.Pull, coding: ContentCoding
    ) -> ReadAhead.Key {
        ReadAhead.Key(
            token: token.id, node: node, cursor: pull.cursor, limit: pull.limit, budget: pull.budget, coding: coding)
    }

    /// When more remains, reads the next page now, for the request that will ask for it; a page read
    /// ahead reads the one after it in turn, up to the read-ahead depth.
    private func readAhead(
        after prepared: SyncResponse.Prepared, token: TokenRecord, node: NodeID, pull: SyncRequest.Pull,
        coding: ContentCoding, principal: Principal
    ) async {
        guard prepared.more, let cursor = prepared.cursor else { return }
        let next = SyncRequest.Pull(cursor: cursor, limit: pull.limit, budget: pull.budget)
        let key = key(token, node, next, coding: coding)
        guard await readAhead.reserve(key) else { return }
        let (service, controller) = (self.service, self)
        let task = Task {
            let page = try await service.pullPage(next, peer: SyncService.peerKey(client: node), principal: principal)
            let response = SyncResponse(node: service.store.nodeID, clockMillis: 0, pull: page)
            let prepared = SyncResponse.Prepared(
                response, coding: Self.answerCoding(coding, records: page.batch.recordCount))
            await controller.readAhead(
                after: prepared, token: token, node: node, pull: next, coding: coding, principal: principal)
            return prepared
        }
        await readAhead.put(key, task)
    }

    private func respond(
        _ prepared: SyncResponse.Prepared, raw: ByteBuffer, principal: Principal, node: NodeID,
        started: ContinuousClock.Instant, context: ServerContext, pushed: Int = 0, clientSendsBest: Bool
    ) -> Response {
        let body = prepared.finish(clockMillis: now())
        // The request codings the server takes, unless the request came in the best of them (the client
        // knows): each byte is paid for on a prepaid 2G link.
        var headers: HTTPFields = [
            .contentType: "application/json", .cacheControl: "no-store", .vary: "Accept-Encoding",
        ]
        if !clientSendsBest { headers[.acceptEncoding] = ContentCoding.accepted }
        if let encoding = prepared.coding.header { headers[.contentEncoding] = encoding }
        headers[.contentLength] = String(body.count)
        metrics.sync(
            role: principal.role.rawValue, changesIn: pushed, changesOut: prepared.records,
            bytesIn: raw.readableBytes, bytesOut: body.count, duration: ContinuousClock.now - started)
        // Logged on the utility queue, while the answer goes out (formatting a timestamp and the metadata
        // costs tens of µs a request); counted before, so that /metrics never lags an answer.
        let logger = context.logger
        let (role, records, more) = (principal.role.rawValue, prepared.records, prepared.more)
        Self.disposal.async {
            logger.info(
                "sync",
                metadata: [
                    "sync.client": "\(node)", "sync.role": "\(role)", "sync.changes.in": "\(pushed)",
                    "sync.changes.out": "\(records)", "sync.more": "\(more)",
                ])
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The coding of a sync answer carrying `records` pulled records, for a client that accepts `coding`:
    /// an answer without records is too short for zstd or gzip to pay their headers, not for zstd-fs1.
    static func answerCoding(_ coding: ContentCoding, records: Int) -> ContentCoding {
        records > 0 || coding == .zstdDictionary ? coding : .identity
    }

    /// The coding of an answer: the best one the client accepts (zstd-fs1, zstd, then gzip), or none.
    private func responseCoding(_ request: Request) -> ContentCoding {
        ContentCoding.preferred(accepting: request.headers[.acceptEncoding])
    }

    /// A JSON response, compressed when the client accepts it and it is worth it.
    private func json(_ bytes: [UInt8], request: Request?) -> Response {
        var headers: HTTPFields = [
            .contentType: "application/json", .cacheControl: "no-store", .acceptEncoding: ContentCoding.accepted,
        ]
        var body = bytes
        if bytes.count >= 512, let request {
            let coding = responseCoding(request)
            body = coding.compress(bytes)
            if let encoding = coding.header { headers[.contentEncoding] = encoding }
            headers[.vary] = "Accept-Encoding"
        }
        headers[.contentLength] = String(body.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    func now() -> Int64 { Int64(clamping: SystemClock().nowMillis()) }
}

/// The stream of one request's push, begun at its first run of records (or declined then, for good).
private final class StreamSlot {
    private(set) var stream: (any PushStream)?
    /// The node the stream was begun for.
    private(set) var node: NodeID?
    private var declined = false

    func offer(_ records: CollectionChanges, node: NodeID?, start: () -> (any PushStream)?) {
        if stream == nil, !declined {
            stream = start()
            self.node = node
            declined = stream == nil
        }
        stream?.offer(records)
    }
}

/// A continuation resumed by the first of several tasks; the others' results are dropped.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }

    func resume(_ result: Result<T, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}
