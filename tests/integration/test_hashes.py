"""Hash commands against the target (cairnd, or redis-server with --target redis): HSET, HSETNX,
HMSET, HGET, HMGET, HDEL, HEXISTS, HLEN, HSTRLEN, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT,
HRANDFIELD, HSCAN; hashes under the generic key commands (TYPE, OBJECT ENCODING, DEL, EXISTS,
RENAME, COPY, EXPIRE, SCAN TYPE); WRONGTYPE both ways; RESP3 replies; a restart keeps hashes."""

import pytest
import redis

from conftest import RespConnection, HOST, start_cairnd, stop_server

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def err(client, *args):
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def test_hset_hget_counts_new_fields_only(c):
    assert c.execute_command("HSET", "h", "a", "1", "b", "2") == 2
    assert c.execute_command("HSET", "h", "a", "10", "c", "3") == 1
    assert c.execute_command("HSET", "h", "d", "4", "d", "5") == 1  # a field named twice
    assert c.execute_command("HGET", "h", "a") == b"10"
    assert c.execute_command("HGET", "h", "d") == b"5"
    assert c.execute_command("HGET", "h", "missing") is None
    assert c.execute_command("HGET", "nokey", "a") is None
    assert c.execute_command("HLEN", "h") == 4
    assert c.execute_command("HLEN", "nokey") == 0
    assert err(c, "HSET", "h", "a") == "wrong number of arguments for 'hset' command"
    assert err(c, "HSET", "h", "a", "1", "b") == "wrong number of arguments for 'hset' command"


def test_binary_and_empty_fields_and_values(c):
    assert c.execute_command("HSET", "h", b"", b"empty field", b"\x00\xff", b"") == 2
    assert c.execute_command("HGET", "h", b"") == b"empty field"
    assert c.execute_command("HGET", "h", b"\x00\xff") == b""
    assert c.execute_command("HSTRLEN", "h", b"") == 11
    assert c.execute_command("HEXISTS", "h", b"\x00\xff") == 1


def test_hmset_hsetnx(c):
    assert c.execute_command("HMSET", "h", "a", "1", "b", "2") == b"OK"
    assert err(c, "HMSET", "h", "a") == "wrong number of arguments for 'hmset' command"
    assert err(c, "HMSET", "h", "a", "1", "b") == "wrong number of arguments for 'hmset' command"
    assert c.execute_command("HSETNX", "h", "a", "x") == 0
    assert c.execute_command("HSETNX", "h", "c", "3") == 1
    assert c.execute_command("HSETNX", "new", "f", "v") == 1
    assert c.execute_command("HGETALL", "h") in ([b"a", b"1", b"b", b"2", b"c", b"3"],)
    assert c.execute_command("HGET", "new", "f") == b"v"


def test_hmget_hexists_hstrlen(c):
    c.execute_command("HSET", "h", "a", "hello", "b", "")
    assert c.execute_command("HMGET", "h", "a", "missing", "b") == [b"hello", None, b""]
    assert c.execute_command("HMGET", "nokey", "a", "b") == [None, None]
    assert c.execute_command("HEXISTS", "h", "a") == 1
    assert c.execute_command("HEXISTS", "h", "zz") == 0
    assert c.execute_command("HEXISTS", "nokey", "a") == 0
    assert c.execute_command("HSTRLEN", "h", "a") == 5
    assert c.execute_command("HSTRLEN", "h", "zz") == 0
    assert c.execute_command("HSTRLEN", "nokey", "a") == 0


def test_hdel_removes_the_hash_with_its_last_field(c):
    c.execute_command("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert c.execute_command("HDEL", "h", "a", "missing", "a") == 1
    assert c.execute_command("HDEL", "nokey", "a") == 0
    assert c.execute_command("HLEN", "h") == 2
    assert c.execute_command("HDEL", "h", "b", "c") == 2
    assert c.execute_command("EXISTS", "h") == 0
    assert c.execute_command("TYPE", "h") == b"none"
    assert c.execute_command("HGETALL", "h") == []


def test_hkeys_hvals_hgetall(c):
    assert c.execute_command("HKEYS", "nokey") == []
    assert c.execute_command("HVALS", "nokey") == []
    assert c.execute_command("HGETALL", "nokey") == []
    fields = {b"f%d" % i: b"v%d" % i for i in range(100)}
    c.hset("h", mapping=fields)
    assert sorted(c.execute_command("HKEYS", "h")) == sorted(fields)
    assert sorted(c.execute_command("HVALS", "h")) == sorted(fields.values())
    flat = c.execute_command("HGETALL", "h")
    assert dict(zip(flat[0::2], flat[1::2])) == fields


def test_hincrby(c):
    assert c.execute_command("HINCRBY", "h", "n", "5") == 5
    assert c.execute_command("HINCRBY", "h", "n", "-7") == -2
    assert c.execute_command("HGET", "h", "n") == b"-2"
    c.execute_command("HSET", "h", "s", "abc", "big", "9223372036854775807", "sp", " 1")
    assert err(c, "HINCRBY", "h", "s", "1") == "hash value is not an integer"
    assert err(c, "HINCRBY", "h", "sp", "1") == "hash value is not an integer"
    assert err(c, "HINCRBY", "h", "big", "1") == "increment or decrement would overflow"
    assert err(c, "HINCRBY", "h", "n", "x") == "value is not an integer or out of range"
    assert err(c, "HINCRBY", "h", "n", "9223372036854775808") == \
        "value is not an integer or out of range"
    assert c.execute_command("HINCRBY", "h", "big", "-1") == 9223372036854775806


def test_hincrbyfloat(c):
    assert c.execute_command("HINCRBYFLOAT", "h", "f", "10.5") == b"10.5"
    assert c.execute_command("HINCRBYFLOAT", "h", "f", "0.1") == b"10.6"
    assert c.execute_command("HINCRBYFLOAT", "h", "f", "-10.6") == b"0"
    assert c.execute_command("HINCRBYFLOAT", "h", "e", "3e2") == b"300"
    c.execute_command("HSET", "h", "s", "abc", "i", "7")
    assert c.execute_command("HINCRBYFLOAT", "h", "i", "1.5") == b"8.5"
    assert err(c, "HINCRBYFLOAT", "h", "s", "1") == "hash value is not a float"
    assert err(c, "HINCRBYFLOAT", "h", "f", "x") == "value is not a valid float"
    assert err(c, "HINCRBYFLOAT", "h", "f", "inf") == "value is NaN or Infinity"
    c.execute_command("HSET", "h", "inf", "inf")
    assert err(c, "HINCRBYFLOAT", "h", "inf", "1") == "increment would produce NaN or Infinity"


def test_hrandfield(c):
    assert c.execute_command("HRANDFIELD", "nokey") is None
    assert c.execute_command("HRANDFIELD", "nokey", "3") == []
    fields = {b"f%d" % i: b"v%d" % i for i in range(20)}
    c.hset("h", mapping=fields)
    assert c.execute_command("HRANDFIELD", "h") in fields
    assert c.execute_command("HRANDFIELD", "h", "0") == []
    distinct = c.execute_command("HRANDFIELD", "h", "5")
    assert len(distinct) == 5 and len(set(distinct)) == 5 and set(distinct) <= set(fields)
    assert sorted(c.execute_command("HRANDFIELD", "h", "100")) == sorted(fields)
    repeats = c.execute_command("HRANDFIELD", "h", "-50")
    assert len(repeats) == 50 and set(repeats) <= set(fields)
    pairs = c.execute_command("HRANDFIELD", "h", "-6", "WITHVALUES")
    assert len(pairs) == 12
    for field, value in zip(pairs[0::2], pairs[1::2]):
        assert fields[field] == value
    # Every field is drawn sometimes: the draw is not stuck on a few.
    seen = set()
    for _ in range(30):
        seen.update(c.execute_command("HRANDFIELD", "h", "-20"))
    assert seen == set(fields)
    assert err(c, "HRANDFIELD", "h", "x") == "value is not an integer or out of range"
    assert err(c, "HRANDFIELD", "h", "1", "BOGUS") == "syntax error"
    assert err(c, "HRANDFIELD", "h", "1", "WITHVALUES", "x") == "syntax error"
    assert err(c, "HRANDFIELD", "h", "-9223372036854775808").startswith("value is out of range")
    assert err(c, "HRANDFIELD", "h", "-4611686018427387905", "WITHVALUES") == \
        "value is out of range"


def test_hscan_walks_every_field_once_per_full_iteration(c):
    fields = {b"f%03d" % i: b"v%d" % i for i in range(300)}
    c.hset("h", mapping=fields)
    seen = {}
    cursor = b"0"
    while True:
        cursor, batch = c.execute_command("HSCAN", "h", cursor, "COUNT", "17")
        seen.update(zip(batch[0::2], batch[1::2]))
        if cursor == b"0":
            break
    assert seen == fields
    cursor, batch = c.execute_command("HSCAN", "h", "0", "MATCH", "f00?", "COUNT", "1000")
    assert cursor == b"0"
    assert dict(zip(batch[0::2], batch[1::2])) == {b"f%03d" % i: b"v%d" % i for i in range(10)}
    assert c.execute_command("HSCAN", "nokey", "0") == [b"0", []]
    assert err(c, "HSCAN", "h", "x") == "invalid cursor"
    assert err(c, "HSCAN", "h", "0", "COUNT", "0") == "syntax error"
    assert err(c, "HSCAN", "h", "0", "BOGUS", "1") == "syntax error"


def test_wrongtype_both_ways(c):
    c.set("s", "v")
    c.execute_command("HSET", "h", "f", "v")
    for args in (["HSET", "s", "f", "v"], ["HGET", "s", "f"], ["HMGET", "s", "f"],
                 ["HDEL", "s", "f"], ["HLEN", "s"], ["HGETALL", "s"], ["HKEYS", "s"],
                 ["HVALS", "s"], ["HEXISTS", "s", "f"], ["HSTRLEN", "s", "f"],
                 ["HINCRBY", "s", "f", "1"], ["HINCRBYFLOAT", "s", "f", "1"],
                 ["HSETNX", "s", "f", "v"], ["HRANDFIELD", "s"], ["HSCAN", "s", "0"],
                 ["GET", "h"], ["APPEND", "h", "x"], ["INCR", "h"], ["STRLEN", "h"],
                 ["GETRANGE", "h", "0", "1"], ["SETRANGE", "h", "0", "x"], ["GETDEL", "h"]):
        assert err(c, *args) == WRONGTYPE, args
    assert c.execute_command("MGET", "h", "s") == [None, b"v"]
    assert c.set("h", "now a string") == b"OK"
    assert c.execute_command("TYPE", "h") == b"string"
    assert c.execute_command("HSET", "h2", "f", "v") == 1
    assert c.execute_command("HGET", "h2", "f") == b"v"


def test_generic_key_commands_on_hashes(c):
    c.execute_command("HSET", "h", "a", "1", "b", "2")
    assert c.execute_command("TYPE", "h") == b"hash"
    assert c.execute_command("OBJECT", "ENCODING", "h") in (b"hashtable", b"listpack")
    assert c.execute_command("EXISTS", "h") == 1
    assert c.execute_command("EXPIRE", "h", "100") == 1
    assert 98 <= c.execute_command("TTL", "h") <= 100
    assert c.execute_command("HGET", "h", "a") == b"1"
    assert c.execute_command("HSET", "h", "c", "3") == 1
    assert c.execute_command("TTL", "h") > 0, "a write keeps the hash's TTL"
    assert c.execute_command("RENAME", "h", "h2") == b"OK"
    assert c.execute_command("EXISTS", "h") == 0
    assert c.execute_command("TTL", "h2") > 0
    assert c.execute_command("HGET", "h2", "c") == b"3"
    assert c.execute_command("COPY", "h2", "h3") == 1
    assert c.execute_command("HSET", "h3", "a", "changed") == 0
    assert c.execute_command("HGET", "h2", "a") == b"1", "a copy is independent"
    assert c.execute_command("PERSIST", "h3") == 1
    assert c.execute_command("TTL", "h3") == -1
    c.set("s", "v")
    assert c.execute_command("RENAME", "h3", "s") == b"OK"
    assert c.execute_command("TYPE", "s") == b"hash"
    assert c.execute_command("HLEN", "s") == 3
    cursor, keys = c.execute_command("SCAN", "0", "TYPE", "hash", "COUNT", "1000")
    assert sorted(keys) == [b"h2", b"s"]
    assert c.execute_command("DEL", "h2", "s") == 2
    assert c.execute_command("DBSIZE") == 0


def test_expired_hash_is_gone(c):
    c.execute_command("HSET", "h", "a", "1")
    assert c.execute_command("PEXPIRE", "h", "1") == 1
    import time
    time.sleep(0.05)
    assert c.execute_command("HGET", "h", "a") is None
    assert c.execute_command("EXISTS", "h") == 0
    assert c.execute_command("HSET", "h", "b", "2") == 1
    assert c.execute_command("HGETALL", "h") == [b"b", b"2"], "no field of the expired hash"


def test_resp3_replies(server):
    conn = RespConnection(HOST, server.port)
    try:
        conn.call("HELLO", "3")
        conn.call("FLUSHALL")
        conn.call("HSET", "h", "a", "1", "b", "2")
        assert conn.call_bytes("HGETALL", "h").startswith(b"%2\r\n")
        assert conn.call_bytes("HGETALL", "nokey") == b"%0\r\n"
        assert conn.call_bytes("HGET", "h", "zz") == b"_\r\n"
        reply = conn.call_bytes("HRANDFIELD", "h", "-1", "WITHVALUES")
        assert reply.startswith(b"*1\r\n*2\r\n"), reply
    finally:
        conn.close()


def test_large_hash_values(c):
    big = b"x" * (300 * 1024)  # over the blob threshold
    assert c.execute_command("HSET", "h", "big", big, "small", "s") == 2
    assert c.execute_command("HGET", "h", "big") == big
    assert c.execute_command("HSTRLEN", "h", "big") == len(big)
    assert c.execute_command("DEL", "h") == 1


def test_hash_field_limit(c, is_redis):
    if is_redis:
        pytest.skip("Cairn's element limit")
    too_long = b"f" * (512 * 1024 + 1)
    assert err(c, "HSET", "h", too_long, "v") == "element too large (max 524288 bytes)"
    assert c.execute_command("HGET", "h", too_long) is None
    assert c.execute_command("EXISTS", "h") == 0


def test_hashes_survive_a_restart(tmp_path, is_redis):
    if is_redis:
        pytest.skip("restarts a cairnd")
    data_dir = str(tmp_path / "data")
    proc = start_cairnd(dir=data_dir, fsync="no")
    client = proc.client()
    for i in range(50):
        client.hset("h%d" % i, mapping={"a": i, "b": "x" * i})
    client.delete("h7")
    client.close()
    assert stop_server(proc) == 0
    proc = start_cairnd(dir=data_dir, fsync="no")
    try:
        client = proc.client()
        assert client.dbsize() == 49
        assert client.hgetall("h9") == {b"a": b"9", b"b": b"x" * 9}
        assert client.exists("h7") == 0
        assert client.hset("h7", "c", "new") == 1
        assert client.hgetall("h7") == {b"c": b"new"}
        client.close()
    finally:
        stop_server(proc)
