"""Helpers the node-level tests share (durability, bad input, large values, redis-cli, start-up):
a seed that is printed so a failure can be replayed, /proc memory figures, and raw socket
utilities. Server start/stop comes from conftest.py."""

import os
import random
import socket
import subprocess
import time

HOST = "127.0.0.1"
MIB = 1 << 20


def make_seed(name):
    """The seed for a randomized test: $CAIRN_TEST_SEED or a fresh one, printed either way."""
    seed = int(os.environ.get("CAIRN_TEST_SEED", str(random.SystemRandom().randrange(1 << 32))))
    print("%s: seed %d (rerun with CAIRN_TEST_SEED=%d)" % (name, seed, seed))
    return seed


def proc_status_kb(pid, field):
    """A field of /proc/PID/status in KiB (VmRSS, VmHWM, ...)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def rss_mib(pid):
    return proc_status_kb(pid, "VmRSS") / 1024.0


def hwm_mib(pid):
    return proc_status_kb(pid, "VmHWM") / 1024.0


def proc_io(pid):
    """/proc/PID/io as a dict of ints (write_bytes counts bytes sent to the block layer)."""
    out = {}
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            name, value = line.split(":")
            out[name.strip()] = int(value)
    return out


def filesystem_type(path):
    return subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True,
                          text=True).stdout.strip()


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def connect(port, timeout=10.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_line(sock, buf=b""):
    """Reads until CRLF; returns (line without CRLF, remaining bytes). b"" line on EOF."""
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    line, _, rest = buf.partition(b"\r\n")
    return line, rest


def wait_closed(sock, timeout=5.0, max_bytes=64 * MIB):
    """True if the peer closes the connection within timeout (reading and discarding at most
    max_bytes meanwhile); False if it stays open or keeps sending past max_bytes."""
    deadline = time.monotonic() + timeout
    received = 0
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not chunk:
            return True
        received += len(chunk)
        if received > max_bytes:
            return False
    return False


def ping(port, timeout=5.0):
    with connect(port, timeout) as s:
        s.sendall(b"PING\r\n")
        line, _ = read_line(s)
        return line == b"+PONG"
