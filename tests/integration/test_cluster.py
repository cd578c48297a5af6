"""A real 3-node Cairn cluster on 127.0.0.1 (cairnd processes on ports the test picked, each on
its own directory, stopped by PID): the cluster forms through a seed; the Redis Cluster commands
describe it so that cluster clients (redis-cli -c, redis-py's RedisCluster, redis-benchmark
--cluster) work; any node coordinates any key at QUORUM, transactions on one slot (MULTI/EXEC,
WATCH seeing writes through other nodes) included, and blocking pops through one node are served
by pushes through another; with one node SIGKILLed QUORUM keeps working, the restarted node
rejoins as itself and gets the writes it missed (hints), and with two of three down a QUORUM
request answers NOQUORUM; on five nodes under concurrent writers, a node SIGKILLed and restarted
mid-load loses no acknowledged write and its replicas converge; and the differential test's
random command sequences answer through a cluster node exactly as through redis-server."""

import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections import Counter

import pytest
import redis
from redis.cluster import RedisCluster

from conftest import HOST, RespError, free_port, start_cairnd, stop_server, target_name
from node_support import make_seed

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="Cairn's own cluster")

FORM_TIMEOUT_S = 20.0


class Cluster:
    """Three cairnd nodes: node 0 founds the cluster, the others join through it."""

    def __init__(self, tmp_path, size=3):
        self.tmp_path = tmp_path
        self.ports = [free_port() for _ in range(size)]
        self.bus_ports = [free_port() for _ in range(size)]
        self.procs = [None] * size
        for i in range(size):
            self.start(i)

    def args(self, i):
        args = ["--bus-port", str(self.bus_ports[i]), "--enable-fault-commands"]
        if i == 0:
            return args + ["--cluster-enabled"]
        return args + ["--seeds", "%s:%d" % (HOST, self.ports[0])]

    def start(self, i):
        self.procs[i] = start_cairnd(self.args(i), dir=str(self.tmp_path / ("node-%d" % i)),
                                     port=self.ports[i])

    def stop(self, i, kill=False):
        stop_server(self.procs[i], kill=kill)
        self.procs[i] = None

    def client(self, i, **kwargs):
        return redis.Redis(host=HOST, port=self.ports[i], socket_timeout=10, **kwargs)

    def up(self):
        return [i for i, proc in enumerate(self.procs) if proc is not None]

    def close(self):
        for i in self.up():
            self.stop(i)


def cluster_info(client):
    text = client.execute_command("CLUSTER", "INFO")
    text = text.decode() if isinstance(text, bytes) else text
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def wait_formed(cluster, nodes=None, members=3):
    """Waits until every node in `nodes` (default: those up) has joined, holds a ring of
    `members` and sees `members` live nodes."""
    deadline = time.monotonic() + FORM_TIMEOUT_S
    nodes = cluster.up() if nodes is None else nodes
    while True:
        infos = [cluster_info(cluster.client(i)) for i in nodes]
        if all(info["cluster_state"] == "ok" and info["cluster_size"] == str(members) and
               info["cluster_known_nodes"] == str(members) for info in infos):
            return
        if time.monotonic() > deadline:
            raise AssertionError("cluster did not form: %r" % infos)
        time.sleep(0.2)


@pytest.fixture
def cluster(tmp_path):
    made = Cluster(tmp_path)
    try:
        wait_formed(made)
        yield made
    finally:
        made.close()


def test_cluster_commands_describe_the_ring(cluster):
    """Proves CLUSTER INFO/MYID/NODES/SLOTS/SHARDS/KEYSLOT agree with each other on every node:
    three masters, slot ranges covering 0..16383 once, each with three distinct replicas."""
    ids = set()
    for i in cluster.up():
        client = cluster.client(i)
        my_id = client.execute_command("CLUSTER", "MYID").decode()
        assert len(my_id) == 40
        ids.add(my_id)
        nodes = client.execute_command("CLUSTER", "NODES")
        nodes = nodes.decode() if isinstance(nodes, bytes) else nodes
        lines = [line.split() for line in nodes.strip().split("\n")]
        assert len(lines) == 3
        myself = [line for line in lines if "myself" in line[2]]
        assert len(myself) == 1 and myself[0][0] == my_id
        assert myself[0][1] == "%s:%d@%d" % (HOST, cluster.ports[i], cluster.bus_ports[i])
        info = client.info("cluster")
        assert info["cluster_enabled"] == 1
    assert len(ids) == 3

    slots = cluster.client(1).execute_command("CLUSTER", "SLOTS")
    slots.sort(key=lambda entry: entry[0])
    expected_start = 0
    for entry in slots:
        assert entry[0] == expected_start
        replicas = entry[2:]
        assert len(replicas) == 3
        assert len({replica[2] for replica in replicas}) == 3
        assert {replica[1] for replica in replicas} == set(cluster.ports)
        expected_start = entry[1] + 1
    assert expected_start == 16384

    shards = cluster.client(2).execute_command("CLUSTER", "SHARDS")
    assert shards and all(len(shard[3]) == 3 for shard in shards)
    assert cluster.client(0).execute_command("CLUSTER", "KEYSLOT", "foo") == 12182
    assert cluster.client(0).execute_command("CLUSTER", "KEYSLOT", "{user1000}.following") == \
        cluster.client(0).execute_command("CLUSTER", "KEYSLOT", "{user1000}.followers")


def test_any_node_serves_any_key(cluster):
    """Proves QUORUM writes through random nodes are read back through every other node, the
    INCR family loses no increment across coordinators, and multi-key commands span slots."""
    rng = random.Random(make_seed("test_any_node_serves_any_key"))
    clients = [cluster.client(i) for i in cluster.up()]
    expected = {}
    for n in range(300):
        key = "key:%d" % rng.randrange(100)
        value = "v%d" % n
        assert rng.choice(clients).set(key, value)
        expected[key] = value.encode()
    for client in clients:
        for key, value in expected.items():
            assert client.get(key) == value
    for n in range(60):
        clients[n % 3].incr("counter")
    assert all(client.get("counter") == b"60" for client in clients)
    keys = sorted(expected)[:10]
    assert clients[0].mget(keys) == [expected[key] for key in keys]
    assert clients[1].exists(*keys) == len(keys)
    assert clients[2].delete(*keys, "never-set") == len(keys)
    assert clients[0].mget(keys) == [None] * len(keys)
    assert clients[1].set("nx-key", "a", nx=True)
    assert clients[2].set("nx-key", "b", nx=True) is None
    assert clients[0].get("nx-key") == b"a"


def test_pipelined_commands_answer_in_order_as_if_run_in_turn(cluster):
    """Proves a pipeline's GETs and SETs, which go to the replicas together when their keys
    differ (server/cluster_pipeline.h), answer in order exactly what running them one by one
    answers: a GET after a SET of its key sees the SET, other commands between them included."""
    rng = random.Random(make_seed("test_pipelined_commands_answer_in_order"))
    clients = [cluster.client(i) for i in cluster.up()]
    ahead_before = sum(client.info("cluster")["cairn_calls_submitted_ahead"] for client in clients)
    model = {}
    for _ in range(40):
        pipe = rng.choice(clients).pipeline(transaction=False)
        expected = []
        for n in range(rng.randrange(2, 40)):
            key = "p:%d" % rng.randrange(12)
            roll = rng.random()
            if roll < 0.4:
                value = "v%d" % rng.randrange(1000)
                pipe.set(key, value)
                model[key] = value.encode()
                expected.append(True)
            elif roll < 0.8:
                pipe.get(key)
                expected.append(model.get(key))
            elif roll < 0.9:
                pipe.delete(key)
                expected.append(1 if model.pop(key, None) is not None else 0)
            else:
                pipe.exists(key)
                expected.append(1 if key in model else 0)
        assert pipe.execute() == expected
    ahead = sum(client.info("cluster")["cairn_calls_submitted_ahead"] for client in clients)
    assert ahead - ahead_before >= 100  # the pipelines did go ahead


def test_cluster_clients_work(cluster):
    """Proves redis-py's RedisCluster, redis-cli -c and redis-benchmark --cluster work against
    the cluster through any node."""
    rc = RedisCluster(host=HOST, port=cluster.ports[1], socket_timeout=10)
    for n in range(100):
        rc.set("rc:%d" % n, n)
    assert all(rc.get("rc:%d" % n) == str(n).encode() for n in range(100))
    rc.close()

    out = subprocess.run(["redis-cli", "-c", "-p", str(cluster.ports[2]), "SET", "cli-key", "x"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "OK", out
    out = subprocess.run(["redis-cli", "-c", "-p", str(cluster.ports[0]), "GET", "cli-key"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "x", out

    out = subprocess.run(["redis-benchmark", "--cluster", "-p", str(cluster.ports[0]), "-t",
                          "set,get", "-n", "2000", "-c", "10", "-q", "--csv"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out
    rows = [line for line in out.stdout.splitlines() if line.startswith('"SET"') or
            line.startswith('"GET"')]
    assert len(rows) == 2, out.stdout


def test_cairnctl_describes_the_cluster(cluster):
    """Proves cairnctl's status, ring and slot describe a Cairn cluster: three alive nodes with
    their racks and disk use, every slot owned, and a key's preference list of three nodes."""
    import json
    binary = os.environ.get("CAIRNCTL") or os.path.join(
        os.path.dirname(__file__), "..", "..", "build", "cairnctl")

    def cairnctl(*args):
        out = subprocess.run([binary, "--port", str(cluster.ports[1]), "--json"] + list(args),
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out
        return json.loads(out.stdout)

    status = cairnctl("status")
    nodes = status["nodes"]
    assert len(nodes) == 3 and all(node["state"] == "alive" for node in nodes)
    assert sum(node["slots"] for node in nodes) == 16384
    assert all(node["disk_bytes"] > 0 for node in nodes)
    ring = cairnctl("ring")
    assert sum(r["end"] - r["start"] + 1 for r in ring["ranges"]) == 16384
    slot = cairnctl("slot", "foo")
    assert slot["slot"] == 12182 and len(slot["replicas"]) == 3


def test_ioredis_cluster_client_works(cluster):
    """Proves ioredis's Cluster client (npm, installed by scripts/install-deps.sh) works against
    the cluster: it reads CLUSTER SLOTS, routes keys, pipelines per node (tests/compat)."""
    script = os.path.join(os.path.dirname(__file__), "..", "compat", "ioredis_cluster.js")
    out = subprocess.run(["node", script, str(cluster.ports[0])], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out


# ---------------------------------------------------------------------------------------------
# Transactions and blocking pops in cluster mode (docs/cluster-operations.md).

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


def test_a_killed_node_rejoins_and_catches_up(cluster):
    """Proves that with one node SIGKILLed, QUORUM writes and reads keep working through the
    others; the restarted node rejoins as itself (same id, from its saved ring) and the writes it
    missed reach it (hints), so a read at ONE through it alone sees them; with two of three down,
    QUORUM answers NOQUORUM naming the count."""
    victim = 2
    old_id = cluster.client(victim).execute_command("CLUSTER", "MYID")
    cluster.stop(victim, kill=True)
    live = [cluster.client(i) for i in cluster.up()]
    for n in range(50):
        assert live[n % 2].set("missed:%d" % n, n)
    assert all(live[0].get("missed:%d" % n) == str(n).encode() for n in range(50))

    cluster.start(victim)
    wait_formed(cluster)
    restarted = cluster.client(victim)
    assert restarted.execute_command("CLUSTER", "MYID") == old_id
    restarted.execute_command("CAIRN", "CONSISTENCY", "ONE")
    assert restarted.execute_command("CAIRN", "CONSISTENCY") == b"ONE"
    deadline = time.monotonic() + 20
    while True:
        # With N = 3 on three nodes every node is a replica of every key, and a read at ONE is
        # answered by the coordinator's own replica first.
        missing = [n for n in range(50) if restarted.get("missed:%d" % n) != str(n).encode()]
        if not missing:
            break
        assert time.monotonic() < deadline, "hints not delivered for %r" % missing[:10]
        time.sleep(0.2)

    cluster.stop(1, kill=True)
    cluster.stop(2, kill=True)
    with pytest.raises(redis.exceptions.ResponseError,
                       match="NOQUORUM QUORUM write of SET needs 2 of 3 replicas; 1 replied"):
        cluster.client(0).set("lonely", "x")


# ---------------------------------------------------------------------------------------------
# Five nodes, concurrent writers, one node SIGKILLed and restarted mid-load.

LOAD_WRITERS = 4  # SET threads; one more runs the INCRs
LOAD_COUNTERS = ["ctr:%d" % n for n in range(3)]
LOAD_OPS_PER_WRITER_MAX = 4000  # a bound: the phases below end the load long before it
LOAD_PAUSE_S = 0.004  # between one writer's requests, so a few thousand writes in all
LOAD_BEFORE_KILL_WRITES = 500  # acknowledged SETs before the SIGKILL
LOAD_DOWN_S = 2.5  # load with the victim down
LOAD_AFTER_RESTART_WRITES = 300  # acknowledged SETs once the restarted victim is back
# The coordinator stores a write's hints when its request ends, at the latest after its
# request_timeout_ms (1 s, src/cluster/coordinator.h): past this, no new hint can appear.
REQUEST_END_S = 1.5
VERIFY_BATCH = 500


class LoadWriter(threading.Thread):
    """One client thread: SETs of its own keys w<writer>:<n>, or (counting) INCRs of the shared
    counters, each through a random node at the connection's default level (QUORUM). Only an OK
    (for INCR, an integer) counts as acknowledged; an error or a dropped connection leaves the
    write unknown, and the next request goes to another random node. The INCRs have a thread of
    their own: until the failure detector declares the killed node dead, an INCR whose counter
    leader it is waits out the request timeout, and that must not stall the SETs."""

    def __init__(self, number, ports, seed, stop, counting=False):
        threading.Thread.__init__(self, name="load-writer-%d" % number, daemon=True)
        self.number = number
        self.ports = ports
        self.rng = random.Random(seed * 1009 + number)
        self.stop = stop
        self.counting = counting
        self.lock = threading.Lock()
        self.acked = []  # (key, value), appended under lock
        self.incr_attempted = Counter()
        self.incr_acked = Counter()
        self.errors = Counter()  # "NOQUORUM", "ConnectionError", ...
        self.failure = None

    def acked_snapshot(self):
        with self.lock:
            return list(self.acked)

    def run(self):
        # No retry: redis-py's default (retry_on_timeout False, no retry_on_error) sends each
        # command once, so an INCR is attempted exactly as often as counted.
        clients = {port: redis.Redis(host=HOST, port=port, socket_timeout=5,
                                     socket_connect_timeout=2) for port in self.ports}
        try:
            for n in range(LOAD_OPS_PER_WRITER_MAX):
                if self.stop.is_set():
                    break
                client = clients[self.rng.choice(self.ports)]
                if self.counting:
                    self.incr(client, self.rng.choice(LOAD_COUNTERS))
                else:
                    self.set(client, "w%d:%d" % (self.number, n))
                self.stop.wait(LOAD_PAUSE_S)
        except BaseException as error:  # reported by the test's thread
            self.failure = error
        finally:
            for client in clients.values():
                client.close()

    def set(self, client, key):
        value = "%s=writer%d" % (key, self.number)
        try:
            reply = client.set(key, value)
        except redis.exceptions.RedisError as error:
            self.note(error)
            return
        if reply is True:
            with self.lock:
                self.acked.append((key, value.encode()))
        else:
            self.errors["SET replied %r" % (reply,)] += 1

    def incr(self, client, counter):
        self.incr_attempted[counter] += 1
        try:
            reply = client.incr(counter)
        except redis.exceptions.RedisError as error:
            self.note(error)
            return
        if isinstance(reply, int):
            self.incr_acked[counter] += 1
        else:
            self.errors["INCR replied %r" % (reply,)] += 1

    def note(self, error):
        if isinstance(error, redis.exceptions.ResponseError):
            self.errors[str(error).split(" ")[0]] += 1
        else:
            self.errors[type(error).__name__] += 1


def load_acked(writers):
    acked = {}
    for writer in writers:
        acked.update(writer.acked_snapshot())
    return acked


def replica_ports(client, keys):
    """Each key's preference list, as client ports, from CLUSTER KEYSLOT and CLUSTER SLOTS."""
    ranges = client.execute_command("CLUSTER", "SLOTS")
    by_slot = {}
    for entry in ranges:
        ports = [replica[1] for replica in entry[2:]]
        for slot in range(entry[0], entry[1] + 1):
            by_slot[slot] = ports
    assert len(by_slot) == 16384
    slots = []
    for start in range(0, len(keys), VERIFY_BATCH):
        pipe = client.pipeline(transaction=False)
        for key in keys[start:start + VERIFY_BATCH]:
            pipe.execute_command("CLUSTER", "KEYSLOT", key)
        slots += pipe.execute()
    return {key: by_slot[slot] for key, slot in zip(keys, slots)}


def read_keys(cluster, i, keys, level):
    """GETs of keys through node i at `level`, pipelined on one connection."""
    client = cluster.client(i)
    values = []
    try:
        for start in range(0, len(keys), VERIFY_BATCH):
            pipe = client.pipeline(transaction=False)
            pipe.execute_command("CAIRN", "CONSISTENCY", level)
            for key in keys[start:start + VERIFY_BATCH]:
                pipe.get(key)
            values += pipe.execute()[1:]
    finally:
        client.close()
    return values


def cluster_counter(cluster, i, field):
    """One of node i's INFO cluster counters (cairn_hints_pending, cairn_read_repairs, ...)."""
    client = cluster.client(i)
    try:
        return client.info("cluster")[field]
    finally:
        client.close()


@pytest.fixture
def cluster5(tmp_path):
    made = Cluster(tmp_path, size=5)
    try:
        wait_formed(made, members=5)
        yield made
    finally:
        made.close()


def test_five_nodes_lose_no_acked_write_when_one_is_killed_under_load(cluster5, tmp_path):
    """Proves that on 5 nodes, with concurrent writers through random nodes while one node is
    SIGKILLed and restarted, no acknowledged QUORUM write or INCR is lost, QUORUM reads and
    writes keep working through the survivors, and after the restart the hints drain and every
    replica of every acknowledged key (the victim's included) holds it, read at ONE."""
    cluster = cluster5
    rng = random.Random(make_seed("test_five_nodes_lose_no_acked_write"))
    print("node logs and data in %s" % tmp_path)
    victim = rng.randrange(1, 5)
    survivors = [i for i in range(5) if i != victim]
    stop = threading.Event()
    writers = [LoadWriter(w, cluster.ports, rng.randrange(1 << 30), stop, counting=(w == 0))
               for w in range(LOAD_WRITERS + 1)]
    for writer in writers:
        writer.start()
    try:
        wait_until(lambda: len(load_acked(writers)) >= LOAD_BEFORE_KILL_WRITES, 30,
                   "writes before the kill")
        cluster.stop(victim, kill=True)
        acked_before_kill = set(load_acked(writers))
        window_end = time.monotonic() + LOAD_DOWN_S
        window_reads = 0
        while time.monotonic() < window_end:
            acked = load_acked(writers)
            sample = rng.sample(sorted(acked), 10)
            through = rng.choice(survivors)
            assert read_keys(cluster, through, sample, "QUORUM") == [acked[k] for k in sample], \
                "a QUORUM read through node %d with node %d down" % (through, victim)
            window_reads += len(sample)
            time.sleep(0.1)
        acked_while_down = set(load_acked(writers)) - acked_before_kill
        assert acked_while_down, "no QUORUM write succeeded with node %d down" % victim
        cluster.start(victim)
        wait_formed(cluster, members=5)
        acked_at_restart = len(load_acked(writers))
        wait_until(lambda: len(load_acked(writers)) >= acked_at_restart + LOAD_AFTER_RESTART_WRITES,
                   30, "writes after the restart")
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=30)
    assert not any(writer.is_alive() for writer in writers), "a writer did not stop"
    for writer in writers:
        if writer.failure is not None:
            raise writer.failure
    errors = sum((writer.errors for writer in writers), Counter())
    acked = load_acked(writers)
    print("victim node %d; %d writes acked (%d with it down), %d QUORUM reads while down; "
          "errors %s" % (victim, len(acked), len(acked_while_down), window_reads, dict(errors)))

    # The hints drain; then every replica holds every acknowledged write it is a replica of. The
    # victim is read first: a read through another node may repair it (read repair), and none
    # of these reads may find a replica to repair.
    time.sleep(REQUEST_END_S)
    stored = sum(cluster_counter(cluster, i, "cairn_hints_stored") for i in survivors)
    assert stored > 0, "no hints were stored for the killed node"
    wait_until(lambda: all(cluster_counter(cluster, i, "cairn_hints_pending") == 0
                           for i in range(5)), 30, "the hints to drain")
    repairs_before = sum(cluster_counter(cluster, i, "cairn_read_repairs") for i in range(5))
    keys = sorted(acked)
    replicas = replica_ports(cluster.client(0), keys)
    for i in [victim] + survivors:
        held = [key for key in keys if cluster.ports[i] in replicas[key]]
        values = read_keys(cluster, i, held, "ONE")
        stale = [(k, v) for k, v in zip(held, values) if v != acked[k]]
        assert not stale, "node %d (victim %d) lacks acknowledged writes it is a replica of: " \
            "%d of %d, e.g. %r" % (i, victim, len(stale), len(held), stale[:10])
        if i == victim:
            missed = [key for key in held if key in acked_while_down]
            print("the victim holds %d acknowledged keys, %d of them written while it was down"
                  % (len(held), len(missed)))
            assert missed, "no write made while the victim was down has it as a replica"
    repairs = sum(cluster_counter(cluster, i, "cairn_read_repairs") for i in range(5))
    assert repairs == repairs_before, "%d replicas were repaired" % (repairs - repairs_before)

    # Every acknowledged write reads back at QUORUM through a random node.
    by_node = {}
    for key in keys:
        by_node.setdefault(rng.randrange(5), []).append(key)
    for i, node_keys in sorted(by_node.items()):
        values = read_keys(cluster, i, node_keys, "QUORUM")
        lost = [(k, v) for k, v in zip(node_keys, values) if v != acked[k]]
        assert not lost, "acknowledged writes read back wrong through node %d: %r" % (i, lost[:10])

    # Each counter holds every acknowledged increment and no more than were attempted.
    for counter in LOAD_COUNTERS:
        attempted = sum(writer.incr_attempted[counter] for writer in writers)
        succeeded = sum(writer.incr_acked[counter] for writer in writers)
        for i in range(5):
            value = int(cluster.client(i).get(counter) or 0)
            assert succeeded <= value <= attempted, \
                "%s through node %d is %d, acked %d, attempted %d" % (counter, i, value,
                                                                      succeeded, attempted)
        print("%s: %d increments acked, %d attempted, value %d" % (counter, succeeded, attempted,
                                                                   value))

def node_ids(cluster):
    return [cluster.client(i).execute_command("CLUSTER", "MYID").decode() for i in range(3)]


def member_flags(client, node_id):
    """The CLUSTER NODES flags `client` shows for `node_id`."""
    nodes = client.execute_command("CLUSTER", "NODES")
    nodes = nodes.decode() if isinstance(nodes, bytes) else nodes
    for line in nodes.strip().split("\n"):
        fields = line.split()
        if fields[0] == node_id:
            return fields[2]
    return None


def wait_until(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.2)


def read_at_one(cluster, i, keys):
    """Reads `keys` through node i at ONE: with N = 3 on three nodes, node i's own replica
    answers first, so this shows what node i holds."""
    client = cluster.client(i)
    client.execute_command("CAIRN", "CONSISTENCY", "ONE")
    return [client.get(key) for key in keys]


def test_a_paused_node_is_suspected_and_rejoins(cluster):
    """Proves a node paused (SIGSTOP) past the failure detector's timeout is suspected, then
    declared dead, by the others while QUORUM requests keep succeeding through them, and once
    resumed (SIGCONT) it refutes, is alive again and holds the writes made meanwhile."""
    victim = 2
    victim_id = node_ids(cluster)[victim]
    os.kill(cluster.procs[victim].pid, signal.SIGSTOP)
    try:
        live = [cluster.client(0), cluster.client(1)]
        for n in range(40):
            assert live[n % 2].set("paused:%d" % n, n)
        # Suspected ("fail?") first, then, past the suspicion timeout, declared dead ("fail").
        wait_until(lambda: member_flags(live[0], victim_id).split(",")[-1] == "fail", 30,
                   "the paused node to be declared dead")
        assert all(live[1].get("paused:%d" % n) == str(n).encode() for n in range(40))
    finally:
        os.kill(cluster.procs[victim].pid, signal.SIGCONT)
    wait_until(lambda: "fail" not in member_flags(cluster.client(0), victim_id), 30,
               "the resumed node to be alive")
    keys = ["paused:%d" % n for n in range(40)]
    wait_until(lambda: read_at_one(cluster, victim, keys) == [str(n).encode() for n in range(40)],
               30, "the resumed node to catch up")


def test_a_partitioned_minority_refuses_quorum_and_converges_after(cluster):
    """Proves a partition of the cluster bus (CAIRN FAULT PARTITION on both sides) leaves the
    minority node answering QUORUM requests with NOQUORUM while the majority keeps serving, and
    after the partition heals the minority holds the majority's writes."""
    ids = node_ids(cluster)
    cluster.client(2).execute_command("CAIRN", "FAULT", "PARTITION", ids[0], ids[1])
    cluster.client(0).execute_command("CAIRN", "FAULT", "PARTITION", ids[2])
    cluster.client(1).execute_command("CAIRN", "FAULT", "PARTITION", ids[2])
    try:
        with pytest.raises(redis.exceptions.ResponseError,
                           match="NOQUORUM QUORUM write of SET needs 2 of 3 replicas; 1 replied"):
            cluster.client(2).set("minority", "x")
        with pytest.raises(redis.exceptions.ResponseError, match="NOQUORUM QUORUM read"):
            cluster.client(2).get("minority")
        for n in range(30):
            assert cluster.client(n % 2).set("majority:%d" % n, n)
        assert all(cluster.client(1).get("majority:%d" % n) == str(n).encode()
                   for n in range(30))
    finally:
        for i in range(3):
            cluster.client(i).execute_command("CAIRN", "FAULT", "HEAL")
    keys = ["majority:%d" % n for n in range(30)]
    wait_until(lambda: read_at_one(cluster, 2, keys) == [str(n).encode() for n in range(30)],
               30, "the healed minority to converge")


# ---------------------------------------------------------------------------------------------
# Keyspace-wide commands: DBSIZE, SCAN, KEYS, RANDOMKEY, FLUSHALL and FLUSHDB over the whole
# cluster, from any node (docs/cluster-operations.md, "Keyspace-wide commands").

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


def test_fault_commands_need_their_flag(tmp_path):
    """Proves CAIRN FAULT is refused, with the flag to use named, on a node started without
    --enable-fault-commands."""
    node = start_cairnd(["--cluster-enabled", "--bus-port", str(free_port())],
                        dir=str(tmp_path / "node"), port=free_port())
    try:
        with pytest.raises(redis.exceptions.ResponseError, match="--enable-fault-commands"):
            node.client().execute_command("CAIRN", "FAULT", "HEAL")
    finally:
        stop_server(node)


def test_cluster_mode_flags_are_checked(tmp_path):
    """Proves bad cluster flags are refused with a clear message before anything starts."""
    binary = os.environ.get("CAIRND")
    ports = ["--port", str(free_port()), "--bus-port", str(free_port())]
    for args, message in [
        (ports + ["--seeds", "nohostport"], "seeds"),
        (ports + ["--cluster-enabled", "--replicas", "9"], "replicas = 9 is out of range 1..7"),
        (ports + ["--cluster-enabled", "--consistency", "most"], "consistency must be one"),
        (["--cluster-enabled", "--bus-port", "7000", "--port", "0"], "port must not be 0"),
    ]:
        out = subprocess.run([binary or "build/cairnd", "--dir", str(tmp_path / "d")] + args,
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 1, out
        assert message in out.stderr, out.stderr


def test_a_busy_bus_port_is_refused_clearly(tmp_path):
    """Proves a node whose bus port is taken exits with that error (it once crashed instead)."""
    taken = socket.socket()
    taken.bind((HOST, 0))
    taken.listen(1)
    try:
        args = [os.environ.get("CAIRND") or "build/cairnd", "--dir", str(tmp_path / "d"),
                "--cluster-enabled", "--port", str(free_port()),
                "--bus-port", str(taken.getsockname()[1])]
        out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    finally:
        taken.close()
    assert out.returncode == 1, out
    assert "cannot start the cluster" in out.stderr, out.stderr
    assert "address already in use" in out.stderr, out.stderr


# ---------------------------------------------------------------------------------------------
# The differential test, on the cluster: every data command's reply through a cluster node must
# match redis-server's, and so must the keys' final states.

DIFF_TAG = b"{d}"  # one slot for every key, so multi-key commands run as in Redis Cluster
# Keyspace-wide: those read each slot at ONE, so right after a QUORUM write they may miss it on a
# lagging replica; the keyspace tests above cover them.
DIFF_EXCLUDED = {b"KEYS", b"SCAN", b"RANDOMKEY", b"DBSIZE"}
DIFF_SEEDS = list(range(101, 107)) if os.environ.get("CAIRN_TEST_LONG") != "1" else \
    list(range(101, 141))
DIFF_OPS = 1500


# Commands whose keys follow a count: the count's index.
COUNTED_KEYS = {b"SINTERCARD": 1, b"ZUNION": 1, b"ZINTER": 1, b"ZDIFF": 1, b"ZINTERCARD": 1,
                b"LMPOP": 1, b"ZMPOP": 1, b"ZUNIONSTORE": 2, b"ZINTERSTORE": 2, b"ZDIFFSTORE": 2}


def keys_share_the_tag(args):
    """False when a valid count names more arguments as keys than the generator tagged (say
    "WEIGHTS"): Redis Cluster answers CROSSSLOT to that, redis-server runs it."""
    index = COUNTED_KEYS.get(args[0].upper())
    if index is None or index >= len(args) or not args[index].isdigit():
        return True
    count = int(args[index])
    keys = args[index + 1:index + 1 + count]
    return count > len(args) - index - 1 or all(key.startswith(DIFF_TAG) for key in keys)


def diff_classes():
    from test_differential import Gen, KEYS, Pair

    class ClusterGen(Gen):
        """The single node's generator, on keys of one slot, without what the cluster lacks."""

        def __init__(self, rng):
            Gen.__init__(self, rng)
            self.single_score_key = DIFF_TAG + self.single_score_key

        def key(self):
            return DIFF_TAG + Gen.key(self)

        def zset_key(self):
            key = Gen.zset_key(self)
            return key if key.startswith(DIFF_TAG) else DIFF_TAG + key

        def command(self):
            while True:
                args, mode = Gen.command(self)
                if mode == "multi":  # a transaction of the commands generated next
                    return args, mode
                if mode in ("scan", "randomkey", "dbsize"):
                    continue
                if args[0].upper() not in DIFF_EXCLUDED and keys_share_the_tag(args):
                    return args, mode

    class ClusterPair(Pair):
        """The reference and one cluster node; the cluster starts empty, so only the reference
        is flushed."""

        def __init__(self, ref_port, target_port, seed, resp3):
            from conftest import RespConnection
            self.ref = RespConnection(HOST, ref_port)
            self.tgt = RespConnection(HOST, target_port)
            self.seed = seed
            self.rng = random.Random(seed * 7919 + 1)
            self.history = []
            if resp3:
                self.ref.call("HELLO", "3")
                self.tgt.call("HELLO", "3")
            assert self.ref.call("FLUSHALL") == "OK"

        def compare_state(self):
            for key in [DIFF_TAG + key for key in KEYS]:
                for cmd, mode in ((b"GET", "exact"), (b"TYPE", "exact"), (b"PTTL", "ttl_ms"),
                                  (b"HGETALL", "pairs"), (b"SMEMBERS", "sorted"),
                                  (b"LRANGE", "exact"), (b"ZRANGE", "exact")):
                    extra = {b"LRANGE": [b"0", b"-1"], b"ZRANGE": [b"0", b"-1", b"WITHSCORES"]}
                    self.run([cmd, key] + extra.get(cmd, []), mode)

    return ClusterGen, ClusterPair


def test_cluster_commands_match_redis(cluster, redis_reference):
    """Proves every data command the single node serves (but the keyspace-wide ones),
    transactions and the blocking pops included, answers through a cluster node exactly as
    redis-server does, over random sequences on keys of one slot, and leaves the same keys
    behind: the cluster runs each command on its keys' merged states and writes back what
    changed."""
    ClusterGen, ClusterPair = diff_classes()
    for seed in DIFF_SEEDS:
        rng = random.Random(seed)
        pair = ClusterPair(redis_reference.port, cluster.ports[seed % 3], seed,
                           resp3=(seed % 2 == 0))
        try:
            gen = ClusterGen(rng)
            for _ in range(DIFF_OPS):
                args, mode = gen.command()
                if mode == "multi":
                    pair.transaction(gen)
                else:
                    pair.run(args, mode)
            pair.compare_state()
            # Start the next seed from empty keys on both sides.
            pair.tgt.call("DEL", *[DIFF_TAG + key for key in __import__(
                "test_differential").KEYS])
        finally:
            pair.close()
