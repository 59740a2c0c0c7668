"""`python -m fieldsync` end to end against the real server (the Python client's command line)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from checks import check_leases
from harness import HERE, observe, values


def cli(db, *args, env=None):
    environment = dict(os.environ, PYTHONPATH=str(HERE.parent), **(env or {}))
    return subprocess.run([sys.executable, "-m", "fieldsync", "--db", str(db), *args], capture_output=True,
                          text=True, env=environment, timeout=120)


def test_the_command_line(server, tmp_path):
    db = tmp_path / "cli.fieldsync"
    done = cli(db, "init", "--server", server.url, "--token-file", str(server.tokens["dev-a"]), "--volunteer", "Amina")
    assert done.returncode == 0, done.stderr
    added = cli(db, "--json", "family-add", "--reference", "TUN-0042", "--head", "Fatma Ben Ali", "--size", "5")
    family = json.loads(added.stdout)["id"]
    delivered = cli(db, "--json", "deliver", "--family", "TUN-0042", "--item", "food_pack")
    delivery = json.loads(delivered.stdout)["id"]
    refused = cli(db, "deliver", "--family", "TUN-0042", "--item", "boat")
    assert refused.returncode == 1 and "not an item of the catalogue" in refused.stderr
    synced = cli(db, "--json", "sync")
    assert synced.returncode == 0 and json.loads(synced.stdout)["pushed"] == 2, synced.stderr
    status = json.loads(cli(db, "--json", "status").stdout)
    assert status["pending"] == 0 and status["city"] == "Tunis" and "token" not in json.dumps(status)
    seen = observe(server)
    assert values(seen["families"][family])["household_size"] == 5
    assert values(seen["deliveries"][delivery])["volunteer"] == "Amina"
    assert server.token("dev-a") not in synced.stdout + synced.stderr + added.stdout
    assert oct(os.stat(db).st_mode & 0o777) == "0o600"
    assert cli(db, "nonsense").returncode == 2


def test_a_killed_sync_resumes(server, tmp_path):
    """The store is SQLite, saved per answer: `kill -9` at any point of a sync loses nothing, and the next
    sync sends the pending pair alone and goes on (sections 9 and 11)."""
    db = tmp_path / "killed.fieldsync"
    assert cli(db, "init", "--server", server.proxy.url, "--token-file", str(server.tokens["dev-a"])).returncode == 0
    sys.path.insert(0, str(HERE.parent))
    from fieldsync import Client

    client = Client.open(str(db))
    ids = {client.add_family(f"TUN-K{i:03}", f"Killed {i}") for i in range(300)}
    client.close()
    environment = dict(os.environ, PYTHONPATH=str(HERE.parent))
    for delay in (0.15, 0.3, 0.45):
        process = subprocess.Popen([sys.executable, "-m", "fieldsync", "--db", str(db), "sync", "--batch-size", "10"],
                                   env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.kill()
        process.wait()
    done = cli(db, "--json", "sync")
    assert done.returncode == 0, done.stderr
    assert ids <= set(observe(server)["families"])
    assert json.loads(cli(db, "--json", "status").stdout)["pending"] == 0
    pushed_before_the_last = [e for e in server.proxy.syncs()[:-2] if e.request and "push" in e.request]
    assert pushed_before_the_last, "the killed syncs had pushed some pages"
    check_leases(server.proxy.log, [])
