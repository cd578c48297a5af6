"""A real 3-node Cairn cluster on 127.0.0.1 (cairnd processes on ports the test picked, each on
its own directory, stopped by PID): the cluster forms through a seed; the Redis Cluster commands
describe it so that cluster clients (redis-cli -c, redis-py's RedisCluster, redis-benchmark
--cluster, ioredis) and cairnctl work; any node coordinates any key at QUORUM, pipelines
included; with one node SIGKILLed QUORUM keeps working, the restarted node rejoins as itself and
gets the writes it missed (hints), and with two of three down a QUORUM request answers NOQUORUM;
a paused node is suspected and rejoins; a partitioned minority refuses QUORUM; bad flags and a
busy bus port are refused clearly; a value larger than the bus's per-peer queue replicates."""

import os
import random
import signal
import socket
import subprocess
import time

import pytest
import redis
from redis.cluster import RedisCluster

from cluster_support import member_flags, node_ids, read_at_one, wait_formed, wait_until
from conftest import HOST, free_port, start_cairnd, stop_server, target_name
from node_support import make_seed

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="Cairn's own cluster")


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
    # The pipelines did go ahead: about 100-150 of their calls in a quiet run; fewer when the
    # server reads a pipeline in parts, as on a busy machine.
    assert ahead - ahead_before >= 40


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


def test_a_node_restarted_alone_keeps_its_peers_addresses(cluster):
    """Proves a node restarted while the others are down still names them by their saved
    addresses in CLUSTER NODES (so cairnctl and cluster clients can reach them), also after it
    has declared them dead: the addresses it saves are not pruned to the members that spoke."""
    ids = node_ids(cluster)
    addresses = {}
    for line in cluster.client(0).execute_command("CLUSTER", "NODES").decode().strip().split("\n"):
        fields = line.split()
        addresses[fields[0]] = fields[1]
    for i in range(3):
        cluster.stop(i)
    cluster.start(0)
    wait_until(lambda: all(member_flags(cluster.client(0), ids[i]).split(",")[-1] == "fail"
                           for i in (1, 2)), 30, "the others to be declared dead")
    for line in cluster.client(0).execute_command("CLUSTER", "NODES").decode().strip().split("\n"):
        fields = line.split()
        assert fields[1] == addresses[fields[0]], line


def test_replicas_compare_digests_in_the_background(cluster):
    """Proves anti-entropy runs between real processes (docs/cluster-repair.md): the nodes'
    exchanges compare partitions over the bus and find replicas that took the same writes
    equal."""
    client = cluster.client(0)
    for n in range(30):
        assert client.set("ae:%d" % n, n)
    clients = [cluster.client(i) for i in cluster.up()]

    def total(field):
        return sum(c.info("cluster")[field] for c in clients)

    wait_until(lambda: total("cairn_repair_partitions_equal") >= 20, 30, "repair exchanges")
    assert total("cairn_repair_exchanges") >= total("cairn_repair_partitions_equal")
    assert total("cairn_repair_bytes_sent") > 0


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


def test_values_larger_than_a_bus_send_queue_replicate(cluster):
    """Proves a value larger than the bus queues for one peer (64 MiB) is written at QUORUM and read
    back whole through every node: a message is let through a connection with nothing queued."""
    value = os.urandom(1 << 20) * 80  # 80 MiB
    clients = [cluster.client(i, socket_timeout=60) for i in cluster.up()]
    assert clients[0].set("large", value)
    for client in clients:
        assert client.get("large") == value
