/// Record ids: 26 characters of Crockford base32 holding 128 bits, sortable by creation time, safe in
/// URLs, CSV and file names.
///
/// A record created here gets ``make(stamp:random:)``: 48 bits of milliseconds, 40 bits of the creating
/// node's id, the 16-bit counter of its clock, 24 random bits drawn once per write transaction. Unique
/// by construction (a node's clock never repeats, nodes differ), with random bits left for a node id
/// duplicated by a restored backup; and the ids one device creates share their first 18 characters (the
/// ids of one transaction their random bits as well), so they compress to a few bytes on the wire. ``make(millis:using:)`` is the plain ULID (80 random bits) for ids made elsewhere.
public enum RecordID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// The id of a record created with `stamp`, with the low 24 bits of `random` (drawn once per write
    /// transaction: its stamps never repeat, so its ids differ by them; see decision record 0003).
    public static func make(stamp: Stamp, random: UInt64) -> String {
        let node = (UInt64(bitPattern: stamp.node.rawValue) >> 23) & (1 << 40 - 1)
        let tail = UInt64(stamp.hlc.counter) << 24 | random & (1 << 24 - 1)
        // 128 bits: millis (48) | node (40) | counter (16) | random (24).
        return encode(upper: stamp.hlc.millis << 16 | node >> 24, lower: (node & 0xFF_FFFF) << 40 | tail)
    }

    /// A ULID: 48 bits of milliseconds, 80 random bits.
    public static func make(millis: UInt64, using generator: inout some RandomNumberGenerator) -> String {
        let high = UInt64.random(in: 0...UInt64.max, using: &generator)
        let low = UInt16.random(in: 0...UInt16.max, using: &generator)
        // 128 bits: millis (48) | high (64) | low (16).
        return encode(upper: (millis << 16) | (high >> 48), lower: (high << 16) | UInt64(low))
    }

    private static func encode(upper: UInt64, lower: UInt64) -> String {
        var bytes = [UInt8](repeating: 0, count: 26)
        // 26 characters x 5 bits = 130 bits: the first character holds the top 3 bits.
        for index in 0..<26 {
            let shift = 125 - index * 5  // bit position (from the right, in 130 bits) of this character
            let value: UInt64
            if shift >= 64 {
                value = upper >> UInt64(shift - 64)
            } else if shift > 59 {
                value = (upper << UInt64(64 - shift)) | (lower >> UInt64(shift))
            } else {
                value = lower >> UInt64(shift)
            }
            bytes[index] = alphabet[Int(value & 31)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func make(millis: UInt64) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(millis: millis, using: &generator)
    }
}

/// SplitMix64 (Steele et al.): fast, seedable; seeded from the system generator for record ids.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
