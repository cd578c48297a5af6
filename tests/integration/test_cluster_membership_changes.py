"""Taking nodes out of a real Cairn cluster with cairnctl (docs/cairnctl.md, docs/cluster-ring.md):
`plan leave` says what would move before anything moves; `leave` streams a live node's share to
the members that gain it, settles the ring without it and shuts it down; `remove` rebuilds a
dead node's replicas from the survivors. With background repair off, every key is then held by
every remaining replica, and reads at QUORUM keep answering. Servers listen on 127.0.0.1 on
ports the test picked, each on its own directory, and are stopped by PID."""

import json
import os
import subprocess

import pytest

from cluster_support import (Cluster, member_flags, node_ids, read_at_one, wait_formed,
                             wait_until)
from conftest import REPO_ROOT, target_name

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="Cairn's own cluster")

KEY_COUNT = 200


def cairnctl(cluster, port_index, *args, timeout=300):
    binary = os.environ.get("CAIRNCTL") or os.path.join(REPO_ROOT, "build", "cairnctl")
    result = subprocess.run([binary, "--port", str(cluster.ports[port_index])] + list(args),
                            capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def test_leave_then_remove_keep_every_key(tmp_path):
    """Proves a leave and a removal move what they must and lose nothing: four nodes hold the
    keys; the claimant leaves (its share streams out, another node finishes the transition, it
    shuts down and is not added back); another node is killed and removed (its replicas rebuilt
    from the survivors); after each, every remaining node holds every key (N = 3 with three or
    two members: each is a replica of every key)."""
    cluster = Cluster(tmp_path, size=4, extra_args=["--repair-interval-ms", "0"])
    try:
        wait_formed(cluster, members=4, timeout_s=120)
        for n in range(KEY_COUNT):
            assert cluster.client(n % 4).set("kept:%d" % n, n)
        keys = ["kept:%d" % n for n in range(KEY_COUNT)]
        values = [str(n).encode() for n in range(KEY_COUNT)]
        ids = node_ids(cluster)
        # The claimant leaves: the hardest case, as another node must finish its transition.
        status = cluster.client(0).execute_command("CAIRN", "RING", "STATUS")
        leaver = ids.index(dict(zip(status[::2], status[1::2]))[b"claimant"].decode())
        dead = (leaver + 1) % 4
        rest = [i for i in range(4) if i not in (leaver, dead)]
        asked = rest[0]

        code, out, err = cairnctl(cluster, asked, "--json", "plan", "leave", ids[leaver])
        assert code == 0, (out, err)
        plan = json.loads(out)
        assert plan["change"] == "leave " + ids[leaver]
        assert 0 < plan["replicas_moved"] <= plan["replicas_ideal"] * 1.1, plan
        gone = [m for m in plan["members"] if m["id"] == ids[leaver]][0]
        assert gone["replicas_after"] == 0 and gone["loses"] == gone["replicas_before"]
        code, out, err = cairnctl(cluster, asked, "plan", "add")
        assert code == 0 and "(new node)" in out and "the ideal" in out, (out, err)

        code, out, err = cairnctl(cluster, asked, "leave", "127.0.0.1:%d" % cluster.ports[leaver])
        assert code == 0, (out, err)
        assert out.startswith("left: " + ids[leaver]) and "with 3 members" in out, out
        assert "flipped" in err, err  # the steps it went through
        cluster.procs[leaver].popen.wait(timeout=30)  # it shut down
        cluster.procs[leaver] = None
        for i in rest + [dead]:
            assert read_at_one(cluster, i, keys) == values, "node %d after the leave" % i

        cluster.stop(dead, kill=True)
        for i in rest:
            wait_until(lambda: member_flags(cluster.client(i), ids[dead]).split(",")[-1] == "fail",
                       30, "the killed node to be declared dead")
        code, out, err = cairnctl(cluster, asked, "leave", ids[dead])
        assert code == 1 and "is not alive: use remove" in err, (out, err)
        code, out, err = cairnctl(cluster, asked, "--json", "remove", ids[dead], "--wait-s", "120")
        assert code == 0, (out, err)
        removed = json.loads(out)
        assert removed["members"] == 2 and removed["was_alive"] is False, removed
        for i in rest:
            assert read_at_one(cluster, i, keys) == values, "node %d after the removal" % i
        client = cluster.client(asked)
        client.execute_command("CAIRN", "CONSISTENCY", "QUORUM")
        assert [client.get(k) for k in keys] == values
    finally:
        cluster.close()
