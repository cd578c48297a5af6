"""Blocking list commands against the target (cairnd, or redis-server with --target redis):
BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP wake when another client pushes, time out with a null
array (BLMOVE's too, as Redis 7.0), answer at once inside MULTI, can be ended by CLIENT UNBLOCK, show in INFO and CLIENT LIST, and never stall
the other clients of the server."""

import time

import pytest

from conftest import RespError

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


@pytest.fixture
def conn(raw, raw_factory):
    """Makes raw RESP connections to a server whose keyspace `raw` emptied."""
    return raw_factory


def blocked_clients(c):
    info = c.call("INFO", "clients")
    for line in info.splitlines():
        if line.startswith(b"blocked_clients:"):
            return int(line.split(b":")[1])
    raise AssertionError(info)


def wait_blocked(c, count):
    deadline = time.time() + 5
    while blocked_clients(c) != count:
        assert time.time() < deadline, "never reached %d blocked clients" % count
        time.sleep(0.01)


def test_blpop_wakes_on_push(conn):
    waiter, pusher = conn(), conn()
    waiter.send("BLPOP", "q1", "q2", "0")
    wait_blocked(pusher, 1)
    assert pusher.call("SET", "other", "v") == "OK", "other clients keep being served"
    assert pusher.call("RPUSH", "q2", "a", "b") == 2
    assert waiter.read_reply() == [b"q2", b"a"]
    assert pusher.call("LRANGE", "q2", "0", "-1") == [b"b"]
    assert blocked_clients(pusher) == 0


def test_an_available_element_is_served_at_once(conn):
    c = conn()
    c.call("RPUSH", "q", "x")
    assert c.call("BRPOP", "empty", "q", "0") == [b"q", b"x"]
    assert c.call("EXISTS", "q") == 0


def test_timeout_replies_null_then_the_next_command_runs(conn):
    c = conn()
    started = time.time()
    c.send("BLPOP", "q", "0.2")
    c.send("PING")
    assert c.read_reply() is None
    elapsed = time.time() - started
    assert 0.15 <= elapsed < 2.0, elapsed
    assert c.read_reply() == "PONG"


def test_waiters_are_served_one_element_each(conn):
    waiters = [conn() for _ in range(3)]
    pusher = conn()
    for i, w in enumerate(waiters):
        w.send("BLPOP", "q", "0")
        wait_blocked(pusher, i + 1)
    assert pusher.call("RPUSH", "q", "a", "b", "c") == 3
    got = sorted(w.read_reply()[1] for w in waiters)
    assert got == [b"a", b"b", b"c"]
    assert pusher.call("EXISTS", "q") == 0


def test_blmove_and_blmpop(conn):
    waiter, pusher = conn(), conn()
    waiter.send("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    wait_blocked(pusher, 1)
    pusher.call("RPUSH", "src", "1", "2")
    assert waiter.read_reply() == b"2"
    assert pusher.call("LRANGE", "dst", "0", "-1") == [b"1"] or \
        pusher.call("LRANGE", "dst", "0", "-1") == [b"2"]
    waiter.send("BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "2")
    wait_blocked(pusher, 1)
    pusher.call("RPUSH", "b", "x", "y", "z")
    assert waiter.read_reply() == [b"b", [b"x", b"y"]]
    assert waiter.call_bytes("BLMOVE", "none", "dst", "LEFT", "LEFT", "0.05") == b"*-1\r\n"
    assert waiter.call_bytes("BLMPOP", "0.05", "1", "none", "LEFT") == b"*-1\r\n"


def test_brpoplpush(conn):
    waiter, pusher = conn(), conn()
    waiter.send("BRPOPLPUSH", "src", "dst", "0")
    wait_blocked(pusher, 1)
    pusher.call("RPUSH", "src", "1", "2")
    assert waiter.read_reply() == b"2"
    assert pusher.call("LRANGE", "dst", "0", "-1") == [b"2"]
    assert waiter.call("BRPOPLPUSH", "src", "dst", "0") == b"1"
    assert pusher.call("LRANGE", "dst", "0", "-1") == [b"1", b"2"]
    assert waiter.call_bytes("BRPOPLPUSH", "src", "dst", "0.05") == b"*-1\r\n"
    assert str(waiter.call("BRPOPLPUSH", "src", "dst", "-1")) == "ERR timeout is negative"


def test_inside_multi_a_blocking_pop_answers_at_once(conn):
    c = conn()
    assert c.call("MULTI") == "OK"
    assert c.call("BLPOP", "q", "0") == "QUEUED"
    assert c.call("BLMOVE", "q", "d", "LEFT", "LEFT", "0") == "QUEUED"
    assert c.call("BRPOPLPUSH", "q", "d", "0") == "QUEUED"
    assert c.call_bytes("EXEC") == b"*3\r\n*-1\r\n$-1\r\n$-1\r\n"


def test_client_unblock(conn):
    waiter, other = conn(), conn()
    waiter_id = waiter.call("CLIENT", "ID")
    assert other.call("CLIENT", "UNBLOCK", str(waiter_id)) == 0
    waiter.send("BLPOP", "q", "0")
    wait_blocked(other, 1)
    flags = [line for line in other.call("CLIENT", "LIST").splitlines()
             if line.startswith(b"id=%d " % waiter_id)]
    assert b"flags=b" in flags[0]
    assert other.call("CLIENT", "UNBLOCK", str(waiter_id)) == 1
    assert waiter.read_reply() is None
    waiter.send("BRPOP", "q", "0")
    wait_blocked(other, 1)
    assert other.call("CLIENT", "UNBLOCK", str(waiter_id), "ERROR") == 1
    reply = waiter.read_reply()
    assert isinstance(reply, RespError)
    assert str(reply) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    assert blocked_clients(other) == 0


def test_disconnecting_while_blocked(conn):
    waiter, other = conn(), conn()
    waiter.send("BLPOP", "q", "0")
    wait_blocked(other, 1)
    waiter.close()
    wait_blocked(other, 0)
    assert other.call("RPUSH", "q", "a") == 1
    assert other.call("LRANGE", "q", "0", "-1") == [b"a"], "nobody took it"


def test_errors(conn, is_redis):
    c = conn()
    c.call("SET", "str", "v")
    assert str(c.call("BLPOP", "str", "0")) == WRONGTYPE
    assert str(c.call("BLPOP", "q", "-1")) == "ERR timeout is negative"
    assert str(c.call("BLPOP", "q", "abc")) == "ERR timeout is not a float or out of range"
    assert str(c.call("BLPOP", "q", "1e30")) == "ERR timeout is negative"  # as Redis 7.0
    if not is_redis:  # Redis 7.0 overflows the deadline here and waits
        assert str(c.call("BLPOP", "q", "9223372036854775")) == "ERR timeout is out of range"
    assert str(c.call("BLMOVE", "q", "d", "UP", "LEFT", "0")) == "ERR syntax error"
    assert str(c.call("BLMPOP", "0", "0", "q", "LEFT")) == "ERR numkeys should be greater than 0"


def test_a_key_that_becomes_another_type_keeps_the_client_waiting(conn):
    waiter, other = conn(), conn()
    waiter.send("BLPOP", "q", "0.3")
    wait_blocked(other, 1)
    other.call("SET", "q", "now a string")
    assert waiter.read_reply() is None, "it timed out rather than failing"
