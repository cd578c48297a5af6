"""Key commands: DEL, UNLINK, EXISTS, TYPE, RENAME(NX), KEYS, SCAN, RANDOMKEY, TOUCH, COPY."""

import pytest
import redis


def err(client, *args):
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def test_del_unlink(c):
    c.mset({"a": 1, "b": 2, "c": 3})
    assert c.delete("a", "b", "missing", "a") == 2
    assert c.execute_command("UNLINK", "c", "c", "x") == 1
    assert c.dbsize() == 0
    assert err(c, "DEL") == "wrong number of arguments for 'del' command"
    assert err(c, "UNLINK") == "wrong number of arguments for 'unlink' command"


def test_exists_counts_repeats(c):
    c.set("a", 1)
    assert c.exists("a") == 1
    assert c.exists("a", "a", "a") == 3
    assert c.exists("a", "b") == 1
    assert c.exists("b") == 0
    assert err(c, "EXISTS") == "wrong number of arguments for 'exists' command"


def test_type(c):
    c.set("s", "v")
    assert c.type("s") == b"string"
    assert c.type("missing") == b"none"


def test_rename(c):
    c.set("a", "1")
    assert c.rename("a", "b") == b"OK"
    assert c.get("a") is None
    assert c.get("b") == b"1"
    assert err(c, "RENAME", "missing", "x") == "no such key"
    # onto itself
    assert c.rename("b", "b") == b"OK"
    assert c.get("b") == b"1"
    # overwrites, carries the TTL
    c.set("d", "old")
    c.setex("b", 100, "1")
    c.rename("b", "d")
    assert c.get("d") == b"1"
    assert 99 <= c.ttl("d") <= 100
    # a rename onto a key with TTL drops the old TTL if the source has none
    c.setex("t", 100, "x")
    c.set("u", "y")
    c.rename("u", "t")
    assert c.ttl("t") == -1


def test_renamenx(c):
    c.mset({"a": "1", "b": "2"})
    assert c.renamenx("a", "b") == 0
    assert c.mget("a", "b") == [b"1", b"2"]
    assert c.renamenx("a", "c") == 1
    assert c.mget("a", "c") == [None, b"1"]
    assert err(c, "RENAMENX", "missing", "x") == "no such key"
    assert c.renamenx("c", "c") == 0


def test_keys_patterns(c):
    keys = [b"hello", b"hallo", b"hxllo", b"hllo", b"heeeello", b"h*llo", b"a[b]", b"x\\y", b"k1", b"k22"]
    for k in keys:
        c.set(k, "v")
    assert sorted(c.keys("*")) == sorted(keys)
    assert sorted(c.keys("h?llo")) == [b"h*llo", b"hallo", b"hello", b"hxllo"]
    assert sorted(c.keys("h*llo")) == sorted([b"hello", b"hallo", b"hxllo", b"hllo", b"heeeello", b"h*llo"])
    assert sorted(c.keys("h[ae]llo")) == [b"hallo", b"hello"]
    assert sorted(c.keys("h[^e]llo")) == [b"h*llo", b"hallo", b"hxllo"]
    assert sorted(c.keys("h[a-b]llo")) == [b"hallo"]
    assert c.keys("h\\*llo") == [b"h*llo"]
    assert c.keys("a\\[b\\]") == [b"a[b]"]
    assert sorted(c.keys("k?*")) == [b"k1", b"k22"]
    assert c.keys("nomatch*") == []
    assert c.keys("k1") == [b"k1"]


def _scan_all(c, **kwargs):
    cursor = 0
    seen = []
    rounds = 0
    while True:
        cursor, batch = c.scan(cursor, **kwargs)
        cursor = int(cursor)
        seen.extend(batch)
        rounds += 1
        assert rounds < 10000
        if cursor == 0:
            return seen, rounds


def test_scan_returns_every_key(c):
    keys = {b"key:%d" % i for i in range(300)} | {b"other:%d" % i for i in range(50)}
    c.mset({k: "v" for k in keys})
    seen, rounds = _scan_all(c)
    assert set(seen) == keys
    assert rounds > 1  # the default COUNT (10) makes several rounds
    seen, _ = _scan_all(c, count=1000)
    assert set(seen) == keys
    seen, _ = _scan_all(c, match="other:*", count=7)
    assert set(seen) == {k for k in keys if k.startswith(b"other:")}
    seen, _ = _scan_all(c, _type="string", count=100)
    assert set(seen) == keys
    seen, _ = _scan_all(c, _type="hash", count=100)
    assert seen == []


def test_scan_empty_and_errors(c):
    cursor, batch = c.execute_command("SCAN", 0)
    assert cursor == b"0" and batch == []
    assert err(c, "SCAN", "abc") == "invalid cursor"
    assert err(c, "SCAN", 0, "COUNT", 0) == "syntax error"
    assert err(c, "SCAN", 0, "COUNT", "x") == "value is not an integer or out of range"
    assert err(c, "SCAN", 0, "MATCH") == "syntax error"
    assert err(c, "SCAN", 0, "FOO", "bar") == "syntax error"


def test_scan_sees_keys_during_modification(c):
    """Keys present for the whole iteration are returned at least once even if others change."""
    stable = {b"s%d" % i for i in range(100)}
    c.mset({k: "v" for k in stable})
    cursor, seen, i = 0, set(), 0
    while True:
        cursor, batch = c.scan(cursor, count=5)
        seen.update(batch)
        c.set(b"new%d" % i, "x")
        if i % 3 == 0:
            c.delete(b"new%d" % (i // 2))
        i += 1
        if int(cursor) == 0:
            break
    assert stable <= seen


def test_randomkey(c):
    assert c.randomkey() is None
    c.mset({"a": 1, "b": 2, "c": 3})
    seen = {c.randomkey() for _ in range(100)}
    assert seen <= {b"a", b"b", b"c"}
    assert len(seen) >= 2


def test_touch(c):
    c.mset({"a": 1, "b": 2})
    assert c.touch("a", "b", "x", "a") == 3
    assert c.touch("missing") == 0


def test_copy(c):
    c.set("src", "v")
    assert c.copy("src", "dst") == 1
    assert c.get("dst") == b"v"
    c.set("src", "w")
    assert c.get("dst") == b"v"  # an independent copy
    assert c.copy("src", "dst") == 0
    assert c.get("dst") == b"v"
    assert c.execute_command("COPY", "src", "dst", "REPLACE") == 1
    assert c.get("dst") == b"w"
    assert c.copy("missing", "dst") == 0
    c.setex("t", 100, "x")
    assert c.copy("t", "t2") == 1
    assert 99 <= c.ttl("t2") <= 100
    assert err(c, "COPY", "src", "src") == "source and destination objects are the same"
    assert err(c, "COPY", "src", "x", "FOO") == "syntax error"
    assert err(c, "COPY", "src", "x", "DB", "abc") == "value is not an integer or out of range"


def test_copy_replace_drops_ttl(c):
    c.set("src", "v")
    c.setex("dst", 100, "old")
    assert c.execute_command("COPY", "src", "dst", "REPLACE") == 1
    assert c.ttl("dst") == -1


def test_dbsize_counts(c):
    assert c.dbsize() == 0
    c.mset({b"k%d" % i: i for i in range(25)})
    assert c.dbsize() == 25
    c.delete("k0", "k1")
    assert c.dbsize() == 23


def test_empty_pattern_matches_only_the_empty_key(c):
    c.set("", "x")
    c.set("a", "y")
    assert c.keys("") == [b""]
    seen, _ = _scan_all(c, match="", count=100)
    assert seen == [b""]
    c.delete("")
    assert c.keys("") == []
    seen, _ = _scan_all(c, match="")
    assert seen == []
