import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SyncCore

/// The HTTP face of a replica: `/healthz`, `/metrics`, `/v1/session`, `/v1/sync`.
struct SyncController: Sendable {
    let service: SyncService
    let tokens: TokenStore
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
            middleware: AuthMiddleware(tokens: tokens, limiter: limiter, failures: failures))
        v1.get("session") { request, context in try await session(request, context: context) }
        v1.post("sync") { request, context in try await sync(request, context: context) }
    }

    private func health() async throws -> Response {
        let check = try await blocking { try service.replica.headCursor() }
        var writer = JSONWriter(capacity: 128)
        writer.raw("{\"status\":\"ok\",\"node\":")
        writer.string(service.replica.nodeID.description)
        writer.raw(",\"version\":")
        writer.string(FieldSyncVersion.current)
        writer.raw(",\"mode\":")
        writer.string(configuration.upstream == nil ? "central" : "hub")
        writer.raw(",\"head\":")
        writer.string(check.description)
        writer.byte(UInt8(ascii: "}"))
        return json(writer.bytes, request: nil)
    }

    private func session(_ request: Request, context: ServerContext) async throws -> Response {
        guard let token = context.token else { throw AuthMiddleware.unauthorized("missing") }
        var writer = JSONWriter(capacity: 256)
        writer.byte(UInt8(ascii: "{"))
        token.writeFields(into: &writer)
        writer.raw(",\"server_node\":")
        writer.string(service.replica.nodeID.description)
        writer.raw(",\"clock\":")
        writer.int(Int64(clamping: SystemClock().nowMillis()))
        writer.byte(UInt8(ascii: "}"))
        return json(writer.bytes, request: request)
    }

    private func sync(_ request: Request, context: ServerContext) async throws -> Response {
        let started = ContinuousClock.now
        guard let token = context.token else { throw AuthMiddleware.unauthorized("missing") }
        try checkContentType(request)
        try checkDecompressionBudget(token)
        let raw = try await readBody(request)
        let principal = token.principal
        let coding = responseCoding(request)
        // One hop off the event loop for the blocking work: decompress, decode, check the node, and, unless
        // the page may have been read ahead, apply and encode the answer.
        let encoding = request.headers[.contentEncoding]
        let controller = self
        let logger = context.logger
        let step: Step = try await blocking {
            let body = try controller.decodeBody(raw, encoding: encoding)
            controller.decompression?.spend(token.id, Double(body.count))
            let now = controller.now()
            // A large push merges while it decodes (on the merge thread); rolled back unless it commits.
            let streaming = StreamSlot()
            defer { streaming.stream?.abort() }
            let message: SyncRequest
            do {
                message = try SyncRequest(
                    decoding: body, maxRecords: controller.configuration.maxBatchRecords,
                    pushChunks: body.count < Self.streamedBodyBytes
                        ? nil
                        : { node, records in
                            streaming.offer(records) {
                                controller.stream(for: token, node: node, principal: principal, now: now)
                            }
                        })
            } catch let error as SyncError {
                throw HTTPProblem(error, serverClock: controller.now())
            }
            try controller.checkNode(token, message, logger: logger)
            // Before a read-ahead page may answer it: every request moves the client's lease (a push in
            // the transaction that applies it).
            if !message.pushesChanges {
                do {
                    try controller.service.checkLease(message, principal: principal, now: controller.now())
                } catch let error as SyncError {
                    throw HTTPProblem(error, serverClock: controller.now())
                }
            }
            if message.push == nil, message.heartbeat == nil, message.pull != nil { return .decoded(message) }
            let answer = try controller.answer(
                message, principal: principal, coding: coding, leaseChecked: !message.pushesChanges, now: now,
                streamed: streaming.stream, logger: logger)
            // The answer needs the request without its push: the decoded records (a few thousand
            // allocations) are freed off the request's path.
            var answered = message
            answered.push = nil
            Self.releaseLater(message)
            return .answered(answered, answer)
        }
        let message: SyncRequest
        let prepared: SyncResponse.Prepared
        switch step {
        case .answered(let decoded, let answer):
            (message, prepared) = (decoded, answer)
        case .decoded(let decoded):
            message = decoded
            let pull = decoded.pull ?? .init(cursor: .start)
            // A pull the server read ahead for (the pipelined client asks for exactly the next page).
            if let task = await readAhead.take(key(token, decoded.node, pull, coding: coding)),
                let ready = try? await task.value
            {
                prepared = ready
            } else {
                prepared = try await blocking {
                    try controller.answer(decoded, principal: principal, coding: coding, logger: logger)
                }
            }
        }
        if let pull = message.pull {
            await readAhead(
                after: prepared, token: token, node: message.node, pull: pull, coding: coding, principal: principal)
        }
        return respond(
            prepared, raw: raw, principal: principal, node: message.node, started: started, context: context,
            pushed: prepared.pushedRecords)
    }

    /// Where decoded pushes are freed once answered, and their sync logged, while their answer goes out.
    private static let disposal = DispatchQueue(label: "fieldsync.disposal", qos: .utility)

    private static func releaseLater(_ message: SyncRequest) {
        guard message.push?.batch.isEmpty == false else { return }
        disposal.async { withExtendedLifetime(message) {} }
    }

    /// Decompressed bodies from this size on (a few hundred records) merge while they decode.
    static let streamedBodyBytes = 32 * 1024

    /// A stream for a push by `node`, or nil when the push must not stream: its node comes after it in
    /// the body, or its token is not yet bound to it (binding writes, and a stream holds the write lock).
    private func stream(for token: TokenRecord, node: NodeID?, principal: Principal, now: Int64) -> StreamedApply? {
        guard let node, token.role == .admin || token.node == node.description else { return nil }
        return StreamedApply(
            replica: service.replica, peer: SyncService.peerKey(client: node), sender: node, scope: principal.scope,
            serverClock: now)
    }

    /// What the blocking step of a sync produced.
    private enum Step: Sendable {
        /// Only decoded: a pull whose page may have been read ahead.
        case decoded(SyncRequest)
        case answered(SyncRequest, SyncResponse.Prepared)
    }

    /// A device or hub token belongs to the node of its first sync (a write only then), and moves to the
    /// new id of that node once, when this server found the old one duplicated (logged as a warning). A
    /// node id this server knows already (another token's, or seen in its data: every pulled page shows
    /// node ids) is never bound to a fresh token: that request is refused as `node-taken` and logged.
    private func checkNode(_ token: TokenRecord, _ message: SyncRequest, logger: Logger) throws {
        guard token.role != .admin else { return }
        let node = message.node
        // A request sent beside the first one (the push window) finds the token bound since it was read.
        var bound = try token.node ?? tokens.boundNode(token.id)
        if bound == nil {
            if try service.replica.hasSeen(node) {
                // Seen because its twin request bound the token and wrote in between: that is this device.
                guard try tokens.boundNode(token.id) == node.description else {
                    throw nodeTaken(token, node, logger: logger)
                }
                bound = node.description
            } else {
                // nil after the bind: another token holds the node.
                guard let now = try tokens.bind(token.id, node: node) else {
                    throw nodeTaken(token, node, logger: logger)
                }
                bound = now
            }
        }
        if bound != node.description, let old = message.rekeyedFrom, old.description == bound,
            try service.replica.isDuplicated(old)
        {
            guard try !service.replica.hasSeen(node) else { throw nodeTaken(token, node, logger: logger) }
            bound = try tokens.rebind(token.id, from: old, to: node)
            logger.warning(
                "token moved to a new node id (its old one was duplicated)",
                metadata: ["sync.token": "\(token.name)", "sync.node.previous": "\(old)", "sync.client": "\(node)"])
        }
        guard bound == node.description else {
            throw HTTPProblem(
                .forbidden, "wrong-node", "Token bound to another node",
                "This token belongs to node \(bound ?? "?"); this request comes from node \(node). "
                    + "Each device enrols with its own token"
                    + (message.rekeyedFrom != nil
                        ? " (another copy of this device already moved the token to its new node id)." : "."))
        }
    }

    /// The refusal of a node id that belongs to another device, logged for the admin.
    private func nodeTaken(_ token: TokenRecord, _ node: NodeID, logger: Logger) -> HTTPProblem {
        logger.warning(
            "token refused a node id known from another device",
            metadata: ["sync.token": "\(token.name)", "sync.client": "\(node)"])
        return HTTPProblem(
            .forbidden, SyncError.Code.nodeTaken.rawValue, "Node id taken",
            "Node \(node) belongs to another device known to this server; a token binds only to a node id of its "
                + "own. Nothing was applied. A client that meets this takes a new node id (its pending writes move "
                + "to it) and syncs again.")
    }

    /// Handles a sync request and encodes its answer (blocking: SQLite).
    private func answer(
        _ message: SyncRequest, principal: Principal, coding: ContentCoding, leaseChecked: Bool = true,
        now: Int64? = nil, streamed: StreamedApply? = nil, logger: Logger
    ) throws -> SyncResponse.Prepared {
        do {
            let response = try service.handle(
                message, principal: principal, now: now ?? self.now(), leaseChecked: leaseChecked, streamed: streamed)
            return SyncResponse.Prepared(
                response, coding: (response.pull?.batch.recordCount ?? 0) > 0 ? coding : .identity)
        } catch let error as SyncError {
            logger.info(
                "sync refused",
                metadata: [
                    "sync.client": "\(message.node)", "sync.role": "\(principal.role.rawValue)",
                    "sync.error": "\(error.code)",
                ])
            throw HTTPProblem(error, serverClock: self.now())
        }
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
        coding: ContentCoding,
        principal: Principal
    ) async {
        guard prepared.more, let cursor = prepared.cursor else { return }
        let next = SyncRequest.Pull(cursor: cursor, limit: pull.limit, budget: pull.budget)
        let key = key(token, node, next, coding: coding)
        guard await readAhead.reserve(key) else { return }
        let service = self.service
        let peer = SyncService.peerKey(client: node)
        let controller = self
        let task = Task {
            let page = try await blocking {
                let page = try service.pullPage(next, peer: peer, principal: principal)
                let response = SyncResponse(node: service.replica.nodeID, clockMillis: 0, pull: page)
                return SyncResponse.Prepared(response, coding: page.batch.recordCount > 0 ? coding : .identity)
            }
            await controller.readAhead(
                after: page, token: token, node: node, pull: next, coding: coding, principal: principal)
            return page
        }
        await readAhead.put(key, task)
    }

    private func respond(
        _ prepared: SyncResponse.Prepared, raw: ByteBuffer, principal: Principal, node: NodeID,
        started: ContinuousClock.Instant, context: ServerContext, pushed: Int = 0
    ) -> Response {
        let body = prepared.finish(clockMillis: now())
        var headers: HTTPFields = [
            .contentType: "application/json", .cacheControl: "no-store", .vary: "Accept-Encoding",
            .acceptEncoding: ContentCoding.accepted,
        ]
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

    /// The coding of an answer: the best one the client accepts (zstd, then gzip), or none.
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

/// The stream of one request's push, started at its first chunk (or declined for good).
private final class StreamSlot {
    private(set) var stream: StreamedApply?
    private var declined = false

    func offer(_ records: CollectionChanges, start: () -> StreamedApply?) {
        if stream == nil, !declined {
            stream = start()
            declined = stream == nil
        }
        stream?.offer(records)
    }
}

/// Runs blocking work (SQLite) on a Dispatch thread, never on an event loop.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}
