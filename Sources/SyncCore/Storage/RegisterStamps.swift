/// The stamps of a profile row's registers, kept together in its `_stamps` BLOB.
///
/// One entry per written register: its slot (1 byte: the position of the register's column in the
/// table, which never changes, so a newer schema's fields get new slots), the stamp's hlc and node
/// (8 bytes each, big-endian) and the local sequence of its last change (LEB128). One column instead of
/// three per field keeps a row about as narrow as the plain row: SQLite's cost to rewrite a row grows with
/// its column count.
struct RegisterStamps: Equatable {
    struct Entry: Equatable {
        var stamp: Stamp
        var sequence: Int64
    }

    /// By register index; nil for a register never written.
    var entries: [Entry?]

    init(count: Int) {
        entries = Array(repeating: nil, count: count)
    }

    /// Decodes a `_stamps` value. `registerForSlot[slot]` is the register of a slot, or -1.
    init(decoding bytes: UnsafeRawBufferPointer, registerForSlot: [Int], count: Int) throws(SyncError) {
        entries = Array(repeating: nil, count: count)
        var offset = 0
        func fail() -> SyncError {
            SyncError(
                .corruptReplica, "A profile row's '_stamps' value is damaged (at byte \(offset) of \(bytes.count)).")
        }
        while offset < bytes.count {
            guard bytes.count - offset >= 18 else { throw fail() }
            let slot = Int(bytes[offset])
            var hlc: UInt64 = 0
            var node: UInt64 = 0
            for index in 0..<8 {
                hlc = hlc << 8 | UInt64(bytes[offset + 1 + index])
                node = node << 8 | UInt64(bytes[offset + 9 + index])
            }
            offset += 17
            var sequence: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard offset < bytes.count, shift < 64 else { throw fail() }
                let byte = bytes[offset]
                offset += 1
                sequence |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            guard let nodeID = NodeID(rawValue: Int64(bitPattern: node)) else { throw fail() }
            let register = slot < registerForSlot.count ? registerForSlot[slot] : -1
            guard register >= 0 else { continue }  // a column this layout does not map: ignore it
            entries[register] = Entry(
                stamp: Stamp(hlc: HLCTimestamp(rawValue: hlc), node: nodeID), sequence: Int64(bitPattern: sequence))
        }
    }

    /// The `_stamps` value; `slots[register]` is the register's slot.
    func encoded(slots: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * 20)
        for (register, entry) in entries.enumerated() {
            guard let entry else { continue }
            bytes.append(slots[register])
            let hlc = entry.stamp.hlc.rawValue
            let node = UInt64(bitPattern: entry.stamp.node.rawValue)
            for index in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: hlc >> (UInt64(index) * 8))) }
            for index in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: node >> (UInt64(index) * 8))) }
            var sequence = UInt64(bitPattern: entry.sequence)
            repeat {
                let byte = UInt8(sequence & 0x7F)
                sequence >>= 7
                bytes.append(sequence == 0 ? byte : byte | 0x80)
            } while sequence != 0
        }
        return bytes
    }
}
