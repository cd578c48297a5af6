"""Server commands: COMMAND, INFO, DBSIZE, FLUSHDB/FLUSHALL, TIME, LASTSAVE, SAVE/BGSAVE, OBJECT,
and the unknown-command / wrong-arity errors. Where Cairn's values legitimately differ from Redis
(memory figures, encodings, versions) only the shape is checked (README: differences)."""

import time

import pytest
import redis

from conftest import Map, RespError, wait_until

# Every command of issue 4; COMMAND must know each of them.
ISSUE_COMMANDS = """
ping echo hello quit reset select client command info dbsize flushdb flushall time lastsave save
bgsave shutdown object config multi exec discard watch unwatch set get getset getdel getex mget
mset msetnx setnx setex psetex append strlen getrange setrange incr decr incrby decrby
incrbyfloat del unlink exists type rename renamenx keys scan randomkey touch copy expire pexpire
expireat pexpireat ttl pttl expiretime pexpiretime persist
""".split()

# name -> (arity, first key, last key, step) as Redis 7.0 reports them.
COMMAND_SHAPES = {
    "get": (2, 1, 1, 1), "set": (-3, 1, 1, 1), "mget": (-2, 1, -1, 1), "mset": (-3, 1, -1, 2),
    "del": (-2, 1, -1, 1), "incr": (2, 1, 1, 1), "ping": (-1, 0, 0, 0), "rename": (3, 1, 2, 1),
    "expire": (-3, 1, 1, 1), "ttl": (2, 1, 1, 1), "copy": (-3, 1, 2, 1), "scan": (-2, 0, 0, 0),
    "getrange": (4, 1, 1, 1), "msetnx": (-3, 1, -1, 2), "exists": (-2, 1, -1, 1),
}


def err(client, *args):
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def info_fields(client, section=None):
    args = ["INFO"] + ([section] if section else [])
    text = client.execute_command(*args)
    text = text.decode() if isinstance(text, bytes) else text
    fields, sections = {}, []
    for line in text.splitlines():
        if line.startswith("# "):
            sections.append(line[2:].strip().lower())
        elif ":" in line:
            k, _, v = line.partition(":")
            fields[k] = v
    return fields, sections


# --- COMMAND


def test_command_count_and_list(c):
    count = c.execute_command("COMMAND", "COUNT")
    names = [n.decode().lower() for n in c.execute_command("COMMAND", "LIST")]
    # COMMAND LIST also names subcommands ("client|id"); COMMAND COUNT counts top-level ones
    assert count == len([n for n in names if "|" not in n])
    assert len(set(names)) == len(names)
    missing = [n for n in ISSUE_COMMANDS if n not in names]
    assert missing == []


def test_command_list_filterby_pattern(c):
    names = {n.decode() for n in c.execute_command("COMMAND", "LIST", "FILTERBY", "PATTERN", "getr*")}
    assert names == {"getrange"}
    names = {n.decode() for n in c.execute_command("COMMAND", "LIST", "FILTERBY", "PATTERN", "pexpire*")}
    assert names == {"pexpire", "pexpireat", "pexpiretime"}


def test_command_info(c):
    names = list(COMMAND_SHAPES)
    infos = c.execute_command("COMMAND", "INFO", *names, "nosuchcmd")
    assert len(infos) == len(names) + 1
    assert infos[-1] is None
    for name, info in zip(names, infos):
        assert info is not None, name
        assert info[0].decode().lower() == name
        arity, first, last, step = COMMAND_SHAPES[name]
        assert (info[1], info[3], info[4], info[5]) == (arity, first, last, step), name
        flags = {f.decode() if isinstance(f, bytes) else f for f in info[2]}
        if name in ("get", "ttl", "getrange", "mget", "exists"):
            assert "readonly" in flags, (name, flags)
        if name in ("set", "del", "incr", "mset", "rename"):
            assert "write" in flags, (name, flags)


def test_command_info_is_case_insensitive(c):
    info = c.execute_command("COMMAND", "INFO", "GeT")
    assert info[0] is not None and info[0][0].decode().lower() == "get"


def test_command_docs(raw):
    raw.call("HELLO", "3")
    docs = raw.call("COMMAND", "DOCS", "get", "set")
    assert isinstance(docs, Map)
    assert set(docs) == {b"get", b"set"}
    for name in (b"get", b"set"):
        doc = docs[name]
        assert isinstance(doc, Map)
        assert isinstance(doc[b"summary"], bytes) and len(doc[b"summary"]) > 5
        assert doc[b"since"]
        assert doc[b"group"] == b"string"
    assert raw.call("COMMAND", "DOCS", "nosuchcmd") == Map()


def test_command_docs_resp2_pairs(c):
    docs = c.execute_command("COMMAND", "DOCS", "incr")
    assert docs[0] == b"incr"
    fields = dict(zip(docs[1][::2], docs[1][1::2]))
    assert fields[b"group"] == b"string"
    assert b"summary" in fields


def test_command_errors(c):
    assert err(c, "COMMAND", "FOO") == "unknown subcommand 'FOO'. Try COMMAND HELP."
    assert err(c, "COMMAND", "COUNT", "x") == "wrong number of arguments for 'command|count' command"


# --- unknown commands and arity


def test_unknown_command_messages(raw):
    assert raw.call("NOSUCH") == RespError("ERR unknown command 'NOSUCH', with args beginning with: ")
    assert raw.call("nosuch", "a", "") == RespError(
        "ERR unknown command 'nosuch', with args beginning with: 'a' '' ")
    assert raw.call("PING") == "PONG"  # the connection stays usable


@pytest.mark.parametrize("args,name", [
    (("GET",), "get"), (("SET", "k"), "set"), (("INCR",), "incr"), (("INCRBY", "k"), "incrby"),
    (("TTL",), "ttl"), (("EXPIRE", "k"), "expire"), (("RENAME", "a"), "rename"),
    (("GETRANGE", "k", "0"), "getrange"), (("SETRANGE", "k", "0"), "setrange"),
    (("APPEND", "k"), "append"), (("DBSIZE", "x"), "dbsize"), (("TIME", "x"), "time"),
    (("MULTI", "x"), "multi"), (("TYPE",), "type"), (("PERSIST",), "persist"),
    (("GETDEL",), "getdel"), (("STRLEN",), "strlen"), (("SETNX", "k"), "setnx"),
    (("LASTSAVE", "x"), "lastsave"), (("KEYS",), "keys"), (("SCAN",), "scan"),
])
def test_wrong_arity(raw, args, name):
    assert raw.call(*args) == RespError("ERR wrong number of arguments for '%s' command" % name)


# --- INFO


def test_info_default_sections(c):
    fields, sections = info_fields(c)
    for s in ("server", "clients", "memory", "persistence", "stats", "keyspace"):
        assert s in sections, sections
    assert int(fields["tcp_port"]) == c.connection_pool.connection_kwargs["port"]
    assert int(fields["connected_clients"]) >= 1
    assert int(fields["blocked_clients"]) == 0
    assert int(fields["used_memory"]) > 0
    assert int(fields["uptime_in_seconds"]) >= 0
    for name in ("expired_keys", "total_commands_processed", "total_connections_received",
                 "keyspace_hits", "keyspace_misses"):
        assert int(fields[name]) >= 0, name


def test_info_single_section(c):
    fields, sections = info_fields(c, "memory")
    assert sections == ["memory"]
    assert int(fields["used_memory"]) > 0
    fields, sections = info_fields(c, "clients")
    assert sections == ["clients"]
    assert "blocked_clients" in fields
    fields, sections = info_fields(c, "nosuchsection")
    assert sections == [] and fields == {}


def test_info_keyspace(c):
    fields, sections = info_fields(c, "keyspace")
    assert sections == ["keyspace"]
    assert "db0" not in fields  # an empty database is not listed
    c.mset({"a": 1, "b": 2, "c": 3})
    c.expire("a", 100)
    fields, _ = info_fields(c, "keyspace")
    parts = dict(p.split("=") for p in fields["db0"].split(","))
    assert int(parts["keys"]) == 3
    assert int(parts["expires"]) == 1


def test_info_stats_counters(c):
    before, _ = info_fields(c, "stats")
    c.set("hit", "v")
    c.get("hit")
    c.get("hit")
    c.get("miss")
    after, _ = info_fields(c, "stats")
    assert int(after["keyspace_hits"]) - int(before["keyspace_hits"]) == 2
    assert int(after["keyspace_misses"]) - int(before["keyspace_misses"]) == 1
    assert int(after["total_commands_processed"]) >= int(before["total_commands_processed"]) + 4


def test_info_engine_counters(c):
    """INFO stats reports the engine's shape: SAVE flushes a table into level 0, and a GET
    served from it counts in the block cache."""
    c.set("engine-key", "v" * 100)
    assert c.save()
    before, _ = info_fields(c, "stats")
    files = [int(n) for n in before["engine_files_per_level"].split(",")]
    assert len(files) >= 2 and sum(files) >= 1, files
    assert int(before["engine_flush_count"]) >= 1
    assert int(before["engine_stall_micros"]) >= 0
    assert c.get("engine-key") == b"v" * 100
    after, _ = info_fields(c, "stats")
    lookups = lambda f: int(f["engine_block_cache_hits"]) + int(f["engine_block_cache_misses"])
    assert lookups(after) > lookups(before)
    # The table's answer went to the row cache: the next GET is served from it, a write drops it.
    assert c.get("engine-key") == b"v" * 100
    again, _ = info_fields(c, "stats")
    assert int(again["engine_row_cache_hits"]) == int(after["engine_row_cache_hits"]) + 1
    c.set("engine-key", "w")
    assert c.get("engine-key") == b"w"


def test_key_scans_leave_the_row_cache_as_it_was(rs):
    """DBSIZE, KEYS, SCAN and INFO's keyspace count read every key once, from the tables here:
    they leave the row cache as it was (caching each key would evict what point reads come back
    to), while GETs of the same keys fill it."""
    keys = ["scan-row-%03d" % i for i in range(200)]
    rs.mset({key: "v" * 100 for key in keys})
    assert rs.save()
    usage = lambda: int(rs.info("memory")["row_cache_usage_bytes"])
    before = usage()
    assert rs.dbsize() == len(keys)
    assert sorted(rs.keys("scan-row-*")) == keys
    assert sorted(rs.scan_iter("scan-row-*", count=50)) == keys
    assert rs.info("keyspace")["db0"]["keys"] == len(keys)
    assert usage() == before
    assert [rs.get(key) for key in keys] == ["v" * 100] * len(keys)
    assert usage() > before


def test_info_commandstats(c):
    def calls(name):
        fields, _ = info_fields(c, "commandstats")
        value = fields.get("cmdstat_" + name)
        if value is None:
            return 0
        return int(dict(p.split("=") for p in value.split(","))["calls"])
    before_set, before_get = calls("set"), calls("get")
    for i in range(3):
        c.set("k", i)
    c.get("k")
    assert calls("set") == before_set + 3
    assert calls("get") == before_get + 1
    fields, sections = info_fields(c, "commandstats")
    assert sections == ["commandstats"]
    assert "usec" in fields["cmdstat_set"]


def test_info_everything_has_commandstats(c):
    c.set("x", 1)
    fields, sections = info_fields(c, "everything")
    assert "commandstats" in sections and "keyspace" in sections
    assert "cmdstat_set" in fields


def test_info_clients_counts_connections(c, client_factory):
    before, _ = info_fields(c, "clients")
    extra = [client_factory() for _ in range(3)]
    for e in extra:
        e.ping()
    after, _ = info_fields(c, "clients")
    assert int(after["connected_clients"]) == int(before["connected_clients"]) + 3


# --- DBSIZE, FLUSHDB, FLUSHALL


def test_flushdb_flushall(c):
    c.mset({b"k%d" % i: i for i in range(50)})
    c.execute_command("SET", "t", "v", "EX", 100)
    assert c.dbsize() == 51
    assert c.execute_command("FLUSHDB") == b"OK"
    assert c.dbsize() == 0
    assert c.keys("*") == []
    assert c.get("k1") is None
    assert c.ttl("t") == -2
    c.set("a", 1)
    assert c.execute_command("FLUSHALL") == b"OK"
    assert c.dbsize() == 0
    c.set("a", 1)
    assert c.execute_command("FLUSHALL", "ASYNC") == b"OK"
    assert c.dbsize() == 0
    c.set("a", 1)
    assert c.execute_command("FLUSHDB", "SYNC") == b"OK"
    assert c.dbsize() == 0
    assert err(c, "FLUSHALL", "FOO") == "syntax error"
    assert err(c, "FLUSHDB", "FOO") == "syntax error"
    # keys written after a flush are there
    c.set("after", "v")
    assert c.get("after") == b"v"
    assert c.dbsize() == 1


# --- TIME, LASTSAVE, SAVE, BGSAVE


def test_time(c):
    secs, usecs = c.execute_command("TIME")
    secs, usecs = int(secs), int(usecs)
    assert abs(secs - time.time()) < 5
    assert 0 <= usecs < 1000000


def test_lastsave_save_bgsave(c):
    first = c.execute_command("LASTSAVE")
    assert isinstance(first, int) and first > 0
    c.set("persist-me", "v")
    assert c.execute_command("SAVE") == b"OK"
    after_save = c.execute_command("LASTSAVE")
    assert after_save >= first
    assert abs(after_save - time.time()) < 5
    reply = c.execute_command("BGSAVE")
    assert isinstance(reply, bytes) and reply  # "Background saving started" in Redis
    # wait until the background save is done before the next SAVE (Redis refuses overlaps)
    wait_until(lambda: info_fields(c, "persistence")[0].get("rdb_bgsave_in_progress", "0") == "0",
               timeout=10, message="BGSAVE to finish")
    assert c.execute_command("LASTSAVE") >= after_save
    assert c.get("persist-me") == b"v"


# --- OBJECT


def test_object(c, target):
    c.set("s", "hello")
    c.set("n", "12345")
    assert c.execute_command("OBJECT", "ENCODING", "missing") is None
    enc_s = c.execute_command("OBJECT", "ENCODING", "s")
    enc_n = c.execute_command("OBJECT", "ENCODING", "n")
    assert isinstance(enc_s, bytes) and enc_s
    assert isinstance(enc_n, bytes) and enc_n
    if target == "redis":
        assert (enc_s, enc_n) == (b"embstr", b"int")
    refcount = c.execute_command("OBJECT", "REFCOUNT", "s")
    assert isinstance(refcount, int) and refcount >= 1
    idle = c.execute_command("OBJECT", "IDLETIME", "s")
    assert isinstance(idle, int) and 0 <= idle < 100
    assert c.execute_command("OBJECT", "REFCOUNT", "missing") is None
    assert c.execute_command("OBJECT", "IDLETIME", "missing") is None
    try:
        freq = c.execute_command("OBJECT", "FREQ", "s")
        assert isinstance(freq, int) and freq >= 0
    except redis.ResponseError as e:
        # Redis without an LFU policy refuses; Cairn may answer a frequency
        assert str(e).startswith("An LFU maxmemory policy is not selected")
    assert err(c, "OBJECT", "FOO", "s") == "unknown subcommand 'FOO'. Try OBJECT HELP."
    assert err(c, "OBJECT", "ENCODING") == "wrong number of arguments for 'object|encoding' command"


def test_object_help(c):
    lines = c.execute_command("OBJECT", "HELP")
    assert isinstance(lines, list) and len(lines) >= 5
    text = b"\n".join(lines)
    for sub in (b"ENCODING", b"FREQ", b"IDLETIME", b"REFCOUNT", b"HELP"):
        assert sub in text
