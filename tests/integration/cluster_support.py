"""Real Cairn clusters for the integration tests: cairnd processes on 127.0.0.1, on ports and
directories the test picked, stopped by PID; the helpers the cluster test modules share (conftest.py
makes the `cluster` fixture of them)."""

import time

import redis

from conftest import HOST, free_port, start_cairnd, stop_server


FORM_TIMEOUT_S = 20.0
# Each step of a ring change (a join, a leave) waits this long for every node to hear of it; on
# 127.0.0.1 a ring reaches every node within a push interval (1 s), so the default 5 s would only
# make the suite slower.
RING_SETTLE_MS = 1500


class Cluster:
    """`size` cairnd nodes (ports and directories picked for all), of which the first `running`
    (default all) start now: node 0 founds the cluster, the others join through it."""

    def __init__(self, tmp_path, size=3, extra_args=(), running=None):
        self.tmp_path = tmp_path
        self.extra_args = list(extra_args)
        self.ports = [free_port() for _ in range(size)]
        self.bus_ports = [free_port() for _ in range(size)]
        self.procs = [None] * size
        for i in range(size if running is None else running):
            self.start(i)

    def args(self, i, alone=False):
        args = ["--bus-port", str(self.bus_ports[i]), "--enable-fault-commands",
                "--ring-settle-ms", str(RING_SETTLE_MS)] + self.extra_args
        if i == 0 or alone:
            return args + ["--cluster-enabled"]
        return args + ["--seeds", "%s:%d" % (HOST, self.ports[0])]

    def start(self, i, alone=False):
        """Starts node i; `alone`: in a cluster of its own, for cairnctl add."""
        self.procs[i] = start_cairnd(self.args(i, alone), dir=str(self.tmp_path / ("node-%d" % i)),
                                     port=self.ports[i])

    def stop(self, i, kill=False):
        stop_server(self.procs[i], kill=kill)
        self.procs[i] = None

    def client(self, i, **kwargs):
        kwargs.setdefault("socket_timeout", 10)
        return redis.Redis(host=HOST, port=self.ports[i], **kwargs)

    def up(self):
        return [i for i, proc in enumerate(self.procs) if proc is not None]

    def close(self):
        for i in self.up():
            self.stop(i)


def cluster_info(client):
    text = client.execute_command("CLUSTER", "INFO")
    text = text.decode() if isinstance(text, bytes) else text
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def wait_formed(cluster, nodes=None, members=3, timeout_s=FORM_TIMEOUT_S):
    """Waits until every node in `nodes` (default: those up) has joined, holds a settled ring
    (out of any transition) of `members` and sees `members` live nodes."""
    deadline = time.monotonic() + timeout_s
    nodes = cluster.up() if nodes is None else nodes
    while True:
        infos = [cluster_info(cluster.client(i)) for i in nodes]
        if all(info["cluster_state"] == "ok" and info["cluster_size"] == str(members) and
               info["cluster_known_nodes"] == str(members) for info in infos) and \
                all(ring_transition(cluster.client(i)) == "none" for i in nodes):
            return
        if time.monotonic() > deadline:
            raise AssertionError("cluster did not form: %r" % infos)
        time.sleep(0.2)


def ring_transition(client):
    """CAIRN RING STATUS's transition: none, moving or flipped."""
    status = client.execute_command("CAIRN", "RING", "STATUS")
    fields = dict(zip(status[::2], status[1::2]))
    return fields[b"transition"].decode()


def node_ids(cluster):
    """Each node's id, by index; None for a node not running."""
    return [cluster.client(i).execute_command("CLUSTER", "MYID").decode()
            if cluster.procs[i] is not None else None for i in range(len(cluster.ports))]


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
