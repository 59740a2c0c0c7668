/// The FieldSync wire dictionary, version 1: what coding `zstd-fs1` compresses against (a zstd raw-content
/// dictionary, RFC 8878 section 5).
///
/// A small sync's body is mostly keys, field names and the same few values; zstd alone cannot find them in
/// a few hundred bytes, against a dictionary holding typical bodies it can. With it, a nightly sync of
/// one delivery went from 960 to 677 bytes (decision record 0021). These bytes are part of the protocol
/// (docs/protocol.md, section 8, where they are printed for other clients): they never change. A better
/// dictionary is another coding (`zstd-fs2`), announced in `Accept-Encoding` beside this one.
public enum WireDictionary {
    /// Three lines (an answer with refusals and profile groups, a device's push, a short answer), joined
    /// by line feeds, no final one: the most frequent last, nearest to what is compressed.
    static let text = [
        #"{"v":1,"node":"0000000000000000","push":{"to":"0","records":0,"conflicts":0,"refused":[{"collection":"families","id":"","code":"","field":"","detail":""}]},"pull":{"cursor":"0","more":false,"left":0,"batch":{"nodes":["0000000000000000"],"groups":[{"collection":"families","fields":["city","association","reference","head_name","phone","household_size","district","address","notes","merged_into"],"records":[]},{"collection":"voids","fields":["city","delivery","reason","volunteer","voided_at"],"records":[]},{"collection":"vouchers","fields":["city","holder","operator","amount","reclaimed_from"],"records":[]},{"collection":"stock_moves","fields":["city","item","kind","quantity","moved_at","operator","note"],"records":[]}]}},"clock":1800000000000}"#,
        #"{"v":1,"node":"0000000000000000","push":{"to":"0","batch":{"nodes":["0000000000000000"],"groups":[{"collection":"deliveries","fields":["city","family","item","quantity","campaign","delivered_at","volunteer","association","voucher","note"],"records":[["01M9",0,0,"","01M9","food_pack",1,"phase-1",1800000000000,""],["01M9",1,0,"","01M9","connectivity_pack",1,"phase-2",1800000000000,""],["01M9",65536,0,"","01M9","internet_recharge",1,"",1800000000000,""]]}]}},"clock":1800000000000,"lease":{"previous":"0000000000000000","next":"0000000000000000"},"pull":{"cursor":"0","limit":1000},"heartbeat":{"app":"field/0.2.0","backlog":0,"oldest_pending_ms":0}}"#,
        #"{"v":1,"node":"0000000000000000","push":{"to":"0","records":0,"conflicts":0},"pull":{"cursor":"0","more":false,"batch":{"nodes":[],"groups":[]}},"clock":1800000000000}"#,
    ].joined(separator: "\n")

    /// The dictionary's bytes (UTF-8 of ``text``, all ASCII).
    public static let bytes = Array(text.utf8)
}
