"""List commands against the target (cairnd, or redis-server with --target redis): LPUSH,
RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS,
LMOVE, RPOPLPUSH, LMPOP; lists under the generic key commands; WRONGTYPE; RESP3 nulls."""

import pytest
import redis

from conftest import RespConnection, HOST

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def err(client, *args):
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def items(client, key):
    return client.execute_command("LRANGE", key, "0", "-1")


def test_push_and_range(c):
    assert c.execute_command("RPUSH", "l", "a", "b") == 2
    assert c.execute_command("LPUSH", "l", "x", "y") == 4
    assert items(c, "l") == [b"y", b"x", b"a", b"b"]
    assert c.execute_command("LLEN", "l") == 4
    assert c.execute_command("LRANGE", "l", "1", "2") == [b"x", b"a"]
    assert c.execute_command("LRANGE", "l", "-2", "100") == [b"a", b"b"]
    assert c.execute_command("LRANGE", "l", "3", "1") == []
    assert c.execute_command("LRANGE", "l", "-100", "0") == [b"y"]
    assert c.execute_command("LRANGE", "nokey", "0", "-1") == []
    assert c.execute_command("LPUSHX", "nokey", "a") == 0
    assert c.execute_command("RPUSHX", "nokey", "a") == 0
    assert c.execute_command("EXISTS", "nokey") == 0
    assert c.execute_command("RPUSHX", "l", "z") == 5
    assert c.execute_command("LPUSHX", "l", "w") == 6
    assert items(c, "l") == [b"w", b"y", b"x", b"a", b"b", b"z"]
    assert err(c, "LRANGE", "l", "x", "1") == "value is not an integer or out of range"


def test_pop_with_and_without_count(c):
    c.execute_command("RPUSH", "l", "a", "b", "c", "d", "e")
    assert c.execute_command("LPOP", "l") == b"a"
    assert c.execute_command("RPOP", "l") == b"e"
    assert c.execute_command("LPOP", "l", "2") == [b"b", b"c"]
    assert c.execute_command("RPOP", "l", "0") == []
    assert c.execute_command("RPOP", "l", "5") == [b"d"]
    assert c.execute_command("EXISTS", "l") == 0
    assert c.execute_command("LPOP", "l") is None
    assert c.execute_command("LPOP", "l", "2") is None
    assert err(c, "LPOP", "l", "-1") == "value is out of range, must be positive"
    assert err(c, "LPOP", "l", "1", "2") == "wrong number of arguments for 'lpop' command"
    c.execute_command("RPUSH", "l", "again")
    assert items(c, "l") == [b"again"], "a list emptied by a pop comes back empty"


def test_lindex_lset(c):
    c.execute_command("RPUSH", "l", "a", "b", "c")
    assert c.execute_command("LINDEX", "l", "0") == b"a"
    assert c.execute_command("LINDEX", "l", "-1") == b"c"
    assert c.execute_command("LINDEX", "l", "3") is None
    assert c.execute_command("LINDEX", "nokey", "x") is None
    assert err(c, "LINDEX", "l", "x") == "value is not an integer or out of range"
    assert c.execute_command("LSET", "l", "-2", "B") == b"OK"
    assert items(c, "l") == [b"a", b"B", b"c"]
    assert err(c, "LSET", "l", "3", "x") == "index out of range"
    assert err(c, "LSET", "nokey", "0", "x") == "no such key"


def test_linsert(c):
    c.execute_command("RPUSH", "l", "a", "b", "c", "d", "e", "f")
    assert c.execute_command("LINSERT", "l", "BEFORE", "b", "x") == 7  # near the head
    assert c.execute_command("LINSERT", "l", "AFTER", "e", "y") == 8  # near the tail
    assert items(c, "l") == [b"a", b"x", b"b", b"c", b"d", b"e", b"y", b"f"]
    assert c.execute_command("LINSERT", "l", "AFTER", "f", "z") == 9
    assert c.execute_command("LINSERT", "l", "BEFORE", "a", "0") == 10
    assert items(c, "l") == [b"0", b"a", b"x", b"b", b"c", b"d", b"e", b"y", b"f", b"z"]
    assert c.execute_command("LINSERT", "l", "BEFORE", "nope", "q") == -1
    assert c.execute_command("LINSERT", "nokey", "BEFORE", "a", "q") == 0
    assert err(c, "LINSERT", "l", "MIDDLE", "a", "q") == "syntax error"
    assert c.execute_command("LINDEX", "l", "9") == b"z"
    assert c.execute_command("RPOP", "l") == b"z"
    assert c.execute_command("LPOP", "l") == b"0"


def test_lrem(c):
    c.execute_command("RPUSH", "l", "a", "x", "b", "x", "c", "x", "d", "x")
    assert c.execute_command("LREM", "l", "1", "x") == 1
    assert items(c, "l") == [b"a", b"b", b"x", b"c", b"x", b"d", b"x"]
    assert c.execute_command("LREM", "l", "-2", "x") == 2
    assert items(c, "l") == [b"a", b"b", b"x", b"c", b"d"]
    assert c.execute_command("LREM", "l", "0", "x") == 1
    assert c.execute_command("LREM", "l", "0", "zz") == 0
    assert items(c, "l") == [b"a", b"b", b"c", b"d"]
    assert c.execute_command("LINDEX", "l", "-1") == b"d"
    assert c.execute_command("RPUSH", "l", "e") == 5
    assert items(c, "l") == [b"a", b"b", b"c", b"d", b"e"]
    c.execute_command("RPUSH", "only", "x", "x")
    assert c.execute_command("LREM", "only", "0", "x") == 2
    assert c.execute_command("EXISTS", "only") == 0
    assert c.execute_command("LREM", "nokey", "0", "x") == 0
    assert err(c, "LREM", "l", "x", "a") == "value is not an integer or out of range"


def test_ltrim(c):
    c.execute_command("RPUSH", "l", *[str(i) for i in range(10)])
    assert c.execute_command("LTRIM", "l", "1", "-2") == b"OK"  # keeps most
    assert items(c, "l") == [str(i).encode() for i in range(1, 9)]
    assert c.execute_command("LTRIM", "l", "2", "3") == b"OK"  # keeps few: rebuilt
    assert items(c, "l") == [b"3", b"4"]
    assert c.execute_command("LPUSH", "l", "2") == 3
    assert c.execute_command("RPUSH", "l", "5") == 4
    assert items(c, "l") == [b"2", b"3", b"4", b"5"]
    assert c.execute_command("LTRIM", "l", "5", "10") == b"OK"
    assert c.execute_command("EXISTS", "l") == 0
    assert c.execute_command("LTRIM", "nokey", "0", "1") == b"OK"


def test_ltrim_keeps_the_ttl(c):
    c.execute_command("RPUSH", "l", *[str(i) for i in range(10)])
    c.execute_command("EXPIRE", "l", "100")
    assert c.execute_command("LTRIM", "l", "0", "1") == b"OK"
    assert c.execute_command("TTL", "l") > 0
    assert items(c, "l") == [b"0", b"1"]


def test_lpos(c):
    c.execute_command("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert c.execute_command("LPOS", "l", "c") == 2
    assert c.execute_command("LPOS", "l", "c", "RANK", "2") == 6
    assert c.execute_command("LPOS", "l", "c", "RANK", "-1") == 7
    assert c.execute_command("LPOS", "l", "c", "COUNT", "0") == [2, 6, 7]
    assert c.execute_command("LPOS", "l", "c", "COUNT", "2", "RANK", "-1") == [7, 6]
    assert c.execute_command("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "3") == [2]
    assert c.execute_command("LPOS", "l", "zz") is None
    assert c.execute_command("LPOS", "l", "zz", "COUNT", "1") == []
    assert c.execute_command("LPOS", "nokey", "a") is None
    assert c.execute_command("LPOS", "nokey", "a", "COUNT", "1") == []
    assert err(c, "LPOS", "l", "a", "RANK", "0").startswith("RANK can't be zero")
    assert err(c, "LPOS", "l", "a", "COUNT", "-1") == "COUNT can't be negative"
    assert err(c, "LPOS", "l", "a", "MAXLEN", "-1") == "MAXLEN can't be negative"
    assert err(c, "LPOS", "l", "a", "BOGUS") == "syntax error"


def test_lmove_and_rpoplpush(c):
    c.execute_command("RPUSH", "src", "a", "b", "c")
    assert c.execute_command("LMOVE", "src", "dst", "LEFT", "RIGHT") == b"a"
    assert c.execute_command("LMOVE", "src", "dst", "RIGHT", "LEFT") == b"c"
    assert items(c, "src") == [b"b"] and items(c, "dst") == [b"c", b"a"]
    assert c.execute_command("RPOPLPUSH", "dst", "src") == b"a"
    assert items(c, "src") == [b"a", b"b"]
    assert c.execute_command("LMOVE", "src", "src", "LEFT", "RIGHT") == b"a"  # a rotation
    assert items(c, "src") == [b"b", b"a"]
    c.execute_command("RPUSH", "one", "x")
    assert c.execute_command("LMOVE", "one", "one", "RIGHT", "LEFT") == b"x"
    assert items(c, "one") == [b"x"]
    assert c.execute_command("LMOVE", "one", "other", "LEFT", "LEFT") == b"x"
    assert c.execute_command("EXISTS", "one") == 0
    assert c.execute_command("LMOVE", "nokey", "dst", "LEFT", "LEFT") is None
    assert err(c, "LMOVE", "src", "dst", "UP", "LEFT") == "syntax error"
    c.set("str", "v")
    assert err(c, "LMOVE", "src", "str", "LEFT", "LEFT") == WRONGTYPE
    assert err(c, "LMOVE", "str", "src", "LEFT", "LEFT") == WRONGTYPE
    assert items(c, "src") == [b"b", b"a"], "a refused move changes nothing"


def test_lmpop(c):
    c.execute_command("RPUSH", "b", "1", "2", "3")
    assert c.execute_command("LMPOP", "2", "a", "b", "LEFT") == [b"b", [b"1"]]
    assert c.execute_command("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5") == [b"b", [b"3", b"2"]]
    assert c.execute_command("LMPOP", "2", "a", "b", "LEFT") is None
    assert err(c, "LMPOP", "0", "a", "LEFT") == "numkeys should be greater than 0"
    assert err(c, "LMPOP", "2", "a", "LEFT") == "syntax error"
    assert err(c, "LMPOP", "1", "a", "LEFT", "COUNT", "0") == "count should be greater than 0"
    assert err(c, "LMPOP", "1", "a", "UP") == "syntax error"


def test_wrongtype_and_generic_commands(c):
    c.set("str", "v")
    for args in (["LPUSH", "str", "a"], ["RPUSH", "str", "a"], ["LPOP", "str"], ["LLEN", "str"],
                 ["LRANGE", "str", "0", "1"], ["LINDEX", "str", "0"], ["LSET", "str", "0", "x"],
                 ["LINSERT", "str", "BEFORE", "a", "b"], ["LREM", "str", "0", "a"],
                 ["LTRIM", "str", "0", "1"], ["LPOS", "str", "a"], ["LMPOP", "1", "str", "LEFT"]):
        assert err(c, *args) == WRONGTYPE, args
    c.execute_command("RPUSH", "l", "a", "b")
    assert err(c, "GET", "l") == WRONGTYPE
    assert err(c, "SADD", "l", "x") == WRONGTYPE
    assert c.execute_command("TYPE", "l") == b"list"
    assert c.execute_command("OBJECT", "ENCODING", "l") in (b"quicklist", b"listpack")
    assert c.execute_command("RENAME", "l", "m") == b"OK"
    assert items(c, "m") == [b"a", b"b"]
    assert c.execute_command("COPY", "m", "n") == 1
    assert c.execute_command("LPUSH", "n", "z") == 3
    assert items(c, "m") == [b"a", b"b"]
    assert c.execute_command("RPUSH", "m", "c") == 3
    cursor, keys = c.execute_command("SCAN", "0", "TYPE", "list", "COUNT", "100")
    assert sorted(keys) == [b"m", b"n"]


def test_large_elements_and_long_lists(c):
    big = b"v" * (200 * 1024)
    c.execute_command("RPUSH", "l", "small", big)
    assert c.execute_command("LINDEX", "l", "1") == big
    c.execute_command("RPUSH", "long", *[b"%d" % i for i in range(2000)])
    assert c.execute_command("LINDEX", "long", "1234") == b"1234"
    assert c.execute_command("LRANGE", "long", "1995", "-1") == [b"%d" % i for i in range(1995, 2000)]
    assert c.execute_command("LINSERT", "long", "BEFORE", "1000", "mid") == 2001
    assert c.execute_command("LINDEX", "long", "1000") == b"mid"
    assert c.execute_command("LREM", "long", "0", "mid") == 1
    assert items(c, "long") == [b"%d" % i for i in range(2000)]


def test_resp3_nulls(server):
    conn = RespConnection(HOST, server.port)
    try:
        conn.call("HELLO", "3")
        conn.call("FLUSHALL")
        assert conn.call_bytes("LPOP", "nokey") == b"_\r\n"
        assert conn.call_bytes("LPOP", "nokey", "2") == b"_\r\n"
        assert conn.call_bytes("LMPOP", "1", "nokey", "LEFT") == b"_\r\n"
    finally:
        conn.close()
