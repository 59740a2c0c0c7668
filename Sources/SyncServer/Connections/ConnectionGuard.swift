import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Keeps one connection within its bounds, in its channel pipeline after the HTTP codec.
///
/// - It takes a place in the ``ConnectionRegistry`` when the connection opens (closing the connection at
///   once when there is none) and gives it back when the connection closes.
/// - A client may have at most `maxInFlight` requests unanswered (pipelined): one more closes the
///   connection, so a client that sends requests and never reads the answers costs a bounded amount.
/// - A client that stops reading its answers while the server has more to send (the channel unwritable:
///   its send buffer past the high-water mark) and takes nothing of them for `stallTimeout` is closed.
/// - An answer carrying `Connection: close` closes the connection once written.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Limits: Sendable {
        var maxInFlight: Int
        var stallTimeout: TimeAmount
    }

    private let registry: ConnectionRegistry
    private let limits: Limits
    private let metrics: ServerMetrics
    private var id: Int?
    private var closing = false
    private var inFlight = 0
    private var closeAfterAnswer = false
    private var stallTimer: Scheduled<Void>?

    init(registry: ConnectionRegistry, limits: Limits, metrics: ServerMetrics) {
        self.registry = registry
        self.limits = limits
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context)
        if !closing { context.fireChannelActive() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Parts decoded from bytes that arrived before the close are dropped.
        guard !closing else { return }
        if case .head = unwrapInboundIn(data) {
            inFlight += 1
            if inFlight > limits.maxInFlight {
                close(context, reason: "pipelined")
                return
            }
            if inFlight == 1, let id { registry.setIdle(id, false) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            if response.headerFields[.connection]?.lowercased() == "close" { closeAfterAnswer = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            inFlight = max(0, inFlight - 1)
            if inFlight == 0, let id { registry.setIdle(id, true) }
            guard closeAfterAnswer else {
                context.write(data, promise: promise)
                return
            }
            let written = promise ?? context.eventLoop.makePromise()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in loopBound.value.close(promise: nil) }
            context.writeAndFlush(data, promise: written)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallTimer?.cancel()
            stallTimer = nil
        } else if stallTimer == nil {
            watchStall(context, pending: Self.pending(context))
        }
        context.fireChannelWritabilityChanged()
    }

    /// Closes the connection when, a whole `stallTimeout` later, it is still unwritable and has sent
    /// nothing of what was pending (a slow reader that makes progress is left alone).
    private func watchStall(_ context: ChannelHandlerContext, pending: Int) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        stallTimer = context.eventLoop.scheduleTask(in: limits.stallTimeout) {
            let (handler, context) = loopBound.value
            handler.stallTimer = nil
            guard !context.channel.isWritable, !handler.closing else { return }
            let now = Self.pending(context)
            if now >= pending {
                handler.close(context, reason: "stalled")
            } else {
                handler.watchStall(context, pending: now)
            }
        }
    }

    /// Bytes written to the channel and not yet taken by the socket.
    private static func pending(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard id == nil, !closing else { return }
        guard let address = ClientAddress(context.channel.remoteAddress) else { return }
        switch registry.open(context.channel, from: address) {
        case .admitted(let id, let evicted):
            self.id = id
            if let evicted {
                metrics.connectionClosed("evicted-idle")
                evicted.close(promise: nil)
            }
        case .refused:
            close(context, reason: "over-capacity")
        }
    }

    private func release() {
        stallTimer?.cancel()
        stallTimer = nil
        if let id { registry.close(id) }
        id = nil
    }

    private func close(_ context: ChannelHandlerContext, reason: String) {
        guard !closing else { return }
        closing = true
        metrics.connectionClosed(reason)
        release()
        context.close(promise: nil)
    }
}
