import FieldDomain
import Foundation
import SyncCore

/// Logging one delivery on a device, as `field deliver` and a paper sheet (`field deliver --csv`) do: the
/// entitlement verdict first, then the next recharge code this device holds, then the write.
enum DeliveryEntry {
    enum Outcome {
        case logged(id: String, verdict: DeliveryVerdict, code: String?)
        /// It would break a rule (and no override was given): nothing written.
        case refused(DeliveryVerdict)
    }

    static func log(_ delivery: NewDelivery, on device: Device, override: Bool) throws -> Outcome {
        let verdict = try operation { try DeliveryLedger(device.replica).verdict(for: delivery) }
        if !verdict.breaches.isEmpty, !override { return .refused(verdict) }
        let code = try operation { try nextVoucher(device, delivery) }
        let id = try operation {
            try device.replica.write { tx in
                try code.map { try tx.handOutVoucher($0, delivery: delivery) } ?? tx.logDelivery(delivery)
            }
        }
        return .logged(id: id, verdict: verdict, code: code)
    }

    /// The code to hand out with a recharge: the first this device holds, once the admin has imported
    /// codes (nil: a bare recharge, as before); a clear error when this device holds none.
    private static func nextVoucher(_ device: Device, _ delivery: NewDelivery) throws -> String? {
        guard delivery.item == Vouchers.item, try !device.replica.records.records("vouchers", limit: 1).isEmpty else {
            return nil
        }
        guard delivery.quantity == 1 else { throw CLIError(DeliveryText.oneCodeAtATime()) }
        guard
            let code = try Vouchers.unused(device.replica.records, holder: .device(device.replica.nodeID), city: nil)
                .first?.code
        else {
            throw CLIError(DeliveryText.noCodeHeld())
        }
        return code
    }
}
