"""Large values: a 1 GiB SET and GET over a raw socket, streamed in 1 MiB pieces and checked by
hash while reading, with cairnd's peak RSS growth (VmHWM) well under the value size; values
around the 64 KiB blob threshold and a 16 MiB value through redis-py, kept across a restart."""

import hashlib
import random
import time

import pytest

from conftest import start_cairnd, stop_server, target_name
from node_support import MIB, connect, free_bytes, hwm_mib, make_seed, read_line

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="cairnd process tests")

GIB = 1 << 30
PIECE_BYTES = MIB
RSS_GROWTH_MAX_MIB = 256


def piece(base, index):
    """The index-th 1 MiB piece of the deterministic value: its index, then the base block."""
    return index.to_bytes(8, "little") + base[8:]


def send_streamed_set(sock, key, base, pieces):
    digest = hashlib.sha256()
    size = pieces * PIECE_BYTES
    sock.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(key), key, size))
    for i in range(pieces):
        data = piece(base, i)
        digest.update(data)
        sock.sendall(data)
    sock.sendall(b"\r\n")
    return digest.hexdigest()


def read_streamed_get(sock, key):
    """GETs key and returns (length, sha256) of the bulk reply, hashing while reading."""
    sock.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key))
    header, rest = read_line(sock)
    assert header is not None and header.startswith(b"$"), header
    length = int(header[1:])
    digest = hashlib.sha256()
    body_left = length
    tail = bytearray()

    def consume(chunk):
        nonlocal body_left
        take = min(len(chunk), body_left)
        if take:
            digest.update(chunk[:take])
            body_left -= take
        tail.extend(chunk[take:])

    consume(rest)
    view = memoryview(bytearray(PIECE_BYTES))
    while body_left > 0 or len(tail) < 2:
        n = sock.recv_into(view)
        assert n > 0, "connection closed with %d body bytes to go" % body_left
        consume(view[:n])
    assert bytes(tail) == b"\r\n", bytes(tail)
    return length, digest.hexdigest()


# A 1 GiB value goes in and out whole, and cairnd's peak RSS grows by well under its size.
def test_one_gib_value_round_trip_with_bounded_memory(tmp_path):
    if free_bytes(str(tmp_path)) < 4 * GIB:
        pytest.skip("needs 4 GiB free on the temp directory's disk")
    proc = start_cairnd(["--proto-max-bulk-len", str(GIB)], dir=str(tmp_path / "data"))
    try:
        rng = random.Random(make_seed("one-gib"))
        base = bytes(rng.getrandbits(8) for _ in range(4096)) * (PIECE_BYTES // 4096)
        pieces = GIB // PIECE_BYTES
        hwm_before = hwm_mib(proc.pid)
        sock = connect(proc.port, timeout=120)
        start = time.monotonic()
        sent_hash = send_streamed_set(sock, b"big:1g", base, pieces)
        line, rest = read_line(sock)
        assert line == b"+OK" and rest == b"", (line, rest)
        set_seconds = time.monotonic() - start
        hwm_after_set = hwm_mib(proc.pid)
        start = time.monotonic()
        length, read_hash = read_streamed_get(sock, b"big:1g")
        get_seconds = time.monotonic() - start
        hwm_after = hwm_mib(proc.pid)
        sock.sendall(b"STRLEN big:1g\r\n")
        assert read_line(sock)[0] == b":%d" % GIB
        sock.close()
        growth = hwm_after - hwm_before
        print("1 GiB value: SET %.1f s, GET %.1f s; cairnd peak RSS (VmHWM) %.1f MiB before, "
              "%.1f MiB after SET, %.1f MiB after GET: growth %.1f MiB" % (
                  set_seconds, get_seconds, hwm_before, hwm_after_set, hwm_after, growth))
        assert length == GIB
        assert read_hash == sent_hash
        assert growth < RSS_GROWTH_MAX_MIB, "peak RSS grew by %.1f MiB" % growth
    finally:
        stop_server(proc)


# The default bulk limit (512 MiB) refuses a bigger declared value with Redis's error.
def test_value_over_proto_max_bulk_len_is_refused(server):
    sock = connect(server.port)
    sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (512 * MIB + 1))
    line, _ = read_line(sock)
    assert line == b"-ERR Protocol error: invalid bulk length", line
    sock.close()


# Values at the blob threshold's edges and a 16 MiB value: equal after SET/GET, GETRANGE reads
# the right slice, and they are kept across a restart.
def test_values_around_blob_threshold_and_16_mib(tmp_path):
    rng = random.Random(make_seed("blob-threshold"))
    sizes = [64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 200 * 1024, 16 * MIB]
    values = {b"size:%d" % n: rng.randbytes(n) for n in sizes}
    data_dir = str(tmp_path / "data")
    proc = start_cairnd(dir=data_dir)
    try:
        client = proc.client()
        for key, value in values.items():
            assert client.set(key, value)
            assert client.strlen(key) == len(value)
            assert client.get(key) == value
            assert client.getrange(key, 1000, 1999) == value[1000:2000]
        assert client.mget(list(values)) == list(values.values())
        client.close()
        assert stop_server(proc) == 0
        proc = start_cairnd(dir=data_dir)
        client = proc.client()
        for key, value in values.items():
            assert client.get(key) == value, key
        client.close()
    finally:
        stop_server(proc)
