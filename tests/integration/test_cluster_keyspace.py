"""Keyspace-wide commands in a real 3-node cluster: DBSIZE, SCAN, KEYS, RANDOMKEY, FLUSHALL and
FLUSHDB cover the whole cluster from any node (docs/cluster-operations.md, "Keyspace-wide
commands")."""

import random
import time

import pytest
import redis
from redis.cluster import RedisCluster

from cluster_support import member_flags, node_ids, read_at_one, wait_formed, wait_until
from conftest import HOST, target_name
from node_support import make_seed

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="Cairn's own cluster")


KEY_TYPES = ["string", "hash", "set", "list", "zset"]


def write_mixed_keys(cluster, count, prefix="mixed", seed_name="mixed"):
    """Writes `count` keys of the five types at QUORUM through random nodes; returns
    {key: type}."""
    rng = random.Random(make_seed(seed_name))
    clients = [cluster.client(i) for i in cluster.up()]
    written = {}
    for n in range(count):
        kind = KEY_TYPES[n % len(KEY_TYPES)]
        key = "%s:%s:%d" % (prefix, kind, n)
        client = rng.choice(clients)
        if kind == "string":
            assert client.set(key, n)
        elif kind == "hash":
            assert client.hset(key, "f", n) == 1
        elif kind == "set":
            assert client.sadd(key, "a", n) == 2
        elif kind == "list":
            assert client.rpush(key, n) == 1
        else:
            assert client.zadd(key, {"m": n}) == 1
        written[key] = kind
    return written


def scan_through(client, **kwargs):
    """A full SCAN loop through one node: {key: times returned}, and the number of pages."""
    seen = {}
    cursor = 0
    pages = 0
    while True:
        cursor, keys = client.scan(cursor=cursor, **kwargs)
        pages += 1
        for key in keys:
            seen[key.decode()] = seen.get(key.decode(), 0) + 1
        if cursor == 0:
            return seen, pages
        assert pages < 100000, "the scan never ended"


def dbsizes(cluster):
    return [cluster.client(i).dbsize() for i in cluster.up()]


def test_keyspace_commands_cover_the_whole_cluster(cluster):
    """Proves DBSIZE, SCAN (COUNT, MATCH, TYPE), KEYS and RANDOMKEY answer for the whole cluster
    through every node: 500 keys of mixed types written through random nodes are counted once,
    listed once, scanned exactly once; an expired key is left out; INFO keyspace shows the node's
    own replicas; a cursor carried to another node skips nothing; and redis-py's RedisCluster
    scans and counts them."""
    keys = write_mixed_keys(cluster, 500)
    c0 = cluster.client(0)
    assert c0.set("short-lived", "x", px=100)
    time.sleep(0.3)
    # Keyspace reads take each slot from one replica; the third replica of the last writes may
    # be a few milliseconds behind the QUORUM that answered them.
    wait_until(lambda: dbsizes(cluster) == [500] * 3, 10, "every node to count 500 keys")
    assert dbsizes(cluster) == [500, 500, 500]

    for i in cluster.up():
        seen, pages = scan_through(cluster.client(i), count=10)
        assert set(seen) == set(keys), "node %d" % i
        assert all(times == 1 for times in seen.values()), "node %d repeated keys" % i
        assert pages >= 500 // (10 * 3)
    seen, _ = scan_through(cluster.client(1), match="mixed:hash:*", count=10)
    assert seen == {key: 1 for key, kind in keys.items() if kind == "hash"}
    seen, _ = scan_through(cluster.client(2), count=10, _type="zset")
    assert seen == {key: 1 for key, kind in keys.items() if kind == "zset"}
    seen, _ = scan_through(cluster.client(0), match="mixed:*:1?", count=7, _type="STRING")
    assert seen == {key: 1 for key, kind in keys.items()
                    if kind == "string" and len(key.split(":")[2]) == 2 and
                    key.split(":")[2].startswith("1")}
    assert scan_through(c0, count=50, _type="nosuchtype")[0] == {}

    # A cursor taken to another node (which does not know its key) resumes at its slot's start:
    # some keys again, none missed.
    cursor, first = c0.scan(cursor=0, count=100)
    assert cursor != 0 and first
    seen_elsewhere, _ = scan_through_from(cluster.client(1), cursor, count=100)
    assert set(keys) <= {k.decode() for k in first} | set(seen_elsewhere)

    listed = cluster.client(2).keys("*")
    assert sorted(k.decode() for k in listed) == sorted(keys)
    assert sorted(k.decode() for k in c0.keys("mixed:list:1??")) == sorted(
        key for key, kind in keys.items() if kind == "list" and len(key.split(":")[2]) == 3 and
        key.split(":")[2].startswith("1"))
    assert cluster.client(1).keys("nothing*") == []
    for i in cluster.up():
        for _ in range(5):
            assert cluster.client(i).randomkey().decode() in keys

    # With N = 3 on three nodes every node holds a replica of every key.
    for i in cluster.up():
        assert cluster.client(i).info("keyspace")["db0"]["keys"] == 500

    rc = RedisCluster(host=HOST, port=cluster.ports[0], socket_timeout=10)
    try:
        scanned = {}
        for key in rc.scan_iter(count=25):
            scanned[key.decode()] = scanned.get(key.decode(), 0) + 1
        # It scans every node it takes for a master, and each answers for the whole cluster.
        # (redis-py 4.3 gives a node the role of its first appearance in CLUSTER SLOTS, which
        # on three nodes with N = 3 makes one master.)
        masters = len(rc.get_primaries())
        assert set(scanned) == set(keys)
        assert set(scanned.values()) == {masters}
        assert rc.dbsize() == 500
    finally:
        rc.close()

    with pytest.raises(redis.exceptions.ResponseError, match="invalid cursor"):
        c0.execute_command("SCAN", "nope")
    with pytest.raises(redis.exceptions.ResponseError, match="syntax error"):
        c0.execute_command("SCAN", "0", "COUNT", "0")


def scan_through_from(client, cursor, **kwargs):
    seen = {}
    while True:
        cursor, keys = client.scan(cursor=cursor, **kwargs)
        for key in keys:
            seen[key.decode()] = seen.get(key.decode(), 0) + 1
        if cursor == 0:
            return seen, None


def test_keyspace_reads_answer_with_a_node_down_or_an_empty_cluster(cluster):
    """Proves an empty cluster answers DBSIZE 0, an empty SCAN, KEYS and a nil RANDOMKEY, and with
    one node just killed (membership has not noticed yet) DBSIZE, KEYS and SCAN still cover every
    key from the other replicas."""
    c1 = cluster.client(1)
    assert dbsizes(cluster) == [0, 0, 0]
    assert c1.scan(cursor=0) == (0, [])
    assert c1.keys("*") == []
    assert c1.randomkey() is None
    keys = write_mixed_keys(cluster, 100, prefix="down", seed_name="down")
    wait_until(lambda: dbsizes(cluster) == [100] * 3, 10, "every node to count 100 keys")
    cluster.stop(2, kill=True)
    # At once, before membership notices: the silent node is passed over for the next replicas.
    assert cluster.client(0).dbsize() == 100
    assert cluster.client(1).dbsize() == 100
    assert sorted(k.decode() for k in c1.keys("down:*")) == sorted(keys)
    assert set(scan_through(cluster.client(0), count=20)[0]) == set(keys)


def test_flushall_empties_the_whole_cluster(cluster):
    """Proves FLUSHALL through one node empties every node (DBSIZE 0, old keys nil at QUORUM),
    also after a node restart; a write after it survives; writes a restarted node missed (its
    hints, delivered late) bring nothing back; FLUSHDB ASYNC flushes too; and with a node down
    FLUSHALL is refused, naming it, and flushes nothing."""
    keys = write_mixed_keys(cluster, 300, prefix="old", seed_name="flush")
    # Writes node 2 misses while down: hints for it, held by the others.
    cluster.stop(2, kill=True)
    for n in range(50):
        assert cluster.client(n % 2).set("missed:%d" % n, n)
    cluster.start(2)
    wait_formed(cluster)

    assert cluster.client(1).flushall() is True
    assert dbsizes(cluster) == [0, 0, 0]
    olds = sorted(keys)[::10] + ["missed:%d" % n for n in range(0, 50, 5)]
    for i in cluster.up():
        assert cluster.client(i).mget(olds) == [None] * len(olds)
    assert cluster.client(2).set("after", "survives")
    assert cluster.client(0).get("after") == b"survives"

    # Hint delivery and read repair have had time to run: still nothing old anywhere.
    time.sleep(3)
    assert dbsizes(cluster) == [1, 1, 1]
    assert cluster.client(0).keys("*") == [b"after"]
    assert read_at_one(cluster, 2, ["missed:%d" % n for n in range(50)]) == [None] * 50

    cluster.stop(0, kill=True)
    cluster.start(0)
    wait_formed(cluster)
    assert dbsizes(cluster) == [1, 1, 1]
    for i in cluster.up():
        assert cluster.client(i).mget(olds + ["after"]) == [None] * len(olds) + [b"survives"]
    assert read_at_one(cluster, 0, olds) == [None] * len(olds)

    assert cluster.client(0).flushdb(asynchronous=True) is True
    assert dbsizes(cluster) == [0, 0, 0]
    with pytest.raises(redis.exceptions.ResponseError, match="syntax error"):
        cluster.client(0).execute_command("FLUSHALL", "LATER")

    assert cluster.client(0).set("kept", "1")
    victim_id = node_ids(cluster)[2]
    cluster.stop(2, kill=True)
    wait_until(lambda: member_flags(cluster.client(0), victim_id).split(",")[-1] == "fail", 30,
               "the killed node to be declared dead")
    with pytest.raises(redis.exceptions.ResponseError,
                       match="CLUSTERDOWN FLUSHALL needs every node of the ring, and node %s is "
                             "down; nothing was flushed" % victim_id):
        cluster.client(0).flushall()
    assert cluster.client(1).get("kept") == b"1"
