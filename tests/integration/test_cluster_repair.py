"""On-demand anti-entropy between real cairnd processes (docs/cluster-repair.md): with the
background cycle off and hints dropped, the writes a partitioned node missed stay missing until
`cairnctl repair` runs; the repair reports what it exchanged and brings the node in line, and a
second repair finds nothing left to exchange. The servers listen on 127.0.0.1 on ports the test
picked, each on its own directory, and are stopped by PID."""

import json
import os
import subprocess

import pytest

from cluster_support import (Cluster, member_flags, node_ids, read_at_one, wait_formed,
                             wait_until)
from conftest import REPO_ROOT, target_name

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="Cairn's own cluster")

KEY_COUNT = 60


def cairnctl(cluster, *args):
    """Runs cairnctl against the cluster's node 1; returns (exit code, stdout, stderr)."""
    binary = os.environ.get("CAIRNCTL") or os.path.join(REPO_ROOT, "build", "cairnctl")
    result = subprocess.run([binary, "--port", str(cluster.ports[1])] + list(args),
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


def hints(cluster, field):
    return sum(cluster.client(i).info("cluster")[field] for i in (0, 1))


@pytest.fixture
def quiet_cluster(tmp_path):
    """Three nodes that repair only on demand and deliver no hint (1 ms window)."""
    made = Cluster(tmp_path, extra_args=["--repair-interval-ms", "0", "--hint-window-ms", "1"])
    try:
        wait_formed(made)
        yield made
    finally:
        made.close()


def test_cairnctl_repair_brings_a_partitioned_node_in_line(quiet_cluster):
    """Proves `cairnctl repair` compares every pair of replicas on demand: the keys node 2 missed
    while partitioned are exchanged (and counted in the summary), node 2 then holds them, and a
    second repair finds every replica equal. A repair over a run of slots covers those alone."""
    cluster = quiet_cluster
    ids = node_ids(cluster)
    cluster.client(2).execute_command("CAIRN", "FAULT", "PARTITION", ids[0], ids[1])
    cluster.client(0).execute_command("CAIRN", "FAULT", "PARTITION", ids[2])
    cluster.client(1).execute_command("CAIRN", "FAULT", "PARTITION", ids[2])
    try:
        for n in range(KEY_COUNT):
            assert cluster.client(n % 2).set("missed:%d" % n, n)
        # Every write left node 2 a hint; with the 1 ms window each is dropped, not delivered,
        # once it is older (a hint made and sent in one tick would still be delivered).
        wait_until(lambda: hints(cluster, "cairn_hints_stored") == KEY_COUNT and
                   hints(cluster, "cairn_hints_pending") == 0, 30, "the hints to expire")
    finally:
        for i in range(3):
            cluster.client(i).execute_command("CAIRN", "FAULT", "HEAL")
    for i in (0, 1):
        wait_until(lambda: "fail" not in member_flags(cluster.client(i), ids[2]), 30,
                   "node 2 to be seen alive again")
    wait_until(lambda: all("fail" not in member_flags(cluster.client(2), ids[i]) for i in (0, 1)),
               30, "node 2 to see the others alive again")

    # A run of slots first: the pass covers the partitions holding them, and only those.
    code, out, err = cairnctl(cluster, "--json", "repair", "--slot", "0-63")
    assert code == 0, (out, err)
    partial = json.loads(out)
    assert partial["complete"] and partial["first_slot"] == 0 and partial["last_slot"] == 63
    assert all(node["partitions_total"] == 8 for node in partial["nodes"])

    code, out, err = cairnctl(cluster, "--json", "repair")
    assert code == 0, (out, err)
    report = json.loads(out)
    assert report["complete"], report
    assert len(report["nodes"]) == 3
    assert all(node["state"] == "done" and node["error"] is None for node in report["nodes"])
    assert all(node["partitions_done"] == 2048 for node in report["nodes"])
    # Each pair of replicas compares each of the 2048 partitions once.
    assert report["exchanges_completed"] == 3 * 2048
    assert report["exchanges_failed"] == 0 and report["peers_skipped"] == 0
    exchanged = report["keys_fetched"] + report["keys_pushed"] + \
        partial["keys_fetched"] + partial["keys_pushed"]
    assert exchanged >= KEY_COUNT, (partial, report)
    assert report["bytes"] > 0

    keys = ["missed:%d" % n for n in range(KEY_COUNT)]
    assert read_at_one(cluster, 2, keys) == [str(n).encode() for n in range(KEY_COUNT)]

    code, out, err = cairnctl(cluster, "repair")
    assert code == 0, (out, err)
    assert "complete in" in out and "INCOMPLETE" not in out, out
    assert "keys exchanged   0 (0 fetched, 0 pushed)" in out, out
    assert "ranges compared  6144 (0 failed, 0 replicas down)" in out, out


def test_cairnctl_repair_with_a_node_down_is_incomplete(quiet_cluster):
    """Proves a repair that cannot reach a node says so: the node's row is a failure, the
    summary says INCOMPLETE, the replicas it could not compare are counted, and cairnctl exits 1
    with one line on stderr."""
    cluster = quiet_cluster
    ids = node_ids(cluster)
    cluster.stop(2)
    wait_until(lambda: member_flags(cluster.client(0), ids[2]).split(",")[-1] == "fail", 30,
               "node 2 to be declared dead")
    wait_until(lambda: member_flags(cluster.client(1), ids[2]).split(",")[-1] == "fail", 30,
               "node 2 to be declared dead by node 1")
    code, out, err = cairnctl(cluster, "repair", "--slot", "100")
    assert code == 1, (out, err)
    assert "INCOMPLETE" in out and "failed (" in out, out
    lines = err.strip().splitlines()
    assert lines[-1].startswith("cairnctl: repair incomplete (nodes failed: 1, "), err


def test_cairnctl_repair_refuses_a_bad_slot_range(quiet_cluster):
    """Proves a malformed --slot is one clear line on stderr and exit code 1, and nothing
    starts."""
    for bad in ("16384", "5-4", "a-b", "3-", "1-2-3"):
        code, out, err = cairnctl(quiet_cluster, "repair", "--slot", bad)
        assert code == 1 and out == "", (bad, out, err)
        assert err.startswith("cairnctl: --slot must be N or FIRST-LAST"), (bad, err)
    assert quiet_cluster.client(0).execute_command("CAIRN", "REPAIR", "STATUS")[3] == b"idle"
