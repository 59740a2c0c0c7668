import Hummingbird
import SyncCore

/// The request context: where the request comes from, and who is calling once the token is checked.
struct ServerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var token: TokenRecord?
    /// The client's address (its /64 for IPv6), for the limits per address; nil on a Unix socket.
    let client: ClientAddress?

    init(source: Source) {
        coreContext = .init(source: source)
        client = ClientAddress(source.channel.remoteAddress)
    }

    /// Bodies are collected by the sync route with its own limit.
    var maxUploadSize: Int { 8 << 20 }
}
