"""cairnctl against a real Redis Cluster (three redis-server masters made one cluster by
`redis-cli --cluster create`), since Cairn answers CLUSTER NODES, CLUSTER SLOTS and INFO in
Redis's formats: status, ring and slot in text and --json, agreeing with what the cluster itself
says; a dead address and a node without cluster support as one clear line on stderr with exit
code 1; a killed node as a row marked unreachable, then dead, not as a failure.

The binary is $CAIRNCTL, default <repo>/build/cairnctl. Servers are started on free ports under
a temporary directory and stopped by PID."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import REPO_ROOT, free_port, start_redis, stop_server
from node_support import HOST

SLOT_COUNT = 16384
CLUSTER_SIZE = 3
CONVERGE_TIMEOUT_S = 30.0


def cairnctl_path():
    return os.environ.get("CAIRNCTL", os.path.join(REPO_ROOT, "build", "cairnctl"))


def run_cairnctl(*args, timeout=30):
    """Runs cairnctl; returns (exit code, stdout, stderr)."""
    binary = cairnctl_path()
    if not os.path.exists(binary):
        pytest.fail("cairnctl binary not found at %s (build it or set CAIRNCTL=...)" % binary)
    result = subprocess.run([binary] + [str(a) for a in args], capture_output=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def run_json(*args):
    code, out, err = run_cairnctl("--json", *args)
    assert code == 0, (code, out, err)
    return json.loads(out)


def assert_one_line_error(code, stderr, *fragments):
    assert code == 1, (code, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("cairnctl: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, stderr)


class Cluster:
    """Three redis-server masters on free ports, each in its own directory, joined by
    redis-cli --cluster create and waited for until every node sees all slots served."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="cairn-it-cluster-")
        self.nodes = []
        try:
            for i in range(CLUSTER_SIZE):
                args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-port", str(free_port()), "--cluster-node-timeout", "1000")
                self.nodes.append(start_redis(os.path.join(self.root, "node%d" % i),
                                              extra_args=args))
            self._create()
            self._wait_converged()
        except BaseException:
            self.stop()
            raise

    @property
    def ports(self):
        return [node.port for node in self.nodes]

    def client(self, port):
        return redis.Redis(host=HOST, port=port, socket_timeout=10, decode_responses=True)

    def _create(self):
        redis_cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        addresses = ["%s:%d" % (HOST, port) for port in self.ports]
        result = subprocess.run([redis_cli, "--cluster", "create"] + addresses + ["--cluster-yes"],
                                capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()

    def _wait_converged(self):
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        while True:
            states = []
            for port in self.ports:
                with self.client(port) as c:
                    info = c.execute_command("CLUSTER", "INFO")
                    if isinstance(info, bytes):
                        info = info.decode()
                    states.append("cluster_state:ok" in info and
                                  "cluster_known_nodes:%d" % CLUSTER_SIZE in info)
            if all(states):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not converge within %.0f s"
                                   % CONVERGE_TIMEOUT_S)
            time.sleep(0.1)

    def node_ids(self):
        """{port: node id} as each node names itself."""
        ids = {}
        for port in self.ports:
            with self.client(port) as c:
                ids[port] = c.execute_command("CLUSTER", "MYID")
        return ids

    def slot_owner_port(self, slot):
        with self.client(self.ports[0]) as c:
            for start, end, master, *_ in c.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    return master[1]
        return None

    def stop(self):
        for node in self.nodes:
            stop_server(node)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    yield c
    c.stop()


def dead_port():
    """A port where nothing listens (free a moment ago)."""
    return free_port()


# ---------------------------------------------------------------------------------------------
# status


def status_rows(out):
    """The table rows of `cairnctl status` (after the summary line and the header), as
    {address: row text}."""
    lines = out.strip().splitlines()
    assert re.match(r"\d+ nodes \(\d+ alive\), \d+ of 16384 slots owned; asked ", lines[0]), out
    assert lines[1].split() == ["ID", "ADDRESS", "STATE", "SLOTS", "RACK", "KEYS", "OPS/S",
                                "DISK"], out
    rows = {}
    for line in lines[2:]:
        rows[line.split()[1]] = line
    return rows


def test_status_text(cluster):
    """One row per node with its id, state, slots and INFO columns; the asked node marked."""
    ids = cluster.node_ids()
    code, out, err = run_cairnctl("--port", cluster.ports[0], "status")
    assert code == 0, (out, err)
    assert out.startswith("3 nodes (3 alive), 16384 of 16384 slots owned; asked 127.0.0.1:%d\n"
                          % cluster.ports[0]), out
    rows = status_rows(out)
    assert sorted(rows) == sorted("127.0.0.1:%d" % p for p in cluster.ports), out
    total = 0
    for port in cluster.ports:
        fields = rows["127.0.0.1:%d" % port].split()
        assert fields[0] == ids[port]
        myself = port == cluster.ports[0]
        assert ("(myself)" in fields) == myself, out
        fields = [f for f in fields if f != "(myself)"]
        # id, address, state, slots, rack, keys, ops/s, disk
        assert fields[2] == "alive", out
        total += int(fields[3])
        assert fields[4] == "-", out  # redis-server has no cairn_rack
        assert fields[5].isdigit() and fields[6].isdigit(), out
        assert fields[7] == "-", out  # nor cairn_disk_bytes
    assert total == SLOT_COUNT


def test_status_json_counts_keys_where_they_live(cluster):
    """The JSON has every node's fields; a key written on its slot's owner shows in its count."""
    key = "cairnctl-status-key"
    slot = run_json("--port", cluster.ports[1], "slot", key)
    owner = int(slot["replicas"][0]["address"].rsplit(":", 1)[1])
    with cluster.client(owner) as c:
        before = c.dbsize()
        assert c.set(key, "v")
    try:
        report = run_json("--port", cluster.ports[1], "status")
        assert report["asked"] == "127.0.0.1:%d" % cluster.ports[1]
        ids = cluster.node_ids()
        assert len(report["nodes"]) == CLUSTER_SIZE
        for node in report["nodes"]:
            port = int(node["address"].rsplit(":", 1)[1])
            assert node["id"] == ids[port]
            assert node["state"] == "alive"
            assert node["myself"] == (port == cluster.ports[1])
            assert "master" in node["flags"]
            assert node["reachable"] is True and node["error"] is None
            assert node["rack"] is None and node["disk_bytes"] is None
            assert isinstance(node["ops_per_sec"], int)
            assert node["slots"] == sum(end - start + 1 for start, end in node["slot_ranges"])
            if port == owner:
                assert node["keys"] == before + 1
        assert sum(node["slots"] for node in report["nodes"]) == SLOT_COUNT
    finally:
        with cluster.client(owner) as c:
            c.delete(key)


# ---------------------------------------------------------------------------------------------
# ring


def test_ring_matches_cluster_slots(cluster):
    """ring lists CLUSTER SLOTS's ranges in slot order, each with its owner first, in text and
    JSON, covering every slot."""
    ids = cluster.node_ids()
    with cluster.client(cluster.ports[0]) as c:
        expected = sorted((start, end, master[1], master[2])
                          for start, end, master, *_ in c.execute_command("CLUSTER", "SLOTS"))
    report = run_json("--port", cluster.ports[2], "ring")
    assert report["asked"] == "127.0.0.1:%d" % cluster.ports[2]
    assert report["unassigned"] == []
    got = [(r["start"], r["end"], int(r["replicas"][0]["address"].rsplit(":", 1)[1]),
            r["replicas"][0]["id"]) for r in report["ranges"]]
    assert got == expected
    assert all(ids[port] == node_id for _, _, port, node_id in got)

    code, out, err = run_cairnctl("--port", cluster.ports[2], "ring")
    assert code == 0, (out, err)
    lines = out.strip().splitlines()
    assert lines[0] == "3 ranges, 16384 of 16384 slots assigned; asked 127.0.0.1:%d" \
        % cluster.ports[2]
    assert lines[1].split() == ["SLOTS", "COUNT", "REPLICAS"]
    for line, (start, end, port, node_id) in zip(lines[2:], expected):
        assert line.split() == ["%d-%d" % (start, end), str(end - start + 1),
                                "127.0.0.1:%d" % port, node_id[:8]], out


# ---------------------------------------------------------------------------------------------
# slot


def test_slot_of_known_keys(cluster):
    """foo is slot 12182 (as Redis computes it) and its preference list starts at its owner."""
    report = run_json("--port", cluster.ports[0], "slot", "foo")
    assert report["key"] == "foo"
    assert report["slot"] == 12182
    with cluster.client(cluster.ports[0]) as c:
        assert c.execute_command("CLUSTER", "KEYSLOT", "foo") == 12182
    owner = cluster.slot_owner_port(12182)
    assert report["replicas"][0]["address"] == "127.0.0.1:%d" % owner
    assert report["replicas"][0]["id"] == cluster.node_ids()[owner]
    # The owner takes the key without redirecting (no MOVED).
    with cluster.client(owner) as c:
        assert c.set("foo", "bar")
        c.delete("foo")

    code, out, err = run_cairnctl("--port", cluster.ports[0], "slot", "foo")
    assert code == 0, (out, err)
    assert out.splitlines()[:3] == [
        "key       foo", "slot      12182",
        "replicas  127.0.0.1:%d %s" % (owner, cluster.node_ids()[owner])], out


def test_hash_tags_share_a_slot(cluster):
    """Keys with the same {hash tag} have one slot, the one Redis gives them."""
    following = run_json("--port", cluster.ports[0], "slot", "{user1000}.following")
    followers = run_json("--port", cluster.ports[0], "slot", "{user1000}.followers")
    assert following["slot"] == followers["slot"]
    assert following["replicas"] == followers["replicas"]
    with cluster.client(cluster.ports[0]) as c:
        assert c.execute_command("CLUSTER", "KEYSLOT", "{user1000}.following") == following["slot"]
        assert c.execute_command("CLUSTER", "KEYSLOT", "user1000") == following["slot"]


# ---------------------------------------------------------------------------------------------
# which node is asked, and errors


def test_nodes_are_tried_in_order(cluster):
    """A dead --host/--port is skipped for the first of --nodes that answers."""
    report = run_json("--port", dead_port(), "--nodes",
                      "127.0.0.1:%d,127.0.0.1:%d" % (cluster.ports[1], cluster.ports[2]), "ring")
    assert report["asked"] == "127.0.0.1:%d" % cluster.ports[1]
    # Global flags may follow the command, and --nodes alone does not try 127.0.0.1:7379.
    code, out, err = run_cairnctl("status", "--nodes", "localhost:%d" % cluster.ports[2])
    assert code == 0, (out, err)
    assert "asked localhost:%d" % cluster.ports[2] in out.splitlines()[0]


@pytest.mark.parametrize("command", [["status"], ["ring"], ["slot", "foo"]])
def test_dead_address_is_one_clear_error(command):
    port = dead_port()
    code, out, err = run_cairnctl("--port", port, *command)
    assert out == ""
    assert_one_line_error(code, err, "cairnctl: no node answered (tried 127.0.0.1:%d: "
                          "connection refused)" % port)
    other = dead_port()
    code, _, err = run_cairnctl("--port", port, "--nodes", "127.0.0.1:%d" % other, *command)
    assert_one_line_error(code, err, "127.0.0.1:%d: connection refused, 127.0.0.1:%d: "
                          "connection refused" % (port, other))


def test_non_cluster_node_is_reported(tmp_path):
    """A redis-server without cluster support: the error says so, with the server's words."""
    plain = start_redis(str(tmp_path / "plain"))
    try:
        for command in (["status"], ["ring"], ["slot", "foo"]):
            code, out, err = run_cairnctl("--port", plain.port, *command)
            assert out == ""
            assert_one_line_error(code, err, "127.0.0.1:%d: not a cluster node" % plain.port,
                                  "ERR This instance has cluster support disabled")
    finally:
        stop_server(plain)


def test_bad_flags_are_one_clear_error():
    code, _, err = run_cairnctl("--nodes", "nonsense", "ring")
    assert_one_line_error(code, err, "bad address 'nonsense'")
    code, _, err = run_cairnctl("slot")
    assert_one_line_error(code, err, "KEY")
    code, _, err = run_cairnctl("--timeout-ms", "0", "ring")
    assert code == 1, err


def test_dead_node_is_a_row_not_a_failure():
    """A killed node stays in the table, marked unreachable, and turns dead once the cluster
    agrees it failed; the command still succeeds."""
    cluster = Cluster()
    try:
        victim = cluster.nodes[2]
        stop_server(victim, kill=True)
        address = "127.0.0.1:%d" % victim.port
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        while True:
            report = run_json("--timeout-ms", 500, "--port", cluster.ports[0], "status")
            node = next(n for n in report["nodes"] if n["address"] == address)
            assert node["reachable"] is False
            assert "connection refused" in node["error"]
            assert node["keys"] is None
            if node["state"] == "dead":
                break
            assert node["state"] in ("alive", "suspect")
            assert time.monotonic() < deadline, "the killed node never turned dead: %s" % node
            time.sleep(0.2)
        code, out, err = run_cairnctl("--port", cluster.ports[0], "status")
        assert code == 0, (out, err)
        assert out.startswith("3 nodes (2 alive)"), out
        row = status_rows(out)[address]
        assert " dead " in row and row.endswith("unreachable (connection refused)"), out
    finally:
        cluster.stop()
