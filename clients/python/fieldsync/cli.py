"""`python -m fieldsync`: init, family-add, deliver, void, sync, status.

The store is `--db`, or $FIELDSYNC_DB, or ./fieldsync.db. Exit codes: 0 done, 1 the operation failed
(the message says why), 2 bad usage. `--json` prints JSON.
$FIELDSYNC_CLOCK_OFFSET_MS shifts this device's clock (tests only, like the Swift `field`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

from .client import Client
from .errors import FieldSyncError


def _device_clock():
    offset = int(os.environ.get("FIELDSYNC_CLOCK_OFFSET_MS", "0") or 0)
    return lambda: int(time.time() * 1000) + offset


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fieldsync", description="FieldSync client (Python).")
    parser.add_argument("--db", default=os.environ.get("FIELDSYNC_DB", "fieldsync.db"), help="the store file")
    parser.add_argument("--json", action="store_true", help="print JSON")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="enrol: create the store, remember the server and token")
    init.add_argument("--server", required=True)
    init.add_argument("--token-file", required=True)
    init.add_argument("--city", help="the device's city (learnt from the server when reachable)")
    init.add_argument("--volunteer", help="the name on deliveries (default: the token's name)")
    add = commands.add_parser("family-add", help="register a family (offline)")
    add.add_argument("--reference", required=True)
    add.add_argument("--head", required=True)
    add.add_argument("--phone")
    add.add_argument("--size", type=int)
    add.add_argument("--district")
    add.add_argument("--address")
    add.add_argument("--notes")
    add.add_argument("--association")
    deliver = commands.add_parser("deliver", help="log a delivery (offline)")
    deliver.add_argument("--family", required=True, help="id or reference")
    deliver.add_argument("--item", required=True)
    deliver.add_argument("--qty", type=int, default=1)
    deliver.add_argument("--campaign")
    deliver.add_argument("--note")
    void = commands.add_parser("void", help="void a delivery (offline)")
    void.add_argument("delivery")
    void.add_argument("--reason", required=True)
    sync = commands.add_parser("sync", help="sync with the server")
    sync.add_argument("--batch-size", type=int, default=1000)
    commands.add_parser("status", help="pending changes, clock correction, set-aside records")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out: dict
    try:
        if args.command == "init":
            with open(args.token_file) as handle:
                token = handle.read().strip()
            client = Client(args.server, token, args.db, city=args.city, volunteer=args.volunteer,
                            device_clock=_device_clock())
            out = client.enrol()
            text = f"enrolled: store {args.db}, node {out['node']}, {out['role']} for {out['city'] or 'every city'}"
        else:
            client = Client.open(args.db, device_clock=_device_clock(),
                                 batch_size=getattr(args, "batch_size", 1000),
                                 pull_limit=getattr(args, "batch_size", 1000))
            if args.command == "family-add":
                family = client.add_family(args.reference, args.head, phone=args.phone, household_size=args.size,
                                           district=args.district, address=args.address, notes=args.notes,
                                           association=args.association)
                out, text = {"id": family, "reference": args.reference}, f"registered family {args.reference} ({family})"
            elif args.command == "deliver":
                delivery = client.log_delivery(args.family, args.item, quantity=args.qty, campaign=args.campaign,
                                               note=args.note)
                out, text = {"id": delivery}, f"logged {args.qty} {args.item} for {args.family} ({delivery})"
            elif args.command == "void":
                void = client.void(args.delivery, args.reason)
                out, text = {"id": void}, f"voided {args.delivery} ({void})"
            elif args.command == "sync":
                summary = client.sync()
                out = dataclasses.asdict(summary)
                text = (f"synced: sent {summary.pushed}, received {summary.pulled}, {len(summary.refused)} refused, "
                        f"{summary.round_trips} round trips, {summary.millis} ms")
            else:
                out = client.status()
                out["set_aside_records"] = client.set_aside()
                text = "\n".join(f"{k}: {v}" for k, v in out.items() if k != "set_aside_records")
    except FieldSyncError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(out, ensure_ascii=False) if args.json else text)
    return 0
