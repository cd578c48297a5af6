"""CONFIG GET (globs, name/value pairs, RESP3 map) and CONFIG SET of the Redis tuning parameters
tools set (accepted and reported back) and of the settings that have a meaning."""

import pytest
import redis

from conftest import Map, RespConnection, RespError, HOST

# Tuning parameters client tools set; Cairn accepts and reports them (issue 4).
TUNING = {
    "hash-max-listpack-entries": ("256", "1024"),
    "hash-max-listpack-value": ("32", "100"),
    "hash-max-ziplist-entries": ("300", "512"),
    "zset-max-ziplist-value": ("100", "64"),
    "zset-max-listpack-entries": ("64", "128"),
    "set-max-intset-entries": ("1000", "512"),
    "list-compress-depth": ("2", "0"),
    "list-max-listpack-size": ("-1", "-2"),
    "lua-time-limit": ("6000", "5000"),
    "slowlog-log-slower-than": ("20000", "10000"),
    "slowlog-max-len": ("64", "128"),
    "maxmemory-policy": ("allkeys-lru", "noeviction"),
}


def err(client, *args):
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def config_get(c, pattern):
    flat = c.execute_command("CONFIG", "GET", pattern)
    assert len(flat) % 2 == 0
    return {k.decode(): v.decode() for k, v in zip(flat[::2], flat[1::2])}


@pytest.fixture
def restore_config(c):
    """Remembers parameters a test changes and sets them back afterwards (session server)."""
    saved = {}

    def remember(*names):
        for n in names:
            if n not in saved:
                saved[n] = config_get(c, n).get(n)
    yield remember
    for name, value in saved.items():
        if value is not None:
            c.execute_command("CONFIG", "SET", name, value)


def test_config_get_exact(c, server):
    assert config_get(c, "maxmemory") == {"maxmemory": "0"}
    assert config_get(c, "port") == {"port": str(server.port)}
    assert config_get(c, "nosuchparam") == {}
    dir_value = config_get(c, "dir")["dir"]
    assert dir_value.rstrip("/").endswith("data")  # the fixture's --dir


def test_config_get_globs(c):
    mm = config_get(c, "maxmemory*")
    assert "maxmemory" in mm and "maxmemory-policy" in mm
    assert all(k.startswith("maxmemory") for k in mm)
    entries = config_get(c, "*max-*-entries*")
    assert {"hash-max-listpack-entries", "zset-max-listpack-entries", "set-max-intset-entries"} <= set(entries)
    assert all("max-" in k and "entries" in k for k in entries)
    for v in entries.values():
        int(v)
    everything = config_get(c, "*")
    assert len(everything) > 20
    assert {"maxmemory", "port", "dir", "bind", "hash-max-listpack-entries",
            "notify-keyspace-events", "lua-time-limit", "proto-max-bulk-len", "maxclients"} <= set(everything)
    # names are case-insensitive (Redis echoes an exact name as the client spelled it)
    assert {k.lower(): v for k, v in config_get(c, "MAXMEMORY").items()} == {"maxmemory": "0"}
    qm = config_get(c, "por?")
    assert qm == {"port": everything["port"]}


def test_config_get_several_patterns(c):
    got = config_get_multi(c, "port", "maxmemory")
    assert set(got) == {"port", "maxmemory"}


def config_get_multi(c, *patterns):
    flat = c.execute_command("CONFIG", "GET", *patterns)
    return {k.decode(): v.decode() for k, v in zip(flat[::2], flat[1::2])}


def test_config_get_resp3_map(server):
    with RespConnection(HOST, server.port) as conn:
        conn.call("HELLO", "3")
        m = conn.call("CONFIG", "GET", "maxmemory*")
        assert isinstance(m, Map)
        assert m[b"maxmemory"] == b"0"


@pytest.mark.parametrize("name", sorted(TUNING))
def test_config_set_tuning_parameters(c, restore_config, name):
    restore_config(name)
    first, second = TUNING[name]
    assert c.execute_command("CONFIG", "SET", name, first) == b"OK"
    assert config_get(c, name) == {name: first}
    assert c.execute_command("CONFIG", "SET", name, second) == b"OK"
    assert config_get(c, name) == {name: second}


def test_config_set_notify_keyspace_events(c, restore_config):
    restore_config("notify-keyspace-events")
    assert c.execute_command("CONFIG", "SET", "notify-keyspace-events", "KEA") == b"OK"
    value = config_get(c, "notify-keyspace-events")["notify-keyspace-events"]
    assert sorted(value) == sorted("AKE")  # Redis reports it normalised as "AKE"
    assert c.execute_command("CONFIG", "SET", "notify-keyspace-events", "") == b"OK"
    assert config_get(c, "notify-keyspace-events") == {"notify-keyspace-events": ""}


def test_config_set_several_at_once(c, restore_config):
    restore_config("hash-max-listpack-entries", "hash-max-listpack-value")
    assert c.execute_command("CONFIG", "SET", "hash-max-listpack-entries", "7",
                             "hash-max-listpack-value", "9") == b"OK"
    got = config_get(c, "hash-max-listpack-*")
    assert got["hash-max-listpack-entries"] == "7" and got["hash-max-listpack-value"] == "9"


def test_config_set_memory_units(c, restore_config):
    restore_config("maxmemory")
    assert c.execute_command("CONFIG", "SET", "maxmemory", "10mb") == b"OK"
    assert config_get(c, "maxmemory") == {"maxmemory": "10485760"}
    assert c.execute_command("CONFIG", "SET", "maxmemory", "0") == b"OK"


def test_config_ziplist_alias(c, restore_config, target):
    restore_config("hash-max-listpack-entries")
    assert c.execute_command("CONFIG", "SET", "hash-max-ziplist-entries", "333") == b"OK"
    assert config_get(c, "hash-max-ziplist-entries") == {"hash-max-ziplist-entries": "333"}
    if target == "redis":
        # in Redis 7 the ziplist names are aliases of the listpack ones
        assert config_get(c, "hash-max-listpack-entries") == {"hash-max-listpack-entries": "333"}


def test_config_set_errors(c, restore_config):
    restore_config("hash-max-listpack-entries", "maxmemory-policy")
    assert err(c, "CONFIG", "SET", "nosuchparam", "1") == (
        "Unknown option or number of arguments for CONFIG SET - 'nosuchparam'")
    assert err(c, "CONFIG", "SET", "hash-max-listpack-entries", "abc").startswith(
        "CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries')")
    assert err(c, "CONFIG", "SET", "maxmemory-policy", "bogus").startswith(
        "CONFIG SET failed (possibly related to argument 'maxmemory-policy')")
    assert err(c, "CONFIG", "SET", "a") == "wrong number of arguments for 'config|set' command"
    assert err(c, "CONFIG", "SET", "port") == "wrong number of arguments for 'config|set' command"
    assert err(c, "CONFIG", "GET") == "wrong number of arguments for 'config|get' command"
    assert err(c, "CONFIG", "FOO") == "unknown subcommand 'FOO'. Try CONFIG HELP."
    # a failed CONFIG SET changes nothing
    before = config_get(c, "hash-max-listpack-entries")
    with pytest.raises(redis.ResponseError):
        c.execute_command("CONFIG", "SET", "hash-max-listpack-entries", "5", "nosuchparam", "1")
    assert config_get(c, "hash-max-listpack-entries") == before


def test_config_set_proto_max_bulk_len_applies(c, restore_config, server):
    restore_config("proto-max-bulk-len")
    assert c.execute_command("CONFIG", "SET", "proto-max-bulk-len", "1mb") == b"OK"
    assert config_get(c, "proto-max-bulk-len") == {"proto-max-bulk-len": "1048576"}
    with RespConnection(HOST, server.port) as conn:
        conn.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
        reply = conn.read_reply()
        assert reply == RespError("ERR Protocol error: invalid bulk length")
        assert conn.is_closed()
    # below the limit still works
    c.set("k", b"x" * 1000000)
    assert c.strlen("k") == 1000000


def test_config_set_maxclients(c, restore_config):
    restore_config("maxclients")
    assert c.execute_command("CONFIG", "SET", "maxclients", "5000") == b"OK"
    assert config_get(c, "maxclients") == {"maxclients": "5000"}
