"""FieldSync client for Python, written from docs/protocol.md.

    from fieldsync import Client
    client = Client("http://127.0.0.1:8081", token, "amina.fieldsync")
    client.enrol()
    family = client.add_family("TUN-0042", "Fatma Ben Ali", phone="+216 98 123 456")
    client.log_delivery(family, "food_pack", campaign="2026-winter")
    print(client.sync())
"""

from .client import Client
from .errors import FieldSyncError, ProblemError, ProtocolError, RuleError, SyncStopped, TransportError
from .sync import SyncSummary

__all__ = [
    "Client", "SyncSummary", "FieldSyncError", "ProblemError", "ProtocolError", "RuleError", "SyncStopped",
    "TransportError",
]
__version__ = "0.1.0"
