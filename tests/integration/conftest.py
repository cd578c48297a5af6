"""Shared fixtures for the cairnd integration tests (pytest + Debian's python3-redis).

The suite runs against either target, chosen by CAIRN_TARGET (or --target):
  cairnd (default)  the binary at $CAIRND, default <repo>/build/cairnd
  redis             the real redis-server on PATH (validates the expectations)

Servers listen on 127.0.0.1 on a free port, with a fresh temporary directory, and are stopped by
PID (SIGTERM, then SIGKILL), never by name.

Exported helpers for other test modules (durability, bad input, ...):
  start_cairnd(args, dir, port=None) -> ServerProcess   start cairnd on dir (restart = same dir)
  start_redis(dir, port=None, extra_args=()) -> ServerProcess
  start_target(dir, port=None) -> ServerProcess          whatever CAIRN_TARGET selects
  stop_server(proc, timeout=10, kill=False)              SIGTERM (or SIGKILL) by PID, then wait
  RespConnection(host, port)                             raw socket, exact RESP2/RESP3 bytes
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


# ---------------------------------------------------------------------------------------------
# Target selection


def pytest_addoption(parser):
    parser.addoption("--target", action="store", default=None,
                     help="cairnd or redis (default: $CAIRN_TARGET or cairnd)")


def target_name(config=None):
    value = None
    if config is not None:
        value = config.getoption("--target")
    if not value:
        value = os.environ.get("CAIRN_TARGET", "cairnd")
    if value not in ("cairnd", "redis"):
        raise pytest.UsageError("CAIRN_TARGET must be cairnd or redis, not %r" % value)
    return value


def cairnd_path():
    return os.environ.get("CAIRND", os.path.join(REPO_ROOT, "build", "cairnd"))


def redis_server_path():
    return shutil.which("redis-server") or "/usr/bin/redis-server"


# ---------------------------------------------------------------------------------------------
# Server processes


def free_port():
    """A port that was free a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class ServerProcess:
    """A started server: the Popen, its port and directory, and its stderr/stdout log file."""

    def __init__(self, popen, port, dir, log_path, kind, args):
        self.popen = popen
        self.port = port
        self.dir = dir
        self.log_path = log_path
        self.kind = kind
        self.args = args

    @property
    def pid(self):
        return self.popen.pid

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def client(self, **kwargs):
        kwargs.setdefault("socket_timeout", 10)
        return redis.Redis(host=HOST, port=self.port, **kwargs)

    def alive(self):
        return self.popen.poll() is None


def _ping_once(port):
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as s:
            s.settimeout(1.0)
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(64)
                if not chunk:
                    return False
                data += chunk
            return data.startswith(b"+PONG")
    except OSError:
        return False


def _launch(kind, argv, dir, port, log_name):
    os.makedirs(dir, exist_ok=True)
    log_path = os.path.join(os.path.dirname(os.path.abspath(dir)),
                            "%s-%d-%s.log" % (log_name, port, time.strftime("%H%M%S")))
    log = open(log_path, "ab")
    try:
        popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        log.close()
    proc = ServerProcess(popen, port, dir, log_path, kind, argv)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not proc.alive():
            return proc, "exited with code %s" % proc.popen.returncode
        if _ping_once(port):
            return proc, None
        time.sleep(0.02)
    stop_server(proc, kill=True)
    return proc, "did not answer PING within %.0f s" % START_TIMEOUT_S


def _start_with_retry(kind, make_argv, dir, port, log_name):
    """Start a server; when no port was requested, retry on a fresh port if the first was taken."""
    attempts = 1 if port is not None else 5
    last = None
    for _ in range(attempts):
        p = port if port is not None else free_port()
        proc, error = _launch(kind, make_argv(p), dir, p, log_name)
        if error is None:
            return proc
        log = proc.log()
        last = "%s %s (%s).\nCommand: %s\nServer output:\n%s" % (
            kind, error, dir, " ".join(make_argv(p)), log[-4000:])
        port_busy = any(w in log.lower() for w in ("address already in use", "port", "bind"))
        if port is not None or not port_busy:
            break
    raise RuntimeError(last)


def start_cairnd(args=(), dir=None, port=None, binary=None, log_level="warn", fsync="everysec"):
    """Starts cairnd on dir (created if needed) and waits for PING. args are extra flags.

    Restarting on the same dir after stop_server (even with kill=True) is the durability test's
    crash/recover step. Passing an explicit port reuses it (no retry)."""
    binary = binary or cairnd_path()
    if not os.path.exists(binary):
        raise RuntimeError("cairnd binary not found at %s (build it or set CAIRND=...)" % binary)
    if dir is None:
        dir = tempfile.mkdtemp(prefix="cairn-it-")

    def argv(p):
        base = [binary, "--port", str(p), "--bind", HOST, "--dir", dir]
        if fsync is not None and "--fsync" not in args:
            base += ["--fsync", fsync]
        if log_level is not None and "--log-level" not in args:
            base += ["--log-level", log_level]
        # Two event loops, so that the suite's clients land on different threads (WATCH, CLIENT
        # KILL and EXEC then cross loops); cairnd's default is one.
        if "--threads" not in args:
            base += ["--threads", "2"]
        return base + list(args)

    return _start_with_retry("cairnd", argv, dir, port, "cairnd")


def start_redis(dir=None, port=None, extra_args=()):
    """Starts the real redis-server (no persistence) on dir and waits for PING."""
    if dir is None:
        dir = tempfile.mkdtemp(prefix="cairn-it-redis-")

    def argv(p):
        return [redis_server_path(), "--port", str(p), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--dir", dir] + list(extra_args)

    return _start_with_retry("redis", argv, dir, port, "redis")


def start_target(dir=None, port=None, config=None):
    if target_name(config) == "redis":
        return start_redis(dir, port)
    return start_cairnd((), dir, port)


def stop_server(proc, timeout=STOP_TIMEOUT_S, kill=False):
    """Stops the server by PID: SIGKILL at once if kill, else SIGTERM then SIGKILL after timeout.
    Returns the exit code (negative = killed by that signal)."""
    if proc is None:
        return None
    popen = proc.popen if isinstance(proc, ServerProcess) else proc
    if popen.poll() is None:
        try:
            os.kill(popen.pid, signal.SIGKILL if kill else signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.kill(popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            popen.wait(timeout=timeout)
    return popen.returncode


# ---------------------------------------------------------------------------------------------
# Raw RESP connection (redis-py 4.3.4 has no RESP3): exact bytes, HELLO 3, pipelining


class RespError(Exception):
    """An error reply (-ERR ... or !<len> blob error); str() is the message without the dash."""

    def __eq__(self, other):
        return isinstance(other, RespError) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))


class Push(list):
    """A RESP3 push (>) frame."""


class Verbatim(bytes):
    """A RESP3 verbatim string (=); the bytes exclude the 'txt:' format prefix, kept in .format."""
    format = b""


class Double(float):
    """A RESP3 double (,)."""


class BigNumber(int):
    """A RESP3 big number (()."""


class Attribute(dict):
    """A RESP3 attribute (|), kept only if read_reply(keep_attributes=True)."""


class RespSet(list):
    """A RESP3 set (~), kept as a list to preserve order and allow unhashable members."""


class Map(dict):
    """A RESP3 map (%) or a RESP2 array read as map by helpers; keys are bytes."""


def encode_command(*args):
    """Encodes a command as a RESP multibulk (bytes, str, int and float args)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            a = repr(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespConnection:
    """A plain socket speaking RESP, reading replies with their exact types.

    Reply mapping: + -> str (tagged 'simple' via read_reply_typed), - / ! -> RespError (returned,
    not raised), : -> int, $ -> bytes or None, * -> list or None, _ -> None, # -> bool,
    , -> Double, ( -> BigNumber, = -> Verbatim, % -> Map, ~ -> RespSet, > -> Push."""

    def __init__(self, host=HOST, port=None, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self._record = None  # list collecting consumed bytes while read_frame_bytes runs

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- writing
    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, *args):
        self.sock.sendall(encode_command(*args))

    def call(self, *args):
        self.send(*args)
        return self.read_reply()

    def pipeline(self, commands):
        """Sends all commands in one write, then reads one reply each."""
        self.sock.sendall(b"".join(encode_command(*c) for c in commands))
        return [self.read_reply() for _ in commands]

    # --- reading
    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by server")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                if self._record is not None:
                    self._record.append(line + b"\r\n")
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        if self._record is not None:
            self._record.append(data + b"\r\n")
        return data

    def read_raw_until(self, predicate, timeout=5.0):
        """Reads raw bytes until predicate(buffer) is true; returns and consumes the buffer."""
        deadline = time.monotonic() + timeout
        while not predicate(self.buf):
            if time.monotonic() > deadline:
                raise TimeoutError("waiting for bytes, have %r" % self.buf)
            self._fill()
        data, self.buf = self.buf, b""
        return data

    def read_exact_bytes(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def is_closed(self, timeout=2.0):
        """True if the server closes the connection (EOF) within timeout, after any pending data."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def read_reply(self, keep_attributes=False):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode("utf-8", "replace")
        if kind == b"-":
            return RespError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        if kind == b"_":
            return None
        if kind == b"#":
            return rest == b"t"
        if kind == b",":
            return Double(float(rest))
        if kind == b"(":
            return BigNumber(int(rest))
        if kind == b"!":
            return RespError(self._exact(int(rest)).decode("utf-8", "replace"))
        if kind == b"=":
            data = self._exact(int(rest))
            v = Verbatim(data[4:])
            v.format = data[:3]
            return v
        if kind == b"%":
            n = int(rest)
            m = Map()
            for _ in range(n):
                k = self.read_reply()
                m[_hashable(k)] = self.read_reply()
            return m
        if kind == b"~":
            return RespSet(self.read_reply() for _ in range(int(rest)))
        if kind == b">":
            return Push(self.read_reply() for _ in range(int(rest)))
        if kind == b"|":
            attrs = Attribute()
            for _ in range(int(rest)):
                k = self.read_reply()
                attrs[_hashable(k)] = self.read_reply()
            value = self.read_reply()
            return (attrs, value) if keep_attributes else value
        raise ValueError("bad RESP type byte in line %r" % line)

    def read_frame_bytes(self):
        """Reads one complete reply and returns its exact bytes (for byte-level assertions)."""
        self._record = []
        try:
            self.read_reply()
            return b"".join(self._record)
        finally:
            self._record = None

    def call_bytes(self, *args):
        """Sends a command and returns the exact bytes of its reply."""
        self.send(*args)
        return self.read_frame_bytes()


def parse_resp(data):
    """Parses one complete reply from bytes (e.g. what call_bytes returned)."""
    reader = RespConnection.__new__(RespConnection)
    reader.buf, reader._record, reader.sock = data, None, None

    def incomplete():
        raise ValueError("incomplete RESP frame: %r" % data)
    reader._fill = incomplete
    return reader.read_reply()


def _hashable(k):
    if isinstance(k, list):
        return tuple(_hashable(x) for x in k)
    if isinstance(k, dict):
        return tuple(sorted((_hashable(a), _hashable(b)) for a, b in k.items()))
    return k


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def target(pytestconfig):
    """'cairnd' or 'redis'."""
    return target_name(pytestconfig)


@pytest.fixture(scope="session")
def is_redis(target):
    return target == "redis"


class _SessionServer:
    """The session's server; if it dies (a crash in the target), the next test that asks for it
    fails with the exit code and the server's output, and a fresh server is started on the same
    directory so the rest of the suite still reports on its own commands."""

    def __init__(self, config, dir):
        self.config = config
        self.dir = dir
        self.proc = start_target(dir, config=config)
        self.crashes = []

    def check(self):
        if self.proc.alive():
            return self.proc
        code = self.proc.popen.returncode
        log = self.proc.log()[-3000:]
        self.crashes.append(code)
        self.proc = start_target(self.dir, config=self.config)
        pytest.fail("the %s server died (exit code %s) during an earlier test; restarted.\n"
                    "Its output:\n%s" % (self.proc.kind, code, log))
        return self.proc


@pytest.fixture(scope="session")
def _session_server(pytestconfig, tmp_path_factory):
    dir = str(tmp_path_factory.mktemp("server") / "data")
    holder = _SessionServer(pytestconfig, dir)
    yield holder
    code = stop_server(holder.proc)
    if holder.proc.kind == "cairnd" and code not in (0, None, -signal.SIGTERM):
        print("cairnd exited with %s; log:\n%s" % (code, holder.proc.log()[-4000:]))


@pytest.fixture
def server(_session_server):
    """The session's server (the selected target), checked alive before each test."""
    return _session_server.check()


@pytest.fixture
def cluster(tmp_path):
    """A formed cluster of three cairnd nodes (cluster_support.py), stopped afterwards."""
    from cluster_support import Cluster, wait_formed  # it imports this module
    made = Cluster(tmp_path)
    try:
        wait_formed(made)
        yield made
    finally:
        made.close()


@pytest.fixture(scope="session")
def redis_reference(tmp_path_factory):
    """Always a real redis-server (the differential test's reference)."""
    dir = str(tmp_path_factory.mktemp("reference") / "data")
    proc = start_redis(dir)
    yield proc
    stop_server(proc)


def _fresh_client(proc, **kwargs):
    c = proc.client(**kwargs)
    c.flushall()
    return c


@pytest.fixture
def r(server):
    """A redis-py client (bytes replies) on an empty keyspace."""
    c = _fresh_client(server)
    yield c
    c.close()


@pytest.fixture
def c(server):
    """A redis-py client WITHOUT response callbacks, on an empty keyspace: every reply is exactly
    what the server sent (b"OK" for +OK, ints, bytes, lists, None), for exact-reply assertions."""
    cl = _fresh_client(server)
    cl.response_callbacks = {}
    yield cl
    cl.close()


@pytest.fixture
def rs(server):
    """A redis-py client decoding replies to str, on an empty keyspace."""
    c = _fresh_client(server, decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def client_factory(server):
    """Makes extra redis-py clients (closed at teardown); kwargs go to redis.Redis."""
    made = []

    def make(**kwargs):
        c = server.client(**kwargs)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


@pytest.fixture
def raw(server):
    """A raw RESP connection (RESP2 until the test sends HELLO 3) on an empty keyspace."""
    conn = RespConnection(HOST, server.port)
    assert conn.call("FLUSHALL") == "OK"
    yield conn
    conn.close()


@pytest.fixture
def raw_factory(server):
    """Opens extra raw RESP connections (closed at teardown)."""
    made = []

    def make():
        conn = RespConnection(HOST, server.port)
        made.append(conn)
        return conn
    yield make
    for c in made:
        c.close()


def wait_until(predicate, timeout=5.0, interval=0.01, message="condition"):
    """Polls predicate until true; fails the test after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("timed out after %.1f s waiting for %s" % (timeout, message))
        time.sleep(interval)
