"""The Redis tools against cairnd: redis-cli reading commands from stdin, `redis-cli --pipe`
mass insertion, and redis-benchmark (which also sends CONFIG GET on start)."""

import re
import shutil
import subprocess

import pytest

from conftest import HOST

pytestmark = pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-tools missing")


def redis_cli(port, *args, stdin=None, timeout=60):
    return subprocess.run(["redis-cli", "-h", HOST, "-p", str(port)] + list(args), input=stdin,
                          capture_output=True, timeout=timeout)


# Commands typed one per line (what a user types at the prompt), replies printed as redis-cli does.
def test_cli_commands_from_stdin(server, r):
    commands = b"\n".join([
        b"PING",
        b"SET greeting \"hello world\"",
        b"GET greeting",
        b"INCR counter",
        b"INCRBY counter 41",
        b"EXISTS greeting nothere",
        b"DEL greeting",
        b"GET greeting",
        b"NOSUCHCOMMAND x",
    ]) + b"\n"
    result = redis_cli(server.port, stdin=commands)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[:8] == ["PONG", "OK", "hello world", "1", "42", "1", "1", ""], lines
    assert lines[8].startswith("ERR unknown command"), lines


# A command on the command line, and --raw / RESP3 (-3) output.
def test_cli_one_shot_and_resp3(server, r):
    assert redis_cli(server.port, "SET", "k", "v").stdout == b"OK\n"
    assert redis_cli(server.port, "--raw", "GET", "k").stdout == b"v\n"
    assert redis_cli(server.port, "--no-raw", "MGET", "k", "missing").stdout == b"1) \"v\"\n2) (nil)\n"
    hello = redis_cli(server.port, "-3", "HELLO", "3")
    assert hello.returncode == 0 and b"proto" in hello.stdout, hello.stdout


# Mass insertion: a few thousand SETs through --pipe, all replied, none an error.
def test_cli_pipe_mass_insert(server, r):
    count = 5000
    frames = []
    for i in range(count):
        key, value = b"pipe:%d" % i, b"value-%d" % i
        frames.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            len(key), key, len(value), value))
    result = redis_cli(server.port, "--pipe", stdin=b"".join(frames))
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output
    assert "errors: 0, replies: %d" % count in output, output
    assert r.dbsize() == count
    assert r.get("pipe:4999") == b"value-4999"


# redis-benchmark runs every test it is given and reports a rate for each.
def test_redis_benchmark_runs(server, r):
    result = subprocess.run(
        ["redis-benchmark", "-h", HOST, "-p", str(server.port), "-q", "-n", "2000",
         "-t", "set,get,incr,mset", "-P", "4"], capture_output=True, timeout=120)
    output = result.stdout.decode(errors="replace")
    print(output)
    assert result.returncode == 0, output + result.stderr.decode(errors="replace")
    rates = dict(re.findall(r"^(\S+)[^:\n]*: ([\d.]+) requests per second", output.replace("\r", "\n"),
                            re.M))
    for name in ("SET", "GET", "INCR", "MSET"):
        assert name in rates and float(rates[name]) > 0, output
