"""Fixtures: a fresh server (with its proxy) per test, and a driver factory for the client under test."""

from __future__ import annotations

import pytest

from harness import DRIVERS, Server, real_now

from fieldsync import Client

TOKENS = {
    "admin": ("admin", None),
    "dev-a": ("device", "Tunis"),
    "dev-b": ("device", "Tunis"),
    "dev-sfax": ("device", "Sfax"),
    "hub-tunis": ("hub", "Tunis"),
}


@pytest.fixture
def server(tmp_path):
    instance = Server(tmp_path, TOKENS)
    yield instance
    instance.stop()


@pytest.fixture(params=sorted(DRIVERS))
def kind(request):
    return request.param


@pytest.fixture
def make(server, tmp_path, kind):
    """make(token, name, kind=None) -> a driver of the client under test (or of `kind`)."""
    made = []

    def factory(token: str = "dev-a", name: str = "device", of: str | None = None):
        driver = DRIVERS[of or kind](server, token, tmp_path, name)
        made.append(driver)
        return driver

    yield factory
    for driver in made:
        driver.close()


@pytest.fixture
def admin(server, tmp_path):
    """The admin, as a Python client straight to the server (sets up the catalogue, moves families)."""
    client = Client(server.url, server.token("admin"), str(tmp_path / "admin.fieldsync"), device_clock=real_now)
    client.enrol()
    yield client
    client.close()
