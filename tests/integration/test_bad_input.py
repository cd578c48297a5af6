"""Hostile input against one cairnd: random bytes, truncated frames, huge declared lengths, a
million-argument command and a client that never reads. The server answers Redis's protocol
errors or drops that client, keeps serving the others, keeps its memory bounded, and is alive
and answering PING at the end. Randomized parts print their seed."""

import os
import random
import socket
import threading
import time

import pytest

from conftest import RespConnection, RespError, start_cairnd, stop_server, target_name
from node_support import HOST, MIB, connect, make_seed, rss_mib, wait_closed

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="cairnd process tests")

OUTPUT_LIMIT_BYTES = 8 * MIB
BLOCK_CACHE_BYTES = 64 * MIB
ROW_CACHE_BYTES = 16 * MIB
WRITE_BUFFER_BYTES = 16 * MIB


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """One cairnd for the module, with an 8 MiB output buffer limit (the slow-client test) and a
    64 MiB block cache, 16 MiB row cache and 16 MiB memtable (the memory bound at the end)."""
    data_dir = str(tmp_path_factory.mktemp("bad-input") / "data")
    proc = start_cairnd(["--client-output-buffer-limit", str(OUTPUT_LIMIT_BYTES),
                         "--block-cache-bytes", str(BLOCK_CACHE_BYTES),
                         "--row-cache-bytes", str(ROW_CACHE_BYTES),
                         "--write-buffer-bytes", str(WRITE_BUFFER_BYTES)], dir=data_dir)
    proc.rss_start_mib = rss_mib(proc.pid)
    proc.rss_peak_mib = proc.rss_start_mib
    yield proc
    assert proc.alive(), "cairnd died; log:\n" + proc.log()[-4000:]
    print("cairnd RSS: %.1f MiB at start, %.1f MiB peak seen during the module" % (
        proc.rss_start_mib, proc.rss_peak_mib))
    stop_server(proc)


def note_rss(proc, what=None):
    rss = rss_mib(proc.pid)
    proc.rss_peak_mib = max(proc.rss_peak_mib, rss)
    if what:
        print("cairnd RSS %s: %.1f MiB" % (what, rss))


def assert_healthy(proc):
    assert proc.alive(), "cairnd died; log:\n" + proc.log()[-4000:]
    with RespConnection(HOST, proc.port) as conn:
        assert conn.call("PING") == "PONG"
        assert conn.call("SET", "health", "ok") == "OK"
        assert conn.call("GET", "health") == b"ok"
    note_rss(proc)


# Random bytes on many connections: each gets errors or is closed; the server lives on.
def test_random_bytes_on_many_connections(node):
    rng = random.Random(make_seed("random-bytes"))
    socks = []
    for i in range(40):
        s = connect(node.port)
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8192)))
        if i % 4 == 0:  # start like a frame so the multibulk parser sees garbage too
            payload = b"*3\r\n$3\r\nSET\r\n" + payload
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        socks.append(s)
    for s in socks:
        # Either closed (protocol error) or still open waiting for the rest of a frame.
        wait_closed(s, timeout=0.2)
        s.close()
    assert_healthy(node)


# A frame cut anywhere, then the client closes: nothing is executed from the partial frame.
def test_truncated_frames_then_close(node):
    frame = b"*3\r\n$3\r\nSET\r\n$9\r\ntruncated\r\n$5\r\nvalue\r\n"
    for cut in range(1, len(frame)):
        s = connect(node.port)
        s.sendall(frame[:cut])
        s.close()
    time.sleep(0.2)
    with RespConnection(HOST, node.port) as conn:
        assert conn.call("EXISTS", "truncated") == 0
    assert_healthy(node)


# Huge declared lengths get Redis's protocol errors and the connection closes.
@pytest.mark.parametrize("frame,error", [
    (b"*1\r\n$2147483648\r\n", "Protocol error: invalid bulk length"),
    (b"*2\r\n$3\r\nGET\r\n$99999999999999\r\n", "Protocol error: invalid bulk length"),
    (b"*99999999999\r\n", "Protocol error: invalid multibulk length"),
    (b"*1\r\n$-5\r\n", "Protocol error: invalid bulk length"),
    (b"*abc\r\n", "Protocol error: invalid multibulk length"),
    (b"*1\r\nx\r\n", "Protocol error: expected '$', got 'x'"),
])
def test_huge_or_malformed_lengths_close_with_protocol_error(node, frame, error):
    conn = RespConnection(HOST, node.port)
    conn.send_raw(frame)
    reply = conn.read_reply()
    assert isinstance(reply, RespError) and str(reply) == "ERR " + error, reply
    assert conn.is_closed(timeout=5)
    conn.close()
    assert_healthy(node)


def multibulk(args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


# DEL with a million keys and MSET with half a million pairs are executed (or refused with an
# error), without a crash; memory comes back down afterwards.
def test_million_argument_commands(node):
    keys = [b"m%07d" % i for i in range(1000000)]
    conn = RespConnection(HOST, node.port, timeout=60)  # redis-server: about 1 s
    conn.send_raw(multibulk([b"DEL"] + keys))
    reply = conn.read_reply()
    note_rss(node, "after DEL of 1 M keys")
    assert reply == 0 or isinstance(reply, RespError), reply

    pairs = []
    for key in keys[:500000]:
        pairs += [key, b"v"]
    conn.send_raw(multibulk([b"MSET"] + pairs))
    reply = conn.read_reply()
    note_rss(node, "after MSET of 500 K pairs")
    if reply == "OK":
        assert conn.call("GET", keys[499999]) == b"v"
        assert conn.call("EXISTS", keys[500000]) == 0
        conn.send_raw(multibulk([b"DEL"] + keys))
        assert conn.read_reply() == 500000
    else:
        assert isinstance(reply, RespError), reply
    conn.close()
    assert_healthy(node)


# A client that pipelines GETs of a 60 KiB value and never reads is disconnected once its output
# buffer passes the limit; meanwhile another client keeps getting prompt answers, and cairnd's
# RSS stays bounded.
def test_client_that_never_reads_is_dropped(node):
    value = os.urandom(60 * 1024)  # under the blob threshold: replies are buffered
    rss_before = rss_mib(node.pid)
    with RespConnection(HOST, node.port) as conn:
        assert conn.call("SET", "slow:value", value) == "OK"
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect((HOST, node.port))
    slow.settimeout(10)
    request = b"*2\r\n$3\r\nGET\r\n$10\r\nslow:value\r\n" * 1000
    stop = threading.Event()

    def flood():
        try:
            for _ in range(200):  # up to 200,000 GETs = 12 GB of replies
                if stop.is_set():
                    return
                slow.sendall(request)
        except OSError:
            pass  # dropped by the server, or our send blocked past the timeout

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()
    latencies = []
    rss_peak = 0.0
    with RespConnection(HOST, node.port) as other:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            start = time.monotonic()
            assert other.call("PING") == "PONG"
            latencies.append(time.monotonic() - start)
            rss_peak = max(rss_peak, rss_mib(node.pid))
            time.sleep(0.01)
    stop.set()
    flooder.join(timeout=15)
    note_rss(node)
    latencies.sort()
    p99_ms = latencies[int(len(latencies) * 0.99)] * 1000
    print("slow client: %d PINGs from another client, p99 %.2f ms, max %.2f ms, cairnd RSS peak "
          "%.1f MiB (%.1f before)" % (len(latencies), p99_ms, latencies[-1] * 1000, rss_peak,
                                 rss_before))
    assert p99_ms < 100, "another client was stalled (p99 %.1f ms)" % p99_ms
    # The server closed the slow connection: after the few MiB the socket buffers hold, EOF.
    assert wait_closed(slow, timeout=10, max_bytes=OUTPUT_LIMIT_BYTES * 4), \
        "the client that never reads was not disconnected"
    slow.close()
    # The output buffer limit is 8 MiB; allocator slack and socket-side copies aside, the flood
    # must not grow the server by anything near the 12 GB of replies it asked for.
    assert rss_peak < rss_before + 128, "RSS grew from %.1f to %.1f MiB" % (rss_before, rss_peak)
    assert_healthy(node)


# A client that always has a command in flight (one batch of 100 GETs sent ahead of the replies
# it reads) is sent about 200 MB of replies; the server keeps none that went out. (It once kept
# every reply a connection was sent until a flush found nothing new to send.)
def test_replies_sent_are_not_kept(node):
    value = b"x" * 1024
    with RespConnection(HOST, node.port) as conn:
        assert conn.call("SET", "inflight:value", value) == "OK"
    batch = b"*2\r\n$3\r\nGET\r\n$14\r\ninflight:value\r\n" * 100
    batch_reply_bytes = 100 * len(b"$1024\r\n" + value + b"\r\n")
    rss_before = rss_mib(node.pid)
    with socket.create_connection((HOST, node.port), timeout=30) as sock:
        def read_batch_replies():
            remaining = batch_reply_bytes
            while remaining > 0:
                chunk = sock.recv(min(remaining, 1 << 20))
                assert chunk, "cairnd closed the connection"
                remaining -= len(chunk)
        sock.sendall(batch)
        for _ in range(2000):
            sock.sendall(batch)
            read_batch_replies()
        read_batch_replies()
    note_rss(node)
    rss_after = rss_mib(node.pid)
    print("200,000 GETs of 1 KiB in flight: RSS %.1f -> %.1f MiB" % (rss_before, rss_after))
    assert rss_after < rss_before + 64, "RSS grew from %.1f to %.1f MiB" % (rss_before, rss_after)
    assert_healthy(node)


# After everything above: memory is bounded and the server still answers.
def test_still_alive_and_bounded_at_the_end(node):
    assert_healthy(node)
    rss_now = rss_mib(node.pid)
    print("RSS now %.1f MiB (start %.1f, peak seen %.1f)" % (
        rss_now, node.rss_start_mib, node.rss_peak_mib))
    assert node.rss_peak_mib < node.rss_start_mib + 512
    # What may stay: the 64 MiB block cache (filled by the DELs' reads), the memtable and the
    # immutable one, which after the million-argument commands hold batches of up to a million
    # entries (about 50 MiB each, with 16 bytes of sorted run per entry), their 4 MiB point
    # indexes, and the allocator's slack.
    assert rss_now < node.rss_start_mib + 256
