import Foundation
import SyncCore

/// The wall clock a `field` process stamps with: the system's, or the system's moved by
/// `FIELDSYNC_CLOCK_OFFSET_MS` (tests of wrong device clocks, end to end).
///
/// The variable only moves this device's own clock, as a wrong phone clock would: the server checks every
/// request's clock and stamps against its own, so it cannot make a device's writes win or pass a check
/// they would not pass with a phone set to that date. `sync-server` never reads it.
struct DeviceClock: PhysicalClock {
    static let variable = "FIELDSYNC_CLOCK_OFFSET_MS"

    /// Milliseconds added to the system clock (negative: behind).
    let offsetMillis: Int64

    func nowMillis() -> UInt64 {
        let now = SystemClock().nowMillis()
        return offsetMillis >= 0 ? now &+ UInt64(offsetMillis) : now - min(now, offsetMillis.magnitude)
    }

    /// The clock the environment asks for; a note on stderr when it is moved, so it is never set by accident.
    static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws
        -> any PhysicalClock
    {
        guard let text = environment[variable], !text.isEmpty else { return SystemClock() }
        guard let offset = Int64(text) else {
            throw CLIError(DeviceText.clockVariable(variable, text))
        }
        FileHandle.standardError.write(
            Data("note: \(variable)=\(offset): this device's clock is moved (tests).\n".utf8))
        return DeviceClock(offsetMillis: offset)
    }

    /// The clock the environment asks for, without a note, or the system's when the variable is not a number
    /// (the command reports it): for reading the device's settings before the command runs.
    static func quiet(_ environment: [String: String]) -> any PhysicalClock {
        guard let offset = environment[variable].flatMap({ Int64($0) }) else { return SystemClock() }
        return DeviceClock(offsetMillis: offset)
    }

    /// The replica settings of every `field` command: the defaults, with the environment's clock.
    static func replicaConfiguration() throws -> ReplicaConfiguration {
        var configuration = ReplicaConfiguration()
        configuration.clock = try fromEnvironment()
        return configuration
    }
}
