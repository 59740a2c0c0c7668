import Hummingbird
import SyncCore

/// The request context: who is calling, once the token is checked.
struct ServerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var token: TokenRecord?

    init(source: Source) {
        coreContext = .init(source: source)
    }

    /// Bodies are collected by the sync route with its own limit.
    var maxUploadSize: Int { 8 << 20 }
}
