import Foundation
import Glibc
import Synchronization

/// A long-lived thread that runs jobs in turn: for work that must never wait for a Dispatch worker (a
/// worker may be blocked on it), or that runs at a lower priority than the rest of the process.
final class WorkerThread: @unchecked Sendable {
    // @unchecked: the jobs live behind the mutex; the semaphore is thread-safe.
    /// Where a syncing client reads and compresses its next push while a request is in flight: at a
    /// lower priority (nice 10), so that it yields the CPU to what the current request waits for (on a
    /// phone its UI; on a hub the devices it serves; on a test machine the server itself).
    static let readAhead = WorkerThread(name: "fieldsync-read-ahead", nice: 10)

    /// Jobs in turn; nil ends the thread (``stop()``).
    private let jobs = Mutex<[(@Sendable () -> Void)?]>([])
    private let ready = DispatchSemaphore(value: 0)

    /// A thread of its own (the static ones live as long as the process; others end with ``stop()``).
    init(name: String, nice: Int32) {
        let thread = Thread { [self] in
            // On Linux the nice value is the calling thread's own (who = 0): the rest of the process keeps its own.
            if nice != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
            while true {
                ready.wait()
                guard let job = jobs.withLock({ $0.removeFirst() }) else { return }
                job()
            }
        }
        thread.name = name
        thread.start()
    }

    func run(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        ready.signal()
    }

    /// Ends the thread once the jobs already given have run.
    func stop() {
        jobs.withLock { $0.append(nil) }
        ready.signal()
    }
}
