"""Transactions and blocking pops in a real 3-node cluster (docs/cluster-operations.md):
MULTI/EXEC on one slot through any node, CROSSSLOT and EXECABORT, WATCH seeing writes through
other nodes, and blocking pops through one node served by pushes through another."""

import threading
import time

import pytest
from redis.cluster import RedisCluster

from cluster_support import wait_until
from conftest import HOST, RespError, target_name

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="Cairn's own cluster")


def redis_py_cluster_transactions():
    """Whether this redis-py's RedisCluster runs pipeline(transaction=True) (4.x refuses it)."""
    import inspect
    return "transaction is deprecated" not in inspect.getsource(RedisCluster.pipeline)


def raw(cluster, i):
    from conftest import RespConnection
    return RespConnection(HOST, cluster.ports[i])


def test_transactions_run_on_one_slot_through_any_node(cluster):
    """Proves MULTI/EXEC on keys of one slot answers what the single node answers (errors inside
    EXEC included) and writes what it changed, visible through the other nodes; a queued command
    in another slot gets CROSSSLOT and EXEC aborts; DISCARD writes nothing."""
    c1, c2 = cluster.client(1), cluster.client(2)
    pipe = cluster.client(0).pipeline(transaction=True)
    pipe.set("{t}a", "1").incr("{t}a").incrby("{t}a", 5).rpush("{t}l", "x", "y", "z")
    pipe.lpop("{t}l").hset("{t}h", mapping={"f": "v", "g": "w"}).sadd("{t}s", "m", "n")
    pipe.zadd("{t}z", {"one": 1, "two": 2}).get("{t}a").lrange("{t}l", 0, -1).rename("{t}s", "{t}s2")
    assert pipe.execute() == [True, 2, 7, 3, b"x", 2, 2, 2, b"7", [b"y", b"z"], True]
    for client in (c1, c2):
        assert client.get("{t}a") == b"7"
        assert client.lrange("{t}l", 0, -1) == [b"y", b"z"]
        assert client.hgetall("{t}h") == {b"f": b"v", b"g": b"w"}
        assert client.smembers("{t}s2") == {b"m", b"n"} and client.exists("{t}s") == 0
        assert client.zrange("{t}z", 0, -1, withscores=True) == [(b"one", 1.0), (b"two", 2.0)]

    with raw(cluster, 1) as conn:
        # A runtime error inside EXEC is that command's reply; the others still run.
        assert conn.call("MULTI") == "OK"
        assert conn.call("LPUSH", "{t}a", "q") == "QUEUED"
        assert conn.call("APPEND", "{t}a", "8") == "QUEUED"
        assert conn.call("PING") == "QUEUED"
        replies = conn.call("EXEC")
        assert str(replies[0]).startswith("WRONGTYPE") and replies[1:] == [2, "PONG"]
        assert c2.get("{t}a") == b"78"
        # A command in another slot is refused when queued, and EXEC aborts the transaction.
        assert conn.call("MULTI") == "OK"
        assert conn.call("SET", "{t}a", "lost") == "QUEUED"
        crossslot = conn.call("SET", "{u}b", "lost")
        assert str(crossslot).startswith("CROSSSLOT Keys in request don't hash to the same slot")
        assert str(conn.call("EXEC")).startswith("EXECABORT")
        # DISCARD runs nothing.
        assert conn.call("MULTI") == "OK"
        assert conn.call("SET", "{t}a", "lost") == "QUEUED"
        assert conn.call("DISCARD") == "OK"
        assert conn.call("EXEC") == RespError("ERR EXEC without MULTI")
        # A blocking pop inside MULTI answers at once, as if it timed out.
        assert conn.call("MULTI") == "OK"
        assert conn.call("BLPOP", "{t}empty", "0") == "QUEUED"
        assert conn.call("EXEC") == [None]
    assert c2.get("{t}a") == b"78" and c1.exists("{u}b") == 0


def test_watch_sees_writes_through_other_nodes(cluster):
    """Proves WATCH in cluster mode: a write of a watched key through another node makes EXEC
    answer a null array and run nothing; without one EXEC applies; UNWATCH forgets the watch;
    watched keys must share the transaction's slot."""
    c1, c2 = cluster.client(1), cluster.client(2)
    with raw(cluster, 0) as conn:
        assert conn.call("SET", "{w}k", "start") == "OK"
        assert conn.call("WATCH", "{w}k", "{w}other") == "OK"
        assert c1.set("{w}k", "theirs")
        assert conn.call("MULTI") == "OK"
        assert conn.call("SET", "{w}k", "mine") == "QUEUED"
        assert conn.call("SET", "{w}other", "mine") == "QUEUED"
        assert conn.call("EXEC") is None
        assert c2.get("{w}k") == b"theirs" and c2.exists("{w}other") == 0

        assert conn.call("WATCH", "{w}k") == "OK"
        assert conn.call("GET", "{w}k") == b"theirs"  # reads change nothing
        assert conn.call("MULTI") == "OK"
        assert conn.call("INCR", "{w}n") == "QUEUED"
        assert conn.call("SET", "{w}k", "mine") == "QUEUED"
        assert conn.call("EXEC") == [1, "OK"]
        assert c2.get("{w}k") == b"mine" and c1.get("{w}n") == b"1"

        # A watched key that is deleted elsewhere counts as changed too; UNWATCH forgets.
        assert conn.call("WATCH", "{w}k") == "OK"
        assert c2.delete("{w}k") == 1
        assert conn.call("UNWATCH") == "OK"
        assert conn.call("MULTI") == "OK"
        assert conn.call("SET", "{w}k", "again") == "QUEUED"
        assert conn.call("EXEC") == ["OK"]
        assert c1.get("{w}k") == b"again"

        assert conn.call("WATCH", "{w}k") == "OK"
        assert c2.delete("{w}k") == 1
        assert conn.call("MULTI") == "OK"
        assert conn.call("SET", "{w}k", "late") == "QUEUED"
        assert conn.call("EXEC") is None
        assert c1.exists("{w}k") == 0

        # Watched keys fix the transaction's slot.
        assert str(conn.call("WATCH", "{w}k", "{x}k")).startswith("CROSSSLOT")
        assert conn.call("WATCH", "{w}k") == "OK"
        assert str(conn.call("WATCH", "{x}k")).startswith("CROSSSLOT")
        assert conn.call("MULTI") == "OK"
        assert str(conn.call("SET", "{x}k", "v")).startswith("CROSSSLOT")
        assert str(conn.call("EXEC")).startswith("EXECABORT")
        assert c1.exists("{x}k") == 0


@pytest.mark.skipif(not redis_py_cluster_transactions(),
                    reason="this redis-py's RedisCluster refuses pipeline(transaction=True)")
def test_redis_py_cluster_pipeline_transaction(cluster):
    """Proves redis-py's RedisCluster runs a single-slot transaction through the cluster."""
    rc = RedisCluster(host=HOST, port=cluster.ports[1], socket_timeout=10)
    try:
        pipe = rc.pipeline(transaction=True)
        pipe.set("{p}a", "1").incr("{p}a").get("{p}a")
        assert pipe.execute() == [True, 2, b"2"]
    finally:
        rc.close()
    assert cluster.client(2).get("{p}a") == b"2"


class Popper(threading.Thread):
    """Runs one blocking command on its own connection and keeps its reply and how long it
    took."""

    def __init__(self, cluster, i, *args):
        threading.Thread.__init__(self, daemon=True)
        self.conn = raw(cluster, i)
        self.client_id = self.conn.call("CLIENT", "ID")
        self.args = args
        self.reply = None
        self.elapsed_s = None

    def run(self):
        start = time.monotonic()
        self.reply = self.conn.call(*self.args)
        self.elapsed_s = time.monotonic() - start

    def result(self, timeout_s=10.0):
        self.join(timeout_s)
        assert not self.is_alive(), "still blocked: %r" % (self.args,)
        self.conn.close()
        return self.reply


def wait_blocked(client, count):
    wait_until(lambda: client.info("clients")["blocked_clients"] == count, 5.0,
               "%d blocked clients" % count)


def test_blocking_pops_wait_for_pushes_through_other_nodes(cluster):
    """Proves the blocking pops in cluster mode: BLPOP, BZPOPMIN and BLMOVE blocked through one
    node are served by a push through another within a bounded time, take the element once,
    time out with a null after about their timeout, and CLIENT UNBLOCK ends them."""
    c0, c1, c2 = (cluster.client(i) for i in range(3))
    popper = Popper(cluster, 0, "BLPOP", "{b}empty", "{b}list", "0")
    popper.start()
    wait_blocked(c0, 1)
    pushed_at = time.monotonic()
    assert c1.rpush("{b}list", "first", "second") == 2
    assert popper.result() == [b"{b}list", b"first"]
    assert time.monotonic() - pushed_at < 2.0
    assert c2.lrange("{b}list", 0, -1) == [b"second"]
    assert c0.info("clients")["blocked_clients"] == 0

    zpopper = Popper(cluster, 2, "BZPOPMIN", "{b}zset", "0")
    mover = Popper(cluster, 1, "BLMOVE", "{b}src", "{b}dst", "LEFT", "RIGHT", "0")
    zpopper.start()
    mover.start()
    wait_blocked(c2, 1)
    wait_blocked(c1, 1)
    assert c0.zadd("{b}zset", {"low": 1, "high": 2}) == 2
    assert c2.lpush("{b}src", "moved") == 1
    assert zpopper.result() == [b"{b}zset", b"low", b"1"]
    assert mover.result() == b"moved"
    assert c0.zrange("{b}zset", 0, -1) == [b"high"]
    assert c0.lrange("{b}dst", 0, -1) == [b"moved"] and c0.exists("{b}src") == 0

    # Timeouts: a null array, after about the timeout.
    for i, args in ((0, ("BLPOP", "{b}none", "0.5")), (1, ("BZPOPMIN", "{b}none", "0.5")),
                    (2, ("BLMOVE", "{b}none", "{b}dst", "LEFT", "LEFT", "0.5"))):
        popper = Popper(cluster, i, *args)
        popper.start()
        assert popper.result() is None
        assert 0.45 <= popper.elapsed_s < 2.0, (args, popper.elapsed_s)
    with raw(cluster, 2) as conn:
        assert conn.call_bytes("BRPOPLPUSH", "{b}none", "{b}dst", "0.1") == b"*-1\r\n"
        assert conn.call("RPUSH", "{b}src", "a", "b") == 2
        assert conn.call("BRPOPLPUSH", "{b}src", "{b}dst", "0") == b"b"
    assert c1.lrange("{b}dst", 0, -1) == [b"b", b"moved"]
    # WRONGTYPE answers at once.
    assert c0.set("{b}string", "x")
    popper = Popper(cluster, 1, "BLPOP", "{b}none", "{b}string", "0")
    popper.start()
    assert str(popper.result()).startswith("WRONGTYPE")

    # CLIENT UNBLOCK: TIMEOUT answers the null, ERROR the UNBLOCKED error.
    for reason, expected in (("TIMEOUT", None),
                             ("ERROR", RespError("UNBLOCKED client unblocked via CLIENT UNBLOCK"))):
        popper = Popper(cluster, 1, "BLPOP", "{b}never", "0")
        popper.start()
        wait_blocked(c1, 1)
        assert c1.execute_command("CLIENT", "UNBLOCK", popper.client_id, reason) == 1
        assert popper.result() == expected
    assert c1.info("clients")["blocked_clients"] == 0
