"""The conformance harness: a real `sync-server` on a free loopback port with a temporary database, the
fault proxy in front of it, and one driver per client (the Swift `field` binary, the Python package),
with the same small API so that each scenario runs unchanged against both.

Binaries: $FIELDSYNC_BIN (scripts/conformance.sh sets it), else `.build/release` of the repository.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))

from fieldsync import Client  # noqa: E402

from proxy import FaultProxy  # noqa: E402

BIN = Path(os.environ.get("FIELDSYNC_BIN") or REPO / ".build" / "release")
SERVER_BIN, FIELD_BIN = BIN / "sync-server", BIN / "field"
YEAR_MS = 365 * 24 * 3600 * 1000
HOUR_MS = 3600 * 1000


def real_now() -> int:
    return int(time.time() * 1000)


class Server:
    """`sync-server serve` on a temporary database, with tokens issued before it starts."""

    def __init__(self, work: Path, tokens: dict[str, tuple[str, str | None]], upstream: tuple[str, Path] | None = None):
        """`upstream`: (URL, token file) of the server above: this one is then a city hub."""
        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        self.db = work / ("hub.db" if upstream else "central.db")
        self.tokens: dict[str, Path] = {}
        for name, (role, city) in tokens.items():
            path = work / f"{name}.token"
            command = [str(SERVER_BIN), "token", "issue", "--db", str(self.db), "--role", role, "--name", name,
                       "--out", str(path), "--log-level", "error"]
            if city:
                command += ["--city", city]
            subprocess.run(command, check=True, capture_output=True)
            self.tokens[name] = path
        self.out = open(work / "server.out", "w+")
        self.err = open(work / "server.err", "w+")
        hub = ["--upstream", upstream[0], "--upstream-token-file", str(upstream[1])] if upstream else []
        self.process = subprocess.Popen(
            [str(SERVER_BIN), "serve", "--db", str(self.db), "--port", "0", "--durability", "normal",
             "--log-level", "warning", "--rate-limit", "1000", *hub],
            stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL,
        )
        if os.environ.get("FIELDSYNC_CONFORMANCE_PIDS"):  # scripts/conformance.sh stops what a killed run left
            with open(os.environ["FIELDSYNC_CONFORMANCE_PIDS"], "a") as pids:
                pids.write(f"{self.process.pid}\n")
        deadline = time.monotonic() + 30
        self.url = None
        while time.monotonic() < deadline:
            self.out.seek(0)
            for line in self.out.read().splitlines():
                if line.startswith("listening on "):
                    self.url = line.removeprefix("listening on ").strip()
            if self.url or self.process.poll() is not None:
                break
            time.sleep(0.05)
        if not self.url:
            self.err.seek(0)
            raise RuntimeError(f"sync-server did not start: {self.err.read()}")
        self.port = int(self.url.rsplit(":", 1)[1])
        self.proxy = FaultProxy(self.port)

    def sync_upstream(self) -> None:
        """A hub's nightly sync with its upstream, now."""
        subprocess.run([str(SERVER_BIN), "sync-upstream", "--db", str(self.db), "--log-level", "error"], check=True,
                       capture_output=True, timeout=120)

    def token(self, name: str) -> str:
        return self.tokens[name].read_text().strip()

    def stop(self) -> None:
        self.proxy.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.out.close()
        self.err.close()

    def log_text(self) -> str:
        self.err.seek(0)
        self.out.seek(0)
        return self.out.read() + self.err.read()


def observe(server: Server, admin: str = "admin") -> dict[str, dict[str, dict]]:
    """Everything the server holds, pulled from cursor "0" by a fresh admin node with raw requests (no
    client code): {collection: {id: {field: (value, hlc, node)}}}. Deleted records keep `_deleted`."""
    token = server.token(admin)
    node = f"{secrets.randbits(63) or 1:016x}"
    lease, cursor, out = None, "0", {}
    while True:
        following = f"{secrets.randbits(64):016x}"
        body = {"v": 1, "node": node, "clock": real_now(), "lease": {"previous": lease, "next": following},
                "pull": {"cursor": cursor, "limit": 5000}}
        request = urllib.request.Request(
            server.url + "/v1/sync", json.dumps(body).encode(),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
        lease, page = following, answer["pull"]
        nodes, hlc = page["batch"].get("nodes", []), 0
        for group in page["batch"].get("groups", []):
            for row in group["records"]:
                hlc += row[1]
                values = row[3:]
                apart = values.pop() if values and isinstance(values[-1], dict) else {}
                record = out.setdefault(group["collection"], {}).setdefault(row[0], {})
                cells = {f: (v, hlc, nodes[row[2]]) for f, v in zip(group["fields"], values)}
                for position, delta, index in apart.get("s", []):
                    cells[group["fields"][position]] = (values[position], hlc + delta, nodes[index])
                for name, cell in cells.items():
                    if name not in record or (cell[1], cell[2]) > (record[name][1], record[name][2]):
                        record[name] = cell
        cursor = page["cursor"]
        if not page["more"]:
            return out


def values(record: dict) -> dict:
    """An observed record's values without stamps."""
    return {f: cell[0] for f, cell in record.items()}


class PythonDriver:
    """The Python client, in process. `clock_offset_ms` shifts its device clock (a wrong clock)."""

    kind = "python"

    def __init__(self, server: Server, token: str, work: Path, name: str):
        self.server, self.token_name, self.path, self.name = server, token, work / f"{name}.fieldsync", name
        self.clock_offset_ms = 0
        self.batch_size = 1000
        self.client: Client | None = None

    def _open(self) -> Client:
        if self.client is None:
            self.client = Client(
                self.server.proxy.url, self.server.token(self.token_name), str(self.path),
                device_clock=lambda: real_now() + self.clock_offset_ms, batch_size=self.batch_size,
                pull_limit=self.batch_size, retry_base=0.1,
            )
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def enrol(self) -> None:
        self._open().enrol()

    def add_family(self, reference: str, head: str, phone: str | None = None) -> str:
        return self._open().add_family(reference, head, phone=phone)

    def edit_family(self, family: str, **fields) -> None:
        self._open().edit_family(family, **fields)

    def deliver(self, family: str, item: str = "food_pack", campaign: str | None = None) -> str:
        return self._open().log_delivery(family, item, campaign=campaign)

    def sync(self) -> dict:
        """{"ok": bool, "error": str | None, ...summary}."""
        self.server.proxy.sync_started()
        try:
            summary = self._open().sync()
        except Exception as error:  # noqa: BLE001 - a scenario looks at the error
            return {"ok": False, "error": f"{type(error).__name__}: {error}"}
        return {"ok": True, "error": None, "round_trips": summary.round_trips, "pushed": summary.pushed,
                "pulled": summary.pulled, "refused": summary.refused}

    def families(self) -> dict[str, dict]:
        return self._open().families()

    def deliveries(self) -> dict[str, dict]:
        return self._open().deliveries()

    def status(self) -> dict:
        client = self._open()
        status = client.status()
        return {"node": status["node"], "pending": status["pending"], "clock_correction_ms": status["clock_correction_ms"],
                "refused": [{"collection": a["collection"], "id": a["id"], "code": a["code"], "field": a["field"]}
                            for a in client.set_aside()]}

    def files(self) -> list[Path]:
        return [Path(str(self.path) + s) for s in ("", "-wal", "-shm")]


class SwiftDriver:
    """The reference client: the `field` binary, one process per command, `--json` output."""

    kind = "swift"

    def __init__(self, server: Server, token: str, work: Path, name: str):
        self.server, self.token_name, self.path, self.name = server, token, work / f"{name}.db", name
        self.clock_offset_ms = 0
        self.batch_size = 1000

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = dict(os.environ, FIELDSYNC_CLOCK_OFFSET_MS=str(self.clock_offset_ms))
        done = subprocess.run([str(FIELD_BIN), *args], capture_output=True, text=True, env=env, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"field {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def json(self, *args: str):
        return json.loads(self.run(*args, "--db", str(self.path), "--json").stdout)

    def close(self) -> None:
        pass

    def enrol(self) -> None:
        self.run("init", "--db", str(self.path), "--server", self.server.proxy.url, "--token-file",
                 str(self.server.tokens[self.token_name]))

    def add_family(self, reference: str, head: str, phone: str | None = None) -> str:
        args = ["family", "add", "--reference", reference, "--head", head, "--force"]
        if phone:
            args += ["--phone", phone]
        return self.json(*args)["id"]

    def edit_family(self, family: str, **fields) -> None:
        names = {"phone": "--phone", "head_name": "--head", "reference": "--reference"}
        args = ["family", "edit", "--db", str(self.path), family]
        for key, value in fields.items():
            args += [names[key], str(value)]
        self.run(*args)

    def deliver(self, family: str, item: str = "food_pack", campaign: str | None = None) -> str:
        args = ["deliver", "--family", family, "--item", item]
        if campaign:
            args += ["--campaign", campaign]
        return self.json(*args)["id"]

    def sync(self) -> dict:
        self.server.proxy.sync_started()
        done = self.run("sync", "--db", str(self.path), "--json", "--batch-size", str(self.batch_size), check=False)
        if done.returncode != 0:
            return {"ok": False, "error": done.stderr.strip()}
        summary = json.loads(done.stdout)
        return {"ok": True, "error": None, "round_trips": summary.get("round_trips"), "pushed": summary.get("pushed"),
                "pulled": summary.get("pulled")}

    def families(self) -> dict[str, dict]:
        return {f["id"]: f for f in self.json("family", "list")}

    def deliveries(self) -> dict[str, dict]:
        out = {}
        for family in self.families():
            for delivery in self.json("family", "show", family).get("deliveries", []):
                out[delivery["id"]] = delivery
        return out

    def status(self) -> dict:
        status = self.json("status")
        return {"node": status["node"], "pending": status["pending"], "clock_correction_ms": status["clock_offset_ms"],
                "refused": status.get("refused", [])}

    def files(self) -> list[Path]:
        return [Path(str(self.path) + s) for s in ("", "-wal", "-shm")]


DRIVERS = {"swift": SwiftDriver, "python": PythonDriver}


def backup(driver, target: Path) -> None:
    """Copy the client's store files (the client is closed first)."""
    driver.close()
    target.mkdir(parents=True, exist_ok=True)
    for path in driver.files():
        if path.exists():
            shutil.copy2(path, target / path.name)


def restore(driver, source: Path) -> None:
    driver.close()
    for path in driver.files():
        saved = source / path.name
        if saved.exists():
            shutil.copy2(saved, path)
        elif path.exists():
            path.unlink()
