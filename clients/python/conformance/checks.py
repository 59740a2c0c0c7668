"""Checks every scenario makes on what a client sent (the proxy's log)."""

from __future__ import annotations

from proxy import Exchange


def exchanges_of(log: list[Exchange], nodes: set[str]) -> list[Exchange]:
    return [e for e in log if e.path == "/v1/sync" and e.request and e.request.get("node") in nodes]


def lease_pair(exchange: Exchange) -> tuple:
    lease = exchange.request.get("lease") or {}
    return (lease.get("previous"), lease.get("next"))


def _in_sending_order(log: list[Exchange], indexes: list[int]) -> list[int]:
    """A request sent behind another (push window: its lease has `after`) can reach the proxy first: put
    it after the request it follows, the one whose pair is (`after`, its `previous`)."""
    order = list(indexes)
    for index in indexes:
        lease = log[index].request.get("lease") or {}
        if lease.get("after") is None:
            continue
        before = (lease["after"], lease.get("previous"))
        later = [j for j in order[order.index(index) + 1 :] if lease_pair(log[j]) == before]
        if later:
            order.remove(index)
            order.insert(order.index(later[0]) + 1, index)
    return order


def check_leases(log: list[Exchange], sync_starts: list[int]) -> None:
    """docs/protocol.md section 11, per node id: a request's `previous` is the lease the last `200` gave; a
    pair not answered by a `200` is sent again, never replaced by a new `next`; a request sent behind
    another (push window) moves on from that one's pair and names its `previous` in `after`; the first
    request of a sync that starts with a pending pair carries it alone (rule 4)."""
    for node in {e.request.get("node") for e in log if e.path == "/v1/sync" and e.request}:
        current, pending, answered = None, [], None
        mine = [i for i, e in enumerate(log) if e.path == "/v1/sync" and e.request and e.request.get("node") == node]
        firsts = {min((i for i in mine if i >= start), default=None) for start in sync_starts}
        for index in _in_sending_order(log, mine):
            exchange = log[index]
            pair, after = lease_pair(exchange), (exchange.request.get("lease") or {}).get("after")
            if exchange.status == 409 and (exchange.answer or {}).get("type", "").endswith("duplicate-node"):
                break  # two copies of this node id (a restored backup): it is given up (section 15)
            if index in firsts and pending:
                assert pair == pending[0], f"{node}: a sync starting with {pending[0]} pending sent {pair}"
                assert "push" not in exchange.request and "pull" not in exchange.request, (
                    f"{node}: a sync that starts with a pending pair sends it alone (rule 4)"
                )
            if pair in pending or pair == answered:
                pass  # sent again (also after a 200 the client did not save: a page it refused, rule 5)
            elif not pending:
                assert pair[0] == current, (
                    f"{node}: previous {pair[0]} (after {after}) does not follow the current lease {current}"
                )
                pending.append(pair)
            else:
                assert len(pending) == 1 and (after, pair[0]) == pending[0], (
                    f"{node}: a new lease {pair} (after {after}) while {pending} is pending"
                )
                pending.append(pair)
            if exchange.status == 200 and not exchange.fault:
                current, answered = pair[1], pair
                pending = pending[pending.index(pair) + 1 :] if pair in pending else []


def pushed_ids(exchange: Exchange) -> set[str]:
    request = exchange.request or {}
    groups = request.get("push", {}).get("batch", {}).get("groups", [])
    return {row[0] for group in groups for row in group.get("records", [])}


def problems(log: list[Exchange], code: str) -> list[dict]:
    return [e.answer for e in log if e.answer and str(e.answer.get("type", "")).endswith(":" + code)]
