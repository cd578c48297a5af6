"""CAIRN COMPACT against cairnd (a Cairn-specific command; skipped under --target redis): after
large collections (a hash, set, list and sorted set) are deleted, a manual compaction gives their space back; other clients are
served while it runs; keys written after and collections re-created under the same keys see none
of the old elements, also after a restart. Plus the container's errors and COMMAND DOCS."""

import os
import select

import pytest

from conftest import RespConnection, RespError, start_cairnd, stop_server, target_name

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="CAIRN is Cairn-specific")

ELEMENTS = 120_000  # per collection
BATCH = 1000        # elements per command
VALUE = b"v" * 24


@pytest.fixture
def node(tmp_path):
    proc = start_cairnd(dir=str(tmp_path / "data"))
    yield proc
    stop_server(proc)


def directory_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except FileNotFoundError:  # deleted by the engine meanwhile
                pass
    return total


def fill(client):
    """A hash, a set, a list and a sorted set of ELEMENTS elements each, through pipelines."""
    pipe = client.pipeline(transaction=False)
    for start in range(0, ELEMENTS, BATCH):
        fields = []
        for i in range(start, start + BATCH):
            fields += [b"field:%07d" % i, VALUE]
        members = [b"member:%07d" % i for i in range(start, start + BATCH)]
        pipe.execute_command("HSET", "big:hash", *fields)
        pipe.execute_command("SADD", "big:set", *members)
        pipe.execute_command("RPUSH", "big:list", *members)
        pipe.execute_command("ZADD", "big:zset", *[x for i, m in enumerate(members)
                                                   for x in (str(start + i), m)])
        if start % (20 * BATCH) == 0:
            pipe.execute()
    pipe.execute()


def compact_while_pinging(port):
    """Sends CAIRN COMPACT on one connection and PINGs on another until it answers; returns the
    reply and how many PINGs were answered while the compaction ran."""
    with RespConnection(port=port, timeout=60) as compacting, RespConnection(port=port) as other:
        compacting.send("CAIRN", "COMPACT")
        answered = 0
        while not select.select([compacting.sock], [], [], 0)[0]:
            assert other.call("PING") == "PONG"
            answered += 1
        return compacting.read_reply(), answered


def test_compact_reclaims_deleted_collections(node):
    c = node.client()
    c.execute_command("HSET", "keep:hash", *[x for i in range(100) for x in (b"k%d" % i, b"x")])
    fill(c)
    assert c.execute_command("HLEN", "big:hash") == ELEMENTS
    assert c.execute_command("SCARD", "big:set") == ELEMENTS
    assert c.execute_command("LLEN", "big:list") == ELEMENTS
    assert c.execute_command("ZCARD", "big:zset") == ELEMENTS
    assert c.execute_command("SAVE")  # the elements in tables, not only in the WAL
    full_bytes = directory_bytes(node.dir)
    assert full_bytes > 10 * ELEMENTS  # at least 10 bytes per element of each collection

    assert c.execute_command("DEL", "big:hash", "big:set", "big:list", "big:zset") == 4
    # Re-created before the compaction: a new generation, which the filter must keep.
    assert c.execute_command("HSET", "big:hash", "fresh", "1") == 1

    reply, pings = compact_while_pinging(node.port)
    assert reply == "OK"
    assert pings > 0, "no other client was served while CAIRN COMPACT ran"
    compacted_bytes = directory_bytes(node.dir)
    print("data directory: %d bytes full, %d after DEL and CAIRN COMPACT; %d PINGs meanwhile" % (
        full_bytes, compacted_bytes, pings))
    assert compacted_bytes < full_bytes / 20, (full_bytes, compacted_bytes)
    info = c.info("stats")
    assert info["engine_manual_compaction_count"] == 1

    c.set("after", "written after")
    assert c.get("after") == b"written after"
    assert c.execute_command("HGETALL", "big:hash") == {b"fresh": b"1"}
    assert c.execute_command("SADD", "big:set", "m") == 1
    assert c.execute_command("SMEMBERS", "big:set") == {b"m"}
    assert c.execute_command("RPUSH", "big:list", "x") == 1
    assert c.execute_command("LRANGE", "big:list", 0, -1) == [b"x"]
    assert c.execute_command("ZADD", "big:zset", "7", "z") == 1
    assert c.execute_command("ZRANGE", "big:zset", 0, -1, "WITHSCORES") == [b"z", b"7"]
    assert c.execute_command("HLEN", "keep:hash") == 100

    stop_server(node)
    restarted = start_cairnd(dir=node.dir)
    try:
        r = restarted.client()
        assert r.get("after") == b"written after"
        assert r.execute_command("HGETALL", "big:hash") == {b"fresh": b"1"}
        assert r.execute_command("SMEMBERS", "big:set") == {b"m"}
        assert r.execute_command("LRANGE", "big:list", 0, -1) == [b"x"]
        assert r.execute_command("ZRANGEBYSCORE", "big:zset", "-inf", "+inf") == [b"z"]
        assert r.execute_command("HLEN", "keep:hash") == 100
    finally:
        stop_server(restarted)


def test_compact_on_an_empty_node_and_twice(node):
    c = node.client()
    assert c.execute_command("CAIRN", "COMPACT") == b"OK"
    c.set("k", "v")
    assert c.execute_command("cairn", "compact") == b"OK"
    assert c.get("k") == b"v"


def test_concurrent_requests_are_all_answered(node):
    c = node.client()
    c.execute_command("SADD", "s", *[b"m%d" % i for i in range(5000)])
    c.delete("s")
    connections = [RespConnection(port=node.port, timeout=60) for _ in range(4)]
    try:
        for conn in connections:
            conn.send("CAIRN", "COMPACT")
        assert [conn.read_reply() for conn in connections] == ["OK"] * 4
    finally:
        for conn in connections:
            conn.close()


def test_shutdown_during_compact(node):
    """SIGTERM while CAIRN COMPACT runs: the compaction stops early, cairnd exits cleanly and
    restarts with every key."""
    c = node.client()
    pipe = c.pipeline(transaction=False)
    for start in range(0, 60_000, BATCH):
        pipe.execute_command("SADD", "gone", *[b"m%d" % i for i in range(start, start + BATCH)])
        pipe.execute_command("SADD", "kept", *[b"m%d" % i for i in range(start, start + BATCH)])
    pipe.execute()
    c.delete("gone")
    with RespConnection(port=node.port, timeout=30) as conn:
        conn.send("CAIRN", "COMPACT")
        assert stop_server(node) == 0
    restarted = start_cairnd(dir=node.dir)
    try:
        assert restarted.client().scard("kept") == 60_000
        assert restarted.client().exists("gone") == 0
    finally:
        stop_server(restarted)


def test_cairn_errors_and_help(node):
    with RespConnection(port=node.port) as conn:
        assert conn.call("CAIRN") == RespError("ERR wrong number of arguments for 'cairn' command")
        assert conn.call("CAIRN", "NOPE") == RespError(
            "ERR unknown subcommand 'NOPE'. Try CAIRN HELP.")
        assert conn.call("CAIRN", "COMPACT", "now") == RespError(
            "ERR wrong number of arguments for 'cairn|compact' command")
        help_lines = conn.call("CAIRN", "HELP")
        assert help_lines[0].startswith("CAIRN <subcommand>")
        assert any(line.startswith("COMPACT") for line in help_lines)
        # Not inside MULTI: refused when queued, and the transaction is aborted.
        assert conn.call("MULTI") == "OK"
        assert conn.call("CAIRN", "COMPACT") == RespError(
            "ERR Command not allowed inside a transaction")
        assert conn.call("EXEC") == RespError(
            "EXECABORT Transaction discarded because of previous errors.")


def test_command_docs_describe_cairn(node):
    with RespConnection(port=node.port) as conn:
        docs = conn.call("COMMAND", "DOCS", "cairn")
        assert docs[0] == b"cairn"
        entry = dict(zip(docs[1][::2], docs[1][1::2]))
        assert b"Cairn" in entry[b"summary"]
        subcommands = dict(zip(entry[b"subcommands"][::2], entry[b"subcommands"][1::2]))
        assert set(subcommands) == {b"cairn|compact", b"cairn|consistency", b"cairn|fault",
                                    b"cairn|repair", b"cairn|ring", b"cairn|help"}
        compact = dict(zip(subcommands[b"cairn|compact"][::2],
                           subcommands[b"cairn|compact"][1::2]))
        assert b"ompact" in compact[b"summary"]
        info = conn.call("COMMAND", "INFO", "cairn|compact")
        assert info[0][0] == b"cairn|compact"
        assert info[0][1] == 2  # arity
        assert "no_multi" in info[0][2] and "admin" in info[0][2]
