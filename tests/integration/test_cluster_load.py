"""Five real nodes under concurrent writers: a node SIGKILLed and restarted mid-load loses no
acknowledged write, QUORUM keeps working through the survivors, hints drain and every replica
converges."""

import random
import threading
import time
from collections import Counter

import pytest

from cluster_load_support import (LoadWriter, check_counters, load_acked, read_keys,
                                  replica_ports)
from cluster_support import Cluster, wait_formed, wait_until
from conftest import target_name
from node_support import make_seed

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="Cairn's own cluster")


LOAD_WRITERS = 4  # SET threads; one more runs the INCRs
LOAD_BEFORE_KILL_WRITES = 500  # acknowledged SETs before the SIGKILL
LOAD_DOWN_S = 2.5  # load with the victim down
LOAD_AFTER_RESTART_WRITES = 300  # acknowledged SETs once the restarted victim is back
# The coordinator stores a write's hints when its request ends, at the latest after its
# request_timeout_ms (1 s, src/cluster/coordinator.h): past this, no new hint can appear.
REQUEST_END_S = 1.5


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

    check_counters(cluster, writers, range(5))
