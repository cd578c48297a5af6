"""Client load for the cluster integration tests: writer threads whose acknowledged writes the
test checks at the end, a reader thread that checks reads of acknowledged writes while the load
runs, and the helpers that read keys back and find their replicas."""

import random
import threading
from collections import Counter

import redis

from conftest import HOST

LOAD_COUNTERS = ["ctr:%d" % n for n in range(3)]
LOAD_PAUSE_S = 0.004  # between one load thread's requests, so a few thousand in all
VERIFY_BATCH = 500


class LoadThread(threading.Thread):
    """A client thread that makes one request per step (step(), in a subclass) through a random
    one of `ports`, pausing LOAD_PAUSE_S between steps, until `stop` is set or it made `ops_max`
    (a bound: the tests end the load long before it). Errors are counted by kind in `errors`; an
    exception that ends the thread is kept in `failure` for the test's thread to raise."""

    def __init__(self, name, ports, rng, stop, ops_max):
        threading.Thread.__init__(self, name=name, daemon=True)
        self.ports = ports
        self.rng = rng
        self.stop = stop
        self.ops_max = ops_max
        self.errors = Counter()  # "NOQUORUM", "ConnectionError", ...
        self.failure = None

    def run(self):
        # No retry: redis-py's default (retry_on_timeout False, no retry_on_error) sends each
        # command once, so an INCR is attempted exactly as often as counted.
        clients = {port: redis.Redis(host=HOST, port=port, socket_timeout=5,
                                     socket_connect_timeout=2) for port in self.ports}
        try:
            for n in range(self.ops_max):
                if self.stop.is_set():
                    break
                self.step(clients[self.rng.choice(self.ports)], n)
                self.stop.wait(LOAD_PAUSE_S)
        except BaseException as error:  # reported by the test's thread
            self.failure = error
        finally:
            for client in clients.values():
                client.close()

    def note(self, error):
        if isinstance(error, redis.exceptions.ResponseError):
            self.errors[str(error).split(" ")[0]] += 1
        else:
            self.errors[type(error).__name__] += 1


class LoadWriter(LoadThread):
    """One client thread: SETs of its own keys w<writer>:<n>, or (counting) INCRs of the shared
    counters, each through a random node at the connection's default level (QUORUM). Only an OK
    (for INCR, an integer) counts as acknowledged; an error or a dropped connection leaves the
    write unknown, and the next request goes to another random node. The INCRs have a thread of
    their own: until the failure detector declares the killed node dead, an INCR whose counter
    leader it is waits out the request timeout, and that must not stall the SETs."""

    def __init__(self, number, ports, seed, stop, counting=False, ops_max=4000):
        LoadThread.__init__(self, "load-writer-%d" % number, ports,
                            random.Random(seed * 1009 + number), stop, ops_max)
        self.number = number
        self.counting = counting
        self.lock = threading.Lock()
        self.acked = []  # (key, value), appended under lock
        self.incr_attempted = Counter()
        self.incr_acked = Counter()

    def acked_snapshot(self):
        with self.lock:
            return list(self.acked)

    def step(self, client, n):
        if self.counting:
            self.incr(client, self.rng.choice(LOAD_COUNTERS))
        else:
            self.set(client, "w%d:%d" % (self.number, n))

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


class LoadReader(LoadThread):
    """One client thread that reads back writes the writers had acknowledged before the read
    began, through a random node at the connection's default level (QUORUM): with R + W > N each
    must read back as written (every key is written once). A wrong value is recorded in `stale`;
    an error is counted, as the writers count theirs."""

    def __init__(self, ports, writers, seed, stop, ops_max=20000):
        LoadThread.__init__(self, "load-reader", ports, random.Random(seed), stop, ops_max)
        self.writers = [w for w in writers if not w.counting]
        self.reads = 0
        self.stale = []  # (key, expected, read)

    def step(self, client, _):
        acked = self.rng.choice(self.writers).acked_snapshot()
        if not acked:
            return
        key, value = self.rng.choice(acked)
        try:
            reply = client.get(key)
        except redis.exceptions.RedisError as error:
            self.note(error)
            return
        self.reads += 1
        if reply != value:
            self.stale.append((key, value, reply))


def check_counters(cluster, writers, nodes):
    """Each counter, read through each of `nodes`, holds every acknowledged increment and no
    more than were attempted."""
    for counter in LOAD_COUNTERS:
        attempted = sum(writer.incr_attempted[counter] for writer in writers)
        succeeded = sum(writer.incr_acked[counter] for writer in writers)
        for i in nodes:
            value = int(cluster.client(i).get(counter) or 0)
            assert succeeded <= value <= attempted, \
                "%s through node %d is %d, acked %d, attempted %d" % (counter, i, value,
                                                                      succeeded, attempted)
        print("%s: %d increments acked, %d attempted, value %d" % (counter, succeeded, attempted,
                                                                   value))
