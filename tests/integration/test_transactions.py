"""Transactions: MULTI/EXEC/DISCARD, EXECABORT, runtime errors inside EXEC, WATCH/UNWATCH and
redis-py's transactional pipeline."""

import threading

import pytest
import redis

from conftest import RespError


def test_multi_exec_basic(raw):
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "a", "1") == "QUEUED"
    assert raw.call("INCR", "a") == "QUEUED"
    assert raw.call("GET", "a") == "QUEUED"
    assert raw.call("GET", "missing") == "QUEUED"
    assert raw.call_bytes("EXEC") == b"*4\r\n+OK\r\n:2\r\n$1\r\n2\r\n$-1\r\n"
    assert raw.call("GET", "a") == b"2"


def test_empty_exec(raw):
    assert raw.call("MULTI") == "OK"
    assert raw.call_bytes("EXEC") == b"*0\r\n"


def test_exec_discard_without_multi(raw):
    assert raw.call("EXEC") == RespError("ERR EXEC without MULTI")
    assert raw.call("DISCARD") == RespError("ERR DISCARD without MULTI")


def test_nested_multi(raw):
    assert raw.call("MULTI") == "OK"
    assert raw.call("MULTI") == RespError("ERR MULTI calls can not be nested")
    assert raw.call("SET", "a", "1") == "QUEUED"
    assert raw.call("EXEC") == ["OK"]  # the nested MULTI error does not abort


def test_discard(raw):
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "a", "1") == "QUEUED"
    assert raw.call("DISCARD") == "OK"
    assert raw.call("GET", "a") is None
    assert raw.call("EXEC") == RespError("ERR EXEC without MULTI")


def test_execabort_after_queue_error(raw):
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "a", "1") == "QUEUED"
    assert raw.call("NOSUCH") == RespError("ERR unknown command 'NOSUCH', with args beginning with: ")
    assert raw.call("GET") == RespError("ERR wrong number of arguments for 'get' command")
    assert raw.call("SET", "b", "1") == "QUEUED"
    assert raw.call("EXEC") == RespError("EXECABORT Transaction discarded because of previous errors.")
    assert raw.call("GET", "a") is None
    assert raw.call("GET", "b") is None
    assert raw.call("EXEC") == RespError("ERR EXEC without MULTI")  # the transaction is over


def test_runtime_errors_do_not_abort(raw):
    raw.call("SET", "s", "x")
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "a", "1") == "QUEUED"
    assert raw.call("INCR", "s") == "QUEUED"
    assert raw.call("SET", "k", "v", "EX", "0") == "QUEUED"  # argument errors show at EXEC
    assert raw.call("SET", "b", "2") == "QUEUED"
    replies = raw.call("EXEC")
    assert replies == ["OK", RespError("ERR value is not an integer or out of range"),
                       RespError("ERR invalid expire time in 'set' command"), "OK"]
    assert raw.call("MGET", "a", "b", "k") == [b"1", b"2", None]


def test_watch_inside_multi(raw):
    assert raw.call("MULTI") == "OK"
    assert raw.call("WATCH", "a") == RespError("ERR WATCH inside MULTI is not allowed")
    assert raw.call("UNWATCH") == "QUEUED"
    assert raw.call("EXEC") == ["OK"]
    assert raw.call("WATCH") == RespError("ERR wrong number of arguments for 'watch' command")


def test_watch_conflict_aborts(raw, raw_factory):
    other = raw_factory()
    raw.call("SET", "w", "1")
    assert raw.call("WATCH", "w") == "OK"
    assert other.call("SET", "w", "2") == "OK"
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "w", "3") == "QUEUED"
    assert raw.call_bytes("EXEC") == b"*-1\r\n"
    assert raw.call("GET", "w") == b"2"
    # the watch is gone after EXEC: a new transaction succeeds
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "w", "4") == "QUEUED"
    assert raw.call("EXEC") == ["OK"]


def test_watch_conflict_resp3_null(raw, raw_factory):
    raw.call("HELLO", "3")
    other = raw_factory()
    raw.call("WATCH", "w")
    other.call("SET", "w", "x")
    raw.call("MULTI")
    raw.call("GET", "w")
    assert raw.call_bytes("EXEC") == b"_\r\n"


def test_watch_missing_key_created(raw, raw_factory):
    other = raw_factory()
    raw.call("WATCH", "new")
    other.call("SET", "new", "x")
    raw.call("MULTI")
    raw.call("SET", "new", "mine")
    assert raw.call("EXEC") is None
    assert raw.call("GET", "new") == b"x"


def test_watch_key_deleted_and_expire_change(raw, raw_factory):
    other = raw_factory()
    raw.call("SET", "d", "1")
    raw.call("WATCH", "d")
    other.call("DEL", "d")
    raw.call("MULTI")
    raw.call("SET", "d", "2")
    assert raw.call("EXEC") is None
    raw.call("SET", "e", "1")
    raw.call("WATCH", "e")
    other.call("EXPIRE", "e", "100")
    raw.call("MULTI")
    raw.call("GET", "e")
    assert raw.call("EXEC") is None


def test_watch_unmodified_succeeds(raw, raw_factory):
    other = raw_factory()
    raw.call("SET", "w", "1")
    raw.call("WATCH", "w", "w2")
    other.call("SET", "unrelated", "x")
    other.call("GET", "w")  # reads do not count
    raw.call("MULTI")
    raw.call("INCR", "w")
    assert raw.call("EXEC") == [2]


def test_own_write_before_multi_aborts(raw):
    raw.call("WATCH", "w")
    raw.call("SET", "w", "mine")  # the watching client's own change counts too
    raw.call("MULTI")
    raw.call("GET", "w")
    assert raw.call("EXEC") is None


def test_unwatch(raw, raw_factory):
    other = raw_factory()
    raw.call("WATCH", "w")
    assert raw.call("UNWATCH") == "OK"
    other.call("SET", "w", "2")
    raw.call("MULTI")
    raw.call("SET", "w", "3")
    assert raw.call("EXEC") == ["OK"]


def test_discard_clears_watch(raw, raw_factory):
    other = raw_factory()
    raw.call("WATCH", "w")
    raw.call("MULTI")
    assert raw.call("DISCARD") == "OK"
    other.call("SET", "w", "2")
    raw.call("MULTI")
    raw.call("SET", "w", "3")
    assert raw.call("EXEC") == ["OK"]


def test_flushall_touches_watched_keys(raw, raw_factory):
    other = raw_factory()
    raw.call("SET", "w", "1")
    raw.call("WATCH", "w")
    other.call("FLUSHALL")
    raw.call("MULTI")
    raw.call("SET", "w", "3")
    assert raw.call("EXEC") is None


def test_redis_py_transaction_pipeline(r):
    p = r.pipeline(transaction=True)
    p.set("a", 1)
    p.incr("a")
    p.get("a")
    p.mget("a", "nope")
    assert p.execute() == [True, 2, b"2", [b"2", None]]


def test_redis_py_transaction_with_error(r):
    r.set("s", "x")
    p = r.pipeline(transaction=True)
    p.set("a", 1)
    p.incr("s")
    p.set("b", 2)
    res = p.execute(raise_on_error=False)
    assert res[0] is True and res[2] is True
    assert isinstance(res[1], redis.ResponseError)
    assert str(res[1]) == "value is not an integer or out of range"
    assert r.mget("a", "b") == [b"1", b"2"]


def test_redis_py_watch_retry_loop(r, client_factory):
    """The classic optimistic-lock counter: concurrent WATCH/MULTI increments never lose one."""
    r.set("counter", 0)
    per_thread, threads = 30, 4
    conflicts = []

    def worker():
        cl = client_factory()
        done = 0
        while done < per_thread:
            with cl.pipeline() as p:
                try:
                    p.watch("counter")
                    value = int(p.get("counter"))
                    p.multi()
                    p.set("counter", value + 1)
                    p.execute()
                    done += 1
                except redis.WatchError:
                    conflicts.append(1)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert int(r.get("counter")) == per_thread * threads


def test_redis_py_watch_error(r, client_factory):
    other = client_factory()
    r.set("k", "1")
    with r.pipeline() as p:
        p.watch("k")
        other.set("k", "2")
        p.multi()
        p.set("k", "3")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("k") == b"2"


def test_transaction_is_atomic_for_other_clients(raw, raw_factory):
    """Another client never sees a half-applied transaction."""
    other = raw_factory()
    raw.call("MSET", "x", "0", "y", "0")
    stop = threading.Event()
    bad = []

    def reader():
        conn = raw_factory()
        while not stop.is_set():
            x, y = conn.call("MGET", "x", "y")
            if x != y:
                bad.append((x, y))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(1, 150):
            other.send_raw(b"*1\r\n$5\r\nMULTI\r\n" +
                           b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$%d\r\n%d\r\n" % (len(str(i)), i) +
                           b"*3\r\n$3\r\nSET\r\n$1\r\ny\r\n$%d\r\n%d\r\n" % (len(str(i)), i) +
                           b"*1\r\n$4\r\nEXEC\r\n")
            assert [other.read_reply() for _ in range(4)] == ["OK", "QUEUED", "QUEUED", ["OK", "OK"]]
    finally:
        stop.set()
        t.join(timeout=10)
    assert bad == []


def test_multi_state_per_connection(raw, raw_factory):
    other = raw_factory()
    raw.call("MULTI")
    raw.call("SET", "m", "1")
    assert other.call("GET", "m") is None  # queued, not run
    assert other.call("SET", "o", "1") == "OK"  # the other connection is not in MULTI
    assert raw.call("EXEC") == ["OK"]
    assert other.call("GET", "m") == b"1"
