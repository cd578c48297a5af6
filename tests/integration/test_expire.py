"""TTL commands and expiry visibility. Short PX values and polling, no long sleeps."""

import time

import pytest
import redis

from conftest import wait_until


def err(client, *args):
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def test_ttl_missing_and_persistent(c):
    assert c.ttl("missing") == -2
    assert c.pttl("missing") == -2
    assert c.expiretime("missing") == -2
    assert c.pexpiretime("missing") == -2
    c.set("k", "v")
    assert c.ttl("k") == -1
    assert c.pttl("k") == -1
    assert c.expiretime("k") == -1
    assert c.pexpiretime("k") == -1


def test_expire_family(c):
    c.set("k", "v")
    assert c.expire("k", 100) == 1
    assert 99 <= c.ttl("k") <= 100
    assert c.pexpire("k", 200000) == 1
    assert 199000 <= c.pttl("k") <= 200000
    now = int(time.time())
    assert c.expireat("k", now + 300) == 1
    assert c.expiretime("k") == now + 300
    assert c.pexpiretime("k") == (now + 300) * 1000
    assert c.pexpireat("k", (now + 400) * 1000 + 123) == 1
    assert c.pexpiretime("k") == (now + 400) * 1000 + 123
    assert c.expiretime("k") == now + 400  # rounded down to seconds
    assert c.expire("missing", 100) == 0
    assert c.pexpire("missing", 100) == 0
    assert c.expireat("missing", now + 100) == 0
    assert c.pexpireat("missing", now * 1000) == 0


def test_ttl_rounding(c):
    c.set("k", "v")
    c.pexpire("k", 1500)
    assert c.ttl("k") in (1, 2)  # Redis rounds to the nearest second
    c.pexpire("k", 100500)
    assert c.ttl("k") in (100, 101)


def test_persist(c):
    c.setex("k", 100, "v")
    assert c.persist("k") == 1
    assert c.ttl("k") == -1
    assert c.persist("k") == 0
    assert c.persist("missing") == 0


def test_expire_options(c):
    c.set("k", "v")
    # NX: only when no TTL
    assert c.execute_command("EXPIRE", "k", 100, "NX") == 1
    assert c.execute_command("EXPIRE", "k", 200, "NX") == 0
    assert 99 <= c.ttl("k") <= 100
    # XX: only when a TTL exists
    assert c.execute_command("EXPIRE", "k", 200, "XX") == 1
    assert 199 <= c.ttl("k") <= 200
    c.set("p", "v")
    assert c.execute_command("EXPIRE", "p", 200, "XX") == 0
    assert c.ttl("p") == -1
    # GT: only a greater TTL; no TTL counts as infinite
    assert c.execute_command("EXPIRE", "k", 100, "GT") == 0
    assert c.execute_command("EXPIRE", "k", 300, "GT") == 1
    assert 299 <= c.ttl("k") <= 300
    assert c.execute_command("EXPIRE", "p", 300, "GT") == 0
    assert c.ttl("p") == -1
    # LT: only a smaller TTL; a persistent key always gets it
    assert c.execute_command("EXPIRE", "k", 400, "LT") == 0
    assert c.execute_command("EXPIRE", "k", 50, "LT") == 1
    assert 49 <= c.ttl("k") <= 50
    assert c.execute_command("EXPIRE", "p", 300, "LT") == 1
    assert 299 <= c.ttl("p") <= 300
    # options on the other variants, case-insensitive
    assert c.execute_command("PEXPIRE", "k", 1000000, "gt") == 1
    assert c.execute_command("EXPIREAT", "k", int(time.time()) + 10, "lt") == 1
    assert c.execute_command("PEXPIREAT", "k", int(time.time() * 1000) + 5000000, "xx") == 1
    assert c.execute_command("EXPIRE", "missing", 10, "NX") == 0


def test_expire_option_errors(c):
    c.set("k", "v")
    msg = "NX and XX, GT or LT options at the same time are not compatible"
    assert err(c, "EXPIRE", "k", 10, "NX", "XX") == msg
    assert err(c, "EXPIRE", "k", 10, "NX", "GT") == msg
    assert err(c, "EXPIRE", "k", 10, "GT", "LT") == "GT and LT options at the same time are not compatible"
    assert err(c, "EXPIRE", "k", 10, "FOO") == "Unsupported option FOO"
    assert err(c, "PEXPIRE", "k", 10, "bar") == "Unsupported option bar"
    assert err(c, "EXPIRE", "k", "abc") == "value is not an integer or out of range"
    assert err(c, "EXPIRE", "k", "1.5") == "value is not an integer or out of range"
    assert err(c, "EXPIRE", "k") == "wrong number of arguments for 'expire' command"
    assert c.ttl("k") == -1


def test_negative_ttl_deletes(c):
    c.set("a", "v")
    assert c.expire("a", -1) == 1
    assert c.exists("a") == 0
    c.set("b", "v")
    assert c.pexpire("b", 0) == 1
    assert c.get("b") is None
    c.set("c", "v")
    assert c.expireat("c", 1) == 1
    assert c.exists("c") == 0
    c.set("d", "v")
    assert c.pexpireat("d", 0) == 1
    assert c.exists("d") == 0
    assert c.expire("missing", -1) == 0


def test_overflowing_ttl(c):
    c.set("k", "v")
    assert err(c, "EXPIRE", "k", str(2**62)) == "invalid expire time in 'expire' command"
    assert err(c, "EXPIRE", "k", str(2**63 - 1)) == "invalid expire time in 'expire' command"
    assert err(c, "PEXPIRE", "k", str(2**63 - 1)) == "invalid expire time in 'pexpire' command"
    assert err(c, "EXPIREAT", "k", str(2**62)) == "invalid expire time in 'expireat' command"
    assert err(c, "EXPIRE", "k", str(-2**62)) == "invalid expire time in 'expire' command"
    assert err(c, "EXPIRE", "k", str(2**64)) == "value is not an integer or out of range"
    assert c.ttl("k") == -1
    assert c.get("k") == b"v"


def test_large_valid_ttl(c):
    c.set("k", "v")
    big = 10**10  # ~317 years
    assert c.expire("k", big) == 1
    assert big - 1 <= c.ttl("k") <= big


def test_expired_key_is_invisible(c):
    # TTLs long enough that a stalled machine still finds the key before it expires.
    c.execute_command("SET", "gone", "v", "PX", 400)
    c.set("stays", "v")
    assert c.exists("gone") == 1
    wait_until(lambda: c.pttl("gone") == -2, timeout=3, message="key expiry")
    assert c.get("gone") is None
    assert c.exists("gone") == 0
    assert c.keys("*") == [b"stays"]
    assert c.dbsize() == 1
    assert c.ttl("gone") == -2
    assert c.type("gone") == b"none"
    assert c.strlen("gone") == 0
    assert c.mget("gone", "stays") == [None, b"v"]
    assert c.execute_command("SET", "gone", "new", "NX") == b"OK"  # NX sees it as absent
    assert c.ttl("gone") == -1


def test_expired_key_invisible_to_dbsize_and_scan_without_access(c):
    for i in range(20):
        c.execute_command("SET", b"e%d" % i, "v", "PX", 30)
    c.set("keep", "v")
    # nobody reads the expiring keys: active expiry (or lazy filtering) must hide them
    wait_until(lambda: c.dbsize() == 1, timeout=5, message="DBSIZE to drop expired keys")
    assert c.keys("*") == [b"keep"]
    cursor, seen = 0, []
    while True:
        cursor, batch = c.scan(cursor, count=100)
        seen.extend(batch)
        if int(cursor) == 0:
            break
    assert seen == [b"keep"]


def test_expired_keys_stat_grows_with_active_expiry(c):
    before = _info_field(c, "stats", "expired_keys")
    for i in range(30):
        c.execute_command("SET", b"act%d" % i, "v", "PX", 20)
    wait_until(lambda: _info_field(c, "stats", "expired_keys") >= before + 30, timeout=5,
               message="expired_keys to grow by 30 through active expiry")


def _info_field(c, section, name):
    text = c.execute_command("INFO", section)
    if isinstance(text, dict):
        return int(text[name])
    for line in text.decode().splitlines():
        if line.startswith(name + ":"):
            return int(line.split(":", 1)[1])
    raise KeyError(name)


def test_set_replaces_ttl_and_expire_after_rewrite(c):
    c.execute_command("SET", "k", "v", "PX", 40)
    c.set("k", "v2")  # no TTL any more
    time.sleep(0.08)
    assert c.get("k") == b"v2"


def test_persist_rescues_key(c):
    c.execute_command("SET", "k", "v", "PX", 400)
    assert c.persist("k") == 1
    time.sleep(0.5)
    assert c.get("k") == b"v"


def test_pexpire_short_then_gone(c):
    c.set("k", "v")
    assert c.pexpire("k", 30) == 1
    wait_until(lambda: c.exists("k") == 0, timeout=3, message="PEXPIRE 30")
    assert c.get("k") is None


def test_rename_keeps_expiry_and_expires(c):
    c.execute_command("SET", "a", "v", "PX", 400)
    c.rename("a", "b")
    assert 0 < c.pttl("b") <= 400
    wait_until(lambda: c.exists("b") == 0, timeout=3, message="renamed key expiry")


def test_expire_options_checked_before_the_value(c):
    """Redis reports incompatible or unknown options before it parses the TTL value."""
    c.set("k", "v")
    assert err(c, "EXPIRE", "k", "abc", "NX", "XX") == (
        "NX and XX, GT or LT options at the same time are not compatible")
    assert err(c, "PEXPIRE", "k", "1.5", "GT", "LT") == (
        "GT and LT options at the same time are not compatible")
    assert err(c, "EXPIRE", "k", "abc", "foo") == "Unsupported option foo"
    assert err(c, "EXPIRE", "nokey", "abc") == "value is not an integer or out of range"
