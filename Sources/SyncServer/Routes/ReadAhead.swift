import SyncCore

/// Pull pages read ahead: after answering a pull with more to come, the server reads, encodes and
/// compresses the next pages (up to ``depth``) while the client applies the one it got. Serving a page read
/// a moment early is the same as answering that request a moment early: the page is a consistent
/// snapshot, and what changed since lies after its cursor.
actor ReadAhead {
    struct Key: Hashable, Sendable {
        var token: String
        var node: NodeID
        var cursor: FeedCursor
        var limit: Int
        var budget: Int?
        var coding: ContentCoding
    }

    typealias Page = Task<SyncResponse.Prepared, any Error>

    /// Pages read ahead per client. Default 2 (a few tens of KiB each).
    let depth: Int
    /// At most this many clients have pages waiting.
    let capacity: Int
    /// Pages older than this are dropped (the client went away, or took long).
    let maxAge: Duration
    private var queues: [NodeID: (created: ContinuousClock.Instant, pages: [(key: Key, task: Page)])] = [:]

    init(depth: Int = 2, capacity: Int = 256, maxAge: Duration = .seconds(10)) {
        self.depth = depth
        self.capacity = capacity
        self.maxAge = maxAge
    }

    /// The page read ahead for exactly this request, if any; it and the pages before it leave the queue.
    func take(_ key: Key) -> Page? {
        guard var queue = queues[key.node] else { return nil }
        guard ContinuousClock.now - queue.created < maxAge, let index = queue.pages.firstIndex(where: { $0.key == key })
        else {
            drop(key.node)
            return nil
        }
        let page = queue.pages[index].task
        queue.pages.removeFirst(index + 1)
        queue.created = .now
        queues[key.node] = queue
        return page
    }

    /// Whether `key` may be read ahead now (not queued yet, and room in its client's queue).
    func reserve(_ key: Key) -> Bool {
        let queue = queues[key.node]?.pages ?? []
        return !queue.contains { $0.key == key } && queue.count < depth
    }

    func put(_ key: Key, _ task: Page) {
        var queue = queues[key.node] ?? (.now, [])
        queue.pages.append((key, task))
        queues[key.node] = queue
        if queues.count > capacity, let oldest = queues.min(by: { $0.value.created < $1.value.created }) {
            drop(oldest.key)
        }
    }

    private func drop(_ node: NodeID) {
        for page in queues[node]?.pages ?? [] { page.task.cancel() }
        queues.removeValue(forKey: node)
    }
}
