import Dispatch

extension SyncService {
    /// ``handle(_:principal:now:leaseChecked:)`` for a synchronous caller: an in-process
    /// ``SyncTransport`` (the simulation, the tests), whose `exchange` blocks like libcurl's.
    ///
    /// The handling runs on Dispatch threads (``WaitingExecutor``), never on the cooperative pool, so the
    /// calling thread may wait for it even when it is a thread of that pool: no pool thread is needed for
    /// the answer to come.
    public func handleWaiting(
        _ request: SyncRequest, principal: Principal, now: Int64, leaseChecked: Bool = false
    ) throws -> SyncResponse {
        try WaitingExecutor.shared.wait {
            try await self.handle(request, principal: principal, now: now, leaseChecked: leaseChecked)
        }
    }
}

/// A task executor on Dispatch's threads: async work a synchronous caller waits for runs there (the
/// service's, and the simulation's reads of a central whose store is async).
package final class WaitingExecutor: TaskExecutor {
    package static let shared = WaitingExecutor()

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        DispatchQueue.global().async { job.runSynchronously(on: executor) }
    }

    /// Runs `body` on this executor and waits for its result.
    package func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: self) {
            do {
                outcome.result = .success(try await body())
            } catch {
                outcome.result = .failure(error)
            }
            done.signal()
        }
        done.wait()
        return try outcome.result!.get()
    }

    private final class Outcome<T>: @unchecked Sendable {
        // @unchecked: written by the task before `done` is signalled, read after the wait.
        var result: Result<T, any Error>?
    }
}
