"""Durability of a real cairnd: acknowledged writes survive SIGKILL (fsync always and everysec),
the WAL reaches the disk about every second under everysec, and a clean stop (SIGTERM,
SHUTDOWN) keeps everything. Randomized tests print their seed (CAIRN_TEST_SEED replays it)."""

import os
import random
import shutil
import signal
import tempfile
import threading
import time

import pytest

from conftest import RespConnection, start_cairnd, stop_server, target_name
from node_support import HOST, filesystem_type, make_seed, proc_io

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="cairnd process tests")

WRITERS = 4
KEYS_PER_WRITER = 300


class Writer(threading.Thread):
    """SETs keys from its own pool over one connection until stopped or the server dies,
    remembering for each key the last acknowledged value and the one in flight (sent, no reply
    yet): after a crash a key must hold one of the two."""

    def __init__(self, port, index, seed):
        super().__init__(daemon=True)
        self.port = port
        self.index = index
        self.rng = random.Random(seed * 1000 + index)
        self.acked = {}
        self.in_flight = None  # (key, value)
        self.ack_count = 0

    def run(self):
        try:
            conn = RespConnection(HOST, self.port, timeout=10)
        except OSError:
            return
        sequence = 0
        try:
            while True:
                key = b"w%d:k%d" % (self.index, self.rng.randrange(KEYS_PER_WRITER))
                value = b"w%d-s%d-" % (self.index, sequence) + b"x" * self.rng.randrange(0, 200)
                sequence += 1
                self.in_flight = (key, value)
                reply = conn.call("SET", key, value)
                if reply != "OK":
                    raise AssertionError("SET replied %r" % (reply,))
                self.acked[key] = value
                self.in_flight = None
                self.ack_count += 1
        except (ConnectionError, OSError):
            pass  # the server was killed
        finally:
            conn.close()


def crash_while_writing(fsync, seed, tmp_path):
    """Starts cairnd, runs the writers, SIGKILLs it at a seeded moment, restarts on the same
    directory and returns (restarted server, writers)."""
    rng = random.Random(seed)
    data_dir = str(tmp_path / "data")
    proc = start_cairnd(dir=data_dir, fsync=fsync)
    writers = [Writer(proc.port, i, seed) for i in range(WRITERS)]
    for w in writers:
        w.start()
    time.sleep(rng.uniform(0.3, 1.5))
    assert stop_server(proc, kill=True) == -signal.SIGKILL
    for w in writers:
        w.join(timeout=15)
        assert not w.is_alive()
    acked = sum(w.ack_count for w in writers)
    print("fsync %s: %d acknowledged SETs before SIGKILL" % (fsync, acked))
    assert acked > 0, "no write was acknowledged before the kill"
    return start_cairnd(dir=data_dir, fsync=fsync), writers


def check_acknowledged(proc, writers):
    client = proc.client()
    try:
        for w in writers:
            keys = list(w.acked)
            values = client.mget(keys) if keys else []
            for key, found in zip(keys, values):
                allowed = {w.acked[key]}
                if w.in_flight is not None and w.in_flight[0] == key:
                    allowed.add(w.in_flight[1])
                assert found in allowed, "key %r: acknowledged %r, found %r" % (
                    key, w.acked[key], found)
    finally:
        client.close()


# With fsync always, every SET acknowledged before a SIGKILL is there after the restart.
@pytest.mark.parametrize("round_index", range(2))
def test_always_acknowledged_writes_survive_sigkill(tmp_path, round_index):
    seed = make_seed("always-sigkill-%d" % round_index)
    proc, writers = crash_while_writing("always", seed, tmp_path)
    try:
        check_acknowledged(proc, writers)
    finally:
        stop_server(proc)


# With everysec a process crash loses nothing either (the page cache keeps the WAL's writes).
def test_everysec_acknowledged_writes_survive_sigkill(tmp_path):
    seed = make_seed("everysec-sigkill")
    proc, writers = crash_while_writing("everysec", seed, tmp_path)
    try:
        check_acknowledged(proc, writers)
    finally:
        stop_server(proc)


def _repo_scratch_dir():
    """A directory on a real disk (not tmpfs): write_bytes stays 0 on tmpfs."""
    base = os.environ.get("CAIRN_DISK_TMP") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix="cairn-durability-", dir=base)


# everysec: the WAL is fdatasync'ed about every second with nothing asking for it. Seen through
# /proc/PID/io write_bytes, which Linux counts when a clean page is dirtied: one small SET per
# round, 1.3 s apart, re-dirties the WAL's last page, and that counts only if a sync cleaned the
# page in between (the kernel's own writeback waits ~30 s, dirty_expire_centisecs). A server
# that never syncs leaves the page dirty and most rounds count nothing.
def test_everysec_syncs_the_wal_about_every_second():
    data_dir = _repo_scratch_dir()
    if filesystem_type(data_dir) in ("tmpfs", "ramfs"):
        pytest.skip("write_bytes is not counted on %s" % filesystem_type(data_dir))
    proc = start_cairnd(dir=os.path.join(data_dir, "data"), fsync="everysec")
    try:
        client = proc.client()
        client.set("sync:first", "v")
        counted = []
        for round_index in range(4):
            time.sleep(1.3)
            before = proc_io(proc.pid)["write_bytes"]
            client.set("sync:%d" % round_index, "v")
            time.sleep(0.05)
            counted.append(proc_io(proc.pid)["write_bytes"] > before)
        client.close()
        print("rounds whose write found the WAL page clean (synced): %s" % counted)
        assert all(counted), "the WAL was not synced between writes 1.3 s apart: %s" % counted
    finally:
        stop_server(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


# SIGTERM: cairnd exits 0 after closing cleanly and the data is there after a restart.
def test_sigterm_is_a_clean_stop(tmp_path):
    data_dir = str(tmp_path / "data")
    proc = start_cairnd(dir=data_dir, fsync="no")
    client = proc.client()
    for i in range(1000):
        client.set("term:%d" % i, "value-%d" % i)
    client.close()
    assert stop_server(proc) == 0, proc.log()[-2000:]
    proc = start_cairnd(dir=data_dir, fsync="no")
    try:
        client = proc.client()
        assert client.dbsize() == 1000
        assert client.get("term:999") == b"value-999"
        client.close()
    finally:
        stop_server(proc)


# SHUTDOWN stops the server: no reply (the connection closes), exit 0, data kept.
def test_shutdown_command_stops_cleanly(tmp_path):
    data_dir = str(tmp_path / "data")
    proc = start_cairnd(dir=data_dir, fsync="no")
    client = proc.client()
    client.mset({"shut:%d" % i: str(i) for i in range(500)})
    client.close()
    conn = RespConnection(HOST, proc.port)
    conn.send("SHUTDOWN")
    assert conn.is_closed(timeout=10)
    conn.close()
    assert proc.popen.wait(timeout=10) == 0, proc.log()[-2000:]
    proc = start_cairnd(dir=data_dir, fsync="no")
    try:
        client = proc.client()
        assert client.dbsize() == 500
        assert client.get("shut:499") == b"499"
        client.close()
    finally:
        stop_server(proc)


# A SIGTERM while clients write: the writes already acknowledged are kept, cairnd exits 0.
def test_sigterm_under_load_keeps_acknowledged_writes(tmp_path):
    seed = make_seed("sigterm-under-load")
    data_dir = str(tmp_path / "data")
    proc = start_cairnd(dir=data_dir, fsync="everysec")
    writers = [Writer(proc.port, i, seed) for i in range(WRITERS)]
    for w in writers:
        w.start()
    time.sleep(random.Random(seed).uniform(0.3, 1.0))
    assert stop_server(proc) == 0, proc.log()[-2000:]
    for w in writers:
        w.join(timeout=15)
    proc = start_cairnd(dir=data_dir, fsync="everysec")
    try:
        check_acknowledged(proc, writers)
    finally:
        stop_server(proc)
