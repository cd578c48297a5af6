"""Adding nodes to and taking nodes out of a real Cairn cluster (docs/cairnctl.md,
docs/cluster-ring.md): a node started with --seeds, or added alone with `cairnctl add`, joins and
streams its share; `plan leave` says
what would move before anything moves; `leave` streams a live node's share to the members that
gain it, settles the ring without it and shuts it down; `remove` rebuilds a dead node's replicas
from the survivors. Nothing acknowledged is lost, and clients see no error while data moves.
Servers listen on 127.0.0.1 on ports the test picked, each on its own directory, and are stopped
by PID."""

import json
import os
import subprocess
import threading
import time
from collections import Counter

import pytest
import redis

from cluster_load_support import (LoadReader, LoadWriter, check_counters, load_acked, read_keys,
                                  replica_ports)
from cluster_support import (Cluster, cluster_info, member_flags, node_ids, read_at_one,
                             wait_formed, wait_until)
from conftest import HOST, REPO_ROOT, target_name
from node_support import make_seed

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="Cairn's own cluster")

KEY_COUNT = 200
MOVE_WRITERS = 3  # SET threads; one more runs the INCRs
MOVE_WRITES_BETWEEN_STEPS = 100  # acknowledged SETs before each join or leave begins
MOVE_TIMEOUT_S = 120  # for one join or leave to settle


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


def cleanup_dropped(cluster, i):
    return cluster.client(i).info("cluster")["cairn_cleanup_states_dropped"]


def slot_ports(cluster, i):
    """The client ports CLUSTER SLOTS of node i names."""
    return {replica[1] for entry in cluster.client(i).execute_command("CLUSTER", "SLOTS")
            for replica in entry[2:]}


def test_growing_to_five_and_shrinking_to_three_under_load_loses_nothing(tmp_path):
    """Proves nodes join and leave under a constant QUORUM load with no client error and no lost
    write: three nodes grow to four (started with --seeds) and five (started alone, then
    `cairnctl add`, which first refuses it while it holds a key), then shrink back to three (cairnctl leave, one node after the other) while writers SET and INCR
    and a reader reads back acknowledged writes, all through the three nodes that stay. Every read
    of an acknowledged write returns it; CLUSTER SLOTS names the new nodes once they are in and
    none once they are out; at the end every acknowledged write reads back at QUORUM through each
    node left, and each counter holds every acknowledged increment."""
    cluster = Cluster(tmp_path, size=5, running=3)
    seed = make_seed("test_growing_to_five_and_shrinking_to_three")
    print("node logs and data in %s" % tmp_path)
    stop = threading.Event()
    stable = [0, 1, 2]
    ports = [cluster.ports[i] for i in stable]
    writers = [LoadWriter(w, ports, seed, stop, counting=(w == 0), ops_max=100000)
               for w in range(MOVE_WRITERS + 1)]
    reader = LoadReader(ports, writers, seed, stop, ops_max=100000)
    steps = []  # (what, seconds, acknowledged SETs during it)
    try:
        wait_formed(cluster, members=3)
        for thread in writers + [reader]:
            thread.start()

        def step(what, run):
            acked = len(load_acked(writers))
            wait_until(lambda: len(load_acked(writers)) >= acked + MOVE_WRITES_BETWEEN_STEPS, 30,
                       "writes before " + what)
            acked = len(load_acked(writers))
            began = time.monotonic()
            run()
            steps.append((what, time.monotonic() - began, len(load_acked(writers)) - acked))

        def join_with_seeds():
            cluster.start(3)
            wait_formed(cluster, members=4, timeout_s=MOVE_TIMEOUT_S)
        step("node 3 joins", join_with_seeds)
        # The members it took partitions from drop what they held of them (partition_cleanup.h).
        wait_until(lambda: sum(cleanup_dropped(cluster, i) for i in stable) > 0, 30,
                   "the cleanup of the partitions node 3 took")

        cluster.start(4, alone=True)
        wait_until(lambda: cluster_info(cluster.client(4))["cluster_state"] == "ok", 30,
                   "node 4 to found a cluster of its own")
        assert cluster.client(4).set("on-node-4-alone", "x")
        new_node = "%s:%d" % (HOST, cluster.ports[4])
        code, out, err = cairnctl(cluster, 0, "add", new_node)
        assert code == 1 and "holds keys" in err, (out, err)
        assert cluster.client(4).delete("on-node-4-alone") == 1  # a tombstone is no key
        with pytest.raises(redis.ResponseError, match="not alone in its cluster"):
            cluster.client(0).execute_command("CLUSTER", "MEET", HOST, cluster.ports[4])
        with pytest.raises(redis.ResponseError, match="Invalid node address"):
            cluster.client(4).execute_command("CLUSTER", "MEET", HOST, 0)
        code, out, err = cairnctl(cluster, 0, "add", "%s:%d" % (HOST, cluster.ports[3]))
        assert code == 1 and "is already a member" in err, (out, err)

        def add():
            code, out, err = cairnctl(cluster, 0, "--json", "add", new_node,
                                      timeout=MOVE_TIMEOUT_S)
            assert code == 0, (out, err)
            added = json.loads(out)
            assert added["members"] == 5 and added["address"] == new_node, added
            assert "moving" in err and "flipped" in err, err  # the steps it went through
            wait_formed(cluster, members=5, timeout_s=MOVE_TIMEOUT_S)
        step("node 4 is added", add)
        assert slot_ports(cluster, 0) == set(cluster.ports)
        ids = node_ids(cluster)
        for leaver in (4, 3):
            def leave(leaver=leaver):
                code, out, err = cairnctl(cluster, 0, "leave", ids[leaver],
                                          timeout=MOVE_TIMEOUT_S)
                assert code == 0, (out, err)
                cluster.procs[leaver].popen.wait(timeout=30)
                cluster.procs[leaver] = None
                wait_formed(cluster, members=leaver, timeout_s=MOVE_TIMEOUT_S)
            step("node %d leaves" % leaver, leave)
        assert slot_ports(cluster, 0) == set(ports)
        acked = len(load_acked(writers))
        wait_until(lambda: len(load_acked(writers)) >= acked + MOVE_WRITES_BETWEEN_STEPS, 30,
                   "writes on the three nodes left")
    finally:
        stop.set()
        for thread in writers + [reader]:
            if thread.ident is not None:  # started
                thread.join(timeout=30)
    try:
        assert not any(thread.is_alive() for thread in writers + [reader]), "a client hung"
        for thread in writers + [reader]:
            if thread.failure is not None:
                raise thread.failure
        for what, seconds, acked in steps:
            print("%-18s %5.1f s, %5d writes acknowledged meanwhile" % (what, seconds, acked))
        errors = sum((writer.errors for writer in writers), Counter()) + reader.errors
        acked = load_acked(writers)
        print("%d writes and %d reads of acknowledged writes; client errors %s"
              % (len(acked), reader.reads, dict(errors)))
        assert all(acked_meanwhile > 0 for _, _, acked_meanwhile in steps), steps
        assert not reader.stale, "reads missed acknowledged writes: %r" % reader.stale[:10]
        assert not errors, "clients saw errors while nodes joined and left: %r" % dict(errors)

        keys = sorted(acked)
        for i in stable:
            values = read_keys(cluster, i, keys, "QUORUM")
            lost = [(k, v) for k, v in zip(keys, values) if v != acked[k]]
            assert not lost, "acknowledged writes read back wrong through node %d: %r" \
                % (i, lost[:10])
        check_counters(cluster, writers, stable)
    finally:
        cluster.close()


def test_a_node_joins_after_the_whole_cluster_restarted(tmp_path):
    """Proves a node joins a cluster whose members all restarted from their saved rings: it
    learns every member's address, streams its share from them and the ring settles with it. Found
    by bench-stream: members resumed from a saved ring kept no address for each other in their
    member tables, so a joiner reached only its seed and never finished streaming."""
    cluster = Cluster(tmp_path, size=4, running=3, extra_args=["--repair-interval-ms", "0"])
    try:
        wait_formed(cluster, members=3)
        keys = ["restarted:%d" % n for n in range(KEY_COUNT)]
        for n, key in enumerate(keys):
            assert cluster.client(n % 3).set(key, n)
        for i in range(3):
            cluster.stop(i)
        for i in range(3):
            cluster.start(i)
        wait_formed(cluster, members=3)
        cluster.start(3)
        wait_formed(cluster, members=4, timeout_s=MOVE_TIMEOUT_S)
        replicas = replica_ports(cluster.client(0), keys)
        held = [key for key in keys if cluster.ports[3] in replicas[key]]
        assert len(held) > KEY_COUNT // 2, "the joiner is a replica of too few keys"
        values = read_keys(cluster, 3, held, "ONE")
        assert values == [key.split(":")[1].encode() for key in held]
    finally:
        cluster.close()
