/// What the simulated network or a simulated crash did to an exchange.
enum SimFault: Error, Equatable, CustomStringConvertible {
    /// The link is down: the request never left.
    case unreachable
    /// The request was lost before the server.
    case requestLost
    /// The server committed, the answer was lost.
    case responseLost
    /// The client process died (after the server committed, or while it applied the answer).
    case clientCrashed

    var description: String {
        switch self {
        case .unreachable: "unreachable"
        case .requestLost: "request lost"
        case .responseLost: "response lost after commit"
        case .clientCrashed: "client crashed"
        }
    }
}
