"""cairnd's command line and start-up: the banner, flags over the config file over defaults, and
one clear line on stderr with exit code 1 for a bad flag or value, a bad config file, a busy
port, an unusable directory and a directory another cairnd holds."""

import socket
import subprocess

import pytest

from conftest import cairnd_path, free_port, start_cairnd, stop_server, target_name
from node_support import HOST, ping

pytestmark = pytest.mark.skipif(target_name() != "cairnd", reason="cairnd process tests")


def run_cairnd(*args, timeout=20):
    """Runs cairnd expecting it to exit on its own; returns (code, stdout, stderr)."""
    result = subprocess.run([cairnd_path()] + list(args), capture_output=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def assert_one_line_error(code, stderr, *fragments):
    assert code == 1, (code, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("cairnd: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, stderr)


def test_help_exits_zero():
    code, out, _ = run_cairnd("--help")
    assert code == 0
    for flag in ("--port", "--bind", "--dir", "--fsync", "--threads", "--config", "--log-level",
                 "--proto-max-bulk-len", "--maxclients"):
        assert flag in out, flag


@pytest.mark.parametrize("args,fragment", [
    (["--no-such-flag"], "--no-such-flag"),
    (["--fsync", "sometimes"], "sometimes"),
    (["--port", "70000"], "70000"),
    (["--port", "abc"], "abc"),
    (["--threads", "0"], "threads"),
    (["--threads", "65"], "threads"),
    (["--proto-max-bulk-len", str((1 << 30) + 1)], "proto_max_bulk_len"),
    (["--log-level", "loud"], "log_level"),
    (["--config", "/nonexistent/cairn.toml"], "/nonexistent/cairn.toml"),
])
def test_bad_flag_or_value(tmp_path, args, fragment):
    code, _, err = run_cairnd("--dir", str(tmp_path / "data"), *args)
    assert_one_line_error(code, err, fragment)


def test_bad_config_file_names_file_line_and_key(tmp_path):
    config = tmp_path / "cairn.toml"
    config.write_text("port = 7400\nthreads = 2\nportt = 1\n")
    code, _, err = run_cairnd("--config", str(config), "--dir", str(tmp_path / "data"))
    assert_one_line_error(code, err, "%s:3: unknown key 'portt'" % config)


# The file sets the port and the directory; a flag overrides the file's port.
def test_config_file_then_flags(tmp_path):
    file_port, flag_port = free_port(), free_port()
    data_dir = tmp_path / "from-file"
    config = tmp_path / "cairn.toml"
    config.write_text('port = %d\ndir = "%s"\nfsync = "no"\nlog_level = "warn"\n' % (
        file_port, data_dir))
    proc = subprocess.Popen([cairnd_path(), "--config", str(config)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        banner = proc.stdout.readline().decode()
        assert "listening on 127.0.0.1:%d" % file_port in banner, banner
        assert "data in %s, fsync no" % data_dir in banner, banner
        assert "redis-cli -p %d" % file_port in banner, banner
        assert ping(file_port)
        assert data_dir.is_dir()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    proc = subprocess.Popen([cairnd_path(), "--config", str(config), "--port", str(flag_port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        banner = proc.stdout.readline().decode()
        assert "listening on 127.0.0.1:%d" % flag_port in banner, banner
        assert ping(flag_port)
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_banner_with_defaults_and_bye_on_sigint(tmp_path):
    port = free_port()
    proc = subprocess.Popen([cairnd_path(), "--port", str(port), "--dir", str(tmp_path / "d")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    banner = proc.stdout.readline().decode()
    assert banner.startswith("Cairn "), banner
    assert ("listening on 127.0.0.1:%d (data in %s, fsync everysec) — connect with: "
            "redis-cli -p %d" % (port, tmp_path / "d", port)) in banner, banner
    proc.send_signal(2)
    assert proc.wait(timeout=10) == 0
    assert "bye" in proc.stderr.read().decode()


def test_busy_port(tmp_path):
    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        code, _, err = run_cairnd("--port", str(port), "--dir", str(tmp_path / "data"))
    assert_one_line_error(code, err,
                          "cannot listen on 127.0.0.1:%d: address already in use" % port)


def test_unusable_directory(tmp_path):
    a_file = tmp_path / "plain-file"
    a_file.write_text("not a directory")
    code, _, err = run_cairnd("--port", str(free_port()), "--dir", str(a_file / "sub"))
    assert_one_line_error(code, err, "cannot create data directory", str(a_file / "sub"))
    code, _, err = run_cairnd("--port", str(free_port()), "--dir", str(a_file))
    assert_one_line_error(code, err, str(a_file))


def test_directory_locked_by_another_cairnd(tmp_path):
    data_dir = str(tmp_path / "data")
    first = start_cairnd(dir=data_dir)
    try:
        code, _, err = run_cairnd("--port", str(free_port()), "--dir", data_dir)
        assert_one_line_error(code, err, "locked by another cairnd", data_dir)
        assert first.alive()
        assert ping(first.port)
    finally:
        stop_server(first)
