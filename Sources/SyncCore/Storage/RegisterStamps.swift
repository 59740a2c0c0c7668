/// The stamps of a profile row's registers, kept together in its `_stamps` BLOB.
///
/// One entry per written register, in slot order: a header byte (the register's slot, the position of
/// its column in the table, which never changes, so a newer schema's fields get new slots; bit 7 set when
/// the node is the previous entry's), the hlc as a zigzag varint delta from the previous entry's, the node
/// (8 bytes, big-endian) unless it is the previous entry's, and the local sequence of the register's last
/// change as a zigzag varint delta from the previous entry's. A row's registers are mostly written by one
/// node at close times, so an entry takes about 6 bytes. One column instead of three per field keeps a
/// row narrow: SQLite's cost to rewrite a row grows with its columns and bytes.
struct RegisterStamps: Equatable {
    struct Entry: Equatable {
        var stamp: Stamp
        var sequence: Int64
    }

    /// By register index; nil for a register never written.
    var entries: [Entry?]
    /// Entries of slots this layout does not map (a newer version's fields, seen by an older one): kept
    /// and written back unchanged.
    var unmapped: [(slot: UInt8, entry: Entry)] = []

    init(count: Int) {
        entries = Array(repeating: nil, count: count)
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.entries == rhs.entries
            && lhs.unmapped.elementsEqual(rhs.unmapped) { $0.slot == $1.slot && $0.entry == $1.entry }
    }

    /// Decodes a `_stamps` value. `registerForSlot[slot]` is the register of a slot, or -1.
    init(decoding bytes: UnsafeRawBufferPointer, registerForSlot: [Int], count: Int) throws(SyncError) {
        entries = Array(repeating: nil, count: count)
        var offset = 0
        func fail() -> SyncError {
            SyncError(
                .corruptReplica, "A profile row's '_stamps' value is damaged (at byte \(offset) of \(bytes.count)).")
        }
        func varint() throws(SyncError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard offset < bytes.count, shift < 64 else { throw fail() }
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        var hlc: UInt64 = 0
        var node: UInt64 = 0
        var sequence: Int64 = 0
        while offset < bytes.count {
            let header = bytes[offset]
            offset += 1
            hlc = UInt64(bitPattern: Int64(bitPattern: hlc) &+ Self.unzigzag(try varint()))
            if header & 0x80 == 0 {
                guard bytes.count - offset >= 8 else { throw fail() }
                node = 0
                for index in 0..<8 { node = node << 8 | UInt64(bytes[offset + index]) }
                offset += 8
            } else if node == 0 {
                throw fail()
            }
            sequence = sequence &+ Self.unzigzag(try varint())
            guard let nodeID = NodeID(rawValue: Int64(bitPattern: node)) else { throw fail() }
            let slot = Int(header & 0x7F)
            let register = slot < registerForSlot.count ? registerForSlot[slot] : -1
            let entry = Entry(stamp: Stamp(hlc: HLCTimestamp(rawValue: hlc), node: nodeID), sequence: sequence)
            if register >= 0, register < count {
                entries[register] = entry
            } else {
                unmapped.append((UInt8(slot), entry))
            }
        }
    }

    /// The `_stamps` value; `slots[register]` is the register's slot (below 128).
    func encoded(slots: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + entries.count * 8)
        func append(varint value: UInt64) {
            var value = value
            repeat {
                let byte = UInt8(value & 0x7F)
                value >>= 7
                bytes.append(value == 0 ? byte : byte | 0x80)
            } while value != 0
        }
        var previousHLC: Int64 = 0
        var previousNode: Int64 = 0
        var previousSequence: Int64 = 0
        var all: [(slot: UInt8, entry: Entry)] = unmapped
        for (register, entry) in entries.enumerated() { if let entry { all.append((slots[register], entry)) } }
        all.sort { $0.slot < $1.slot }
        for (slot, entry) in all {
            let node = entry.stamp.node.rawValue
            bytes.append(slot | (node == previousNode ? 0x80 : 0))
            let hlc = Int64(bitPattern: entry.stamp.hlc.rawValue)
            append(varint: Self.zigzag(hlc &- previousHLC))
            if node != previousNode {
                let raw = UInt64(bitPattern: node)
                for index in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: raw >> (UInt64(index) * 8))) }
            }
            append(varint: Self.zigzag(entry.sequence &- previousSequence))
            (previousHLC, previousNode, previousSequence) = (hlc, node, entry.sequence)
        }
        return bytes
    }

    private static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    private static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }
}
