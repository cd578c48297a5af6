"""Set commands against the target (cairnd, or redis-server with --target redis): SADD, SREM,
SISMEMBER, SMISMEMBER, SMEMBERS, SCARD, SPOP, SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SUNION,
SDIFF, the *STORE variants and SSCAN; sets under the generic key commands; WRONGTYPE; RESP3
set replies."""

import pytest
import redis

from conftest import RespConnection, HOST

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def err(client, *args):
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def members(client, key):
    return sorted(client.execute_command("SMEMBERS", key))


def test_sadd_srem_scard_smembers(c):
    assert c.execute_command("SADD", "s", "a", "b", "a", "") == 3
    assert c.execute_command("SADD", "s", "b", "c") == 1
    assert c.execute_command("SCARD", "s") == 4
    assert members(c, "s") == [b"", b"a", b"b", b"c"]
    assert c.execute_command("SREM", "s", "a", "zz", "a") == 1
    assert c.execute_command("SREM", "nokey", "a") == 0
    assert c.execute_command("SREM", "s", "b", "c", "") == 3
    assert c.execute_command("EXISTS", "s") == 0, "a set with no members is gone"
    assert c.execute_command("SCARD", "s") == 0
    assert c.execute_command("SMEMBERS", "s") == []
    assert err(c, "SADD", "s") == "wrong number of arguments for 'sadd' command"


def test_sismember_smismember(c):
    c.execute_command("SADD", "s", "a", b"\x00b")
    assert c.execute_command("SISMEMBER", "s", "a") == 1
    assert c.execute_command("SISMEMBER", "s", b"\x00b") == 1
    assert c.execute_command("SISMEMBER", "s", "z") == 0
    assert c.execute_command("SISMEMBER", "nokey", "a") == 0
    assert c.execute_command("SMISMEMBER", "s", "a", "z", b"\x00b") == [1, 0, 1]
    assert c.execute_command("SMISMEMBER", "nokey", "a", "b") == [0, 0]


def test_set_algebra(c):
    c.execute_command("SADD", "x", "a", "b", "c", "d")
    c.execute_command("SADD", "y", "c", "d", "e")
    c.execute_command("SADD", "z", "d", "f")
    assert sorted(c.execute_command("SINTER", "x", "y")) == [b"c", b"d"]
    assert sorted(c.execute_command("SINTER", "x", "y", "z")) == [b"d"]
    assert c.execute_command("SINTER", "x", "nokey") == []
    assert sorted(c.execute_command("SINTER", "x", "x")) == [b"a", b"b", b"c", b"d"]
    assert sorted(c.execute_command("SUNION", "x", "z", "nokey")) == \
        [b"a", b"b", b"c", b"d", b"f"]
    assert sorted(c.execute_command("SDIFF", "x", "y")) == [b"a", b"b"]
    assert sorted(c.execute_command("SDIFF", "x", "nokey", "z")) == [b"a", b"b", b"c"]
    assert c.execute_command("SDIFF", "x", "x") == []
    assert c.execute_command("SDIFF", "nokey", "x") == []
    assert c.execute_command("SINTERCARD", "2", "x", "y") == 2
    assert c.execute_command("SINTERCARD", "2", "x", "y", "LIMIT", "1") == 1
    assert c.execute_command("SINTERCARD", "2", "x", "y", "LIMIT", "0") == 2
    assert c.execute_command("SINTERCARD", "1", "nokey") == 0
    assert err(c, "SINTERCARD", "0", "x") == "numkeys should be greater than 0"
    assert err(c, "SINTERCARD", "3", "x") == "Number of keys can't be greater than number of args"
    assert err(c, "SINTERCARD", "1", "x", "LIMIT", "-1") == "LIMIT can't be negative"
    assert err(c, "SINTERCARD", "1", "x", "BOGUS") == "syntax error"


def test_store_variants_replace_the_destination(c):
    c.execute_command("SADD", "x", "a", "b", "c")
    c.execute_command("SADD", "y", "b", "c", "d")
    c.set("dest", "a string")
    assert c.execute_command("SINTERSTORE", "dest", "x", "y") == 2
    assert c.execute_command("TYPE", "dest") == b"set"
    assert members(c, "dest") == [b"b", b"c"]
    assert c.execute_command("SUNIONSTORE", "dest", "x", "y") == 4
    assert members(c, "dest") == [b"a", b"b", b"c", b"d"]
    assert c.execute_command("SDIFFSTORE", "dest", "x", "y") == 1
    assert members(c, "dest") == [b"a"]
    assert c.execute_command("SDIFFSTORE", "x", "x", "y") == 1, "the destination may be a source"
    assert members(c, "x") == [b"a"]
    assert c.execute_command("SINTERSTORE", "dest", "x", "nokey") == 0
    assert c.execute_command("EXISTS", "dest") == 0, "an empty result removes the destination"
    c.execute_command("EXPIRE", "y", "100")
    assert c.execute_command("SUNIONSTORE", "y", "y") == 3
    assert c.execute_command("TTL", "y") == -1, "a stored result has no TTL"


def test_smove(c):
    c.execute_command("SADD", "from", "a", "b")
    c.execute_command("SADD", "to", "b")
    assert c.execute_command("SMOVE", "from", "to", "a") == 1
    assert members(c, "from") == [b"b"] and members(c, "to") == [b"a", b"b"]
    assert c.execute_command("SMOVE", "from", "to", "b") == 1
    assert c.execute_command("EXISTS", "from") == 0, "the source went empty"
    assert members(c, "to") == [b"a", b"b"]
    assert c.execute_command("SMOVE", "to", "new", "a") == 1
    assert members(c, "new") == [b"a"]
    assert c.execute_command("SMOVE", "to", "to", "b") == 1
    assert c.execute_command("SMOVE", "to", "to", "zz") == 0
    assert c.execute_command("SMOVE", "nokey", "to", "a") == 0
    assert c.execute_command("SMOVE", "to", "new", "zz") == 0
    c.set("str", "v")
    assert c.execute_command("SMOVE", "nokey", "str", "a") == 0
    assert err(c, "SMOVE", "to", "str", "b") == WRONGTYPE
    assert err(c, "SMOVE", "str", "to", "b") == WRONGTYPE


def test_spop(c):
    c.execute_command("SADD", "s", *[b"m%d" % i for i in range(20)])
    popped = c.execute_command("SPOP", "s")
    assert popped.startswith(b"m")
    assert c.execute_command("SISMEMBER", "s", popped) == 0
    assert c.execute_command("SCARD", "s") == 19
    several = c.execute_command("SPOP", "s", "5")
    assert len(set(several)) == 5
    assert c.execute_command("SCARD", "s") == 14
    assert not set(several) & set(members(c, "s"))
    assert c.execute_command("SPOP", "s", "0") == []
    rest = c.execute_command("SPOP", "s", "100")
    assert len(rest) == 14
    assert c.execute_command("EXISTS", "s") == 0
    assert c.execute_command("SPOP", "s") is None
    assert c.execute_command("SPOP", "s", "3") == []
    assert err(c, "SPOP", "s", "-1") == "value is out of range, must be positive"
    assert err(c, "SPOP", "s", "1", "2") == "syntax error"


def test_srandmember(c):
    assert c.execute_command("SRANDMEMBER", "nokey") is None
    assert c.execute_command("SRANDMEMBER", "nokey", "2") == []
    all_members = {b"m%d" % i for i in range(10)}
    c.execute_command("SADD", "s", *all_members)
    assert c.execute_command("SRANDMEMBER", "s") in all_members
    distinct = c.execute_command("SRANDMEMBER", "s", "4")
    assert len(set(distinct)) == 4 and set(distinct) <= all_members
    assert set(c.execute_command("SRANDMEMBER", "s", "50")) == all_members
    repeats = c.execute_command("SRANDMEMBER", "s", "-30")
    assert len(repeats) == 30 and set(repeats) <= all_members
    assert c.execute_command("SCARD", "s") == 10, "SRANDMEMBER removes nothing"
    assert err(c, "SRANDMEMBER", "s", "x") == "value is not an integer or out of range"
    assert err(c, "SRANDMEMBER", "s", "1", "2") == "syntax error"


def test_sscan(c):
    all_members = {b"m%03d" % i for i in range(250)}
    c.execute_command("SADD", "s", *all_members)
    seen, cursor = set(), b"0"
    while True:
        cursor, batch = c.execute_command("SSCAN", "s", cursor, "COUNT", "13")
        seen.update(batch)
        if cursor == b"0":
            break
    assert seen == all_members
    cursor, batch = c.execute_command("SSCAN", "s", "0", "MATCH", "m00*", "COUNT", "1000")
    assert sorted(batch) == sorted(b"m%03d" % i for i in range(10))
    assert c.execute_command("SSCAN", "nokey", "0") == [b"0", []]


def test_wrongtype(c):
    c.set("str", "v")
    c.execute_command("HSET", "h", "f", "v")
    for args in (["SADD", "str", "a"], ["SREM", "str", "a"], ["SISMEMBER", "str", "a"],
                 ["SMISMEMBER", "str", "a"], ["SMEMBERS", "str"], ["SCARD", "str"],
                 ["SPOP", "str"], ["SRANDMEMBER", "str"], ["SINTER", "str"],
                 ["SUNION", "nokey", "h"], ["SDIFF", "nokey", "str"],
                 ["SINTERSTORE", "d", "str"], ["SINTERCARD", "1", "str"], ["SSCAN", "str", "0"]):
        assert err(c, *args) == WRONGTYPE, args
    c.execute_command("SADD", "s", "a")
    assert err(c, "HGET", "s", "a") == WRONGTYPE
    assert err(c, "GET", "s") == WRONGTYPE


def test_generic_key_commands_on_sets(c):
    c.execute_command("SADD", "s", "a", "b")
    assert c.execute_command("TYPE", "s") == b"set"
    assert c.execute_command("OBJECT", "ENCODING", "s") in (b"hashtable", b"listpack")
    assert c.execute_command("RENAME", "s", "t") == b"OK"
    assert members(c, "t") == [b"a", b"b"]
    assert c.execute_command("COPY", "t", "u") == 1
    assert c.execute_command("SADD", "u", "c") == 1
    assert members(c, "t") == [b"a", b"b"]
    cursor, keys = c.execute_command("SCAN", "0", "TYPE", "set", "COUNT", "100")
    assert sorted(keys) == [b"t", b"u"]
    assert c.execute_command("DEL", "t") == 1
    assert c.execute_command("SADD", "t", "z") == 1
    assert members(c, "t") == [b"z"], "a new set under a deleted key starts empty"


def test_resp3_set_replies(server):
    conn = RespConnection(HOST, server.port)
    try:
        conn.call("HELLO", "3")
        conn.call("FLUSHALL")
        conn.call("SADD", "s", "a", "b")
        assert conn.call_bytes("SMEMBERS", "s").startswith(b"~2\r\n")
        assert conn.call_bytes("SINTER", "s", "nokey") == b"~0\r\n"
        assert conn.call_bytes("SPOP", "nokey", "2") == b"~0\r\n"
        assert conn.call_bytes("SRANDMEMBER", "s", "5").startswith(b"*2\r\n")
        assert conn.call_bytes("SPOP", "s", "5").startswith(b"~2\r\n")
    finally:
        conn.close()
