"""Connection commands: PING, ECHO, HELLO (RESP2/RESP3 types), QUIT, RESET, SELECT, CLIENT *,
pipelining and inline commands, checked on the exact bytes through a raw socket."""

import pytest
import redis

from conftest import Map, RespError, parse_resp, wait_until


def err(client, *args):
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def test_ping_echo(raw):
    assert raw.call_bytes("PING") == b"+PONG\r\n"
    assert raw.call_bytes("PING", "hello") == b"$5\r\nhello\r\n"
    assert raw.call_bytes("PING", "") == b"$0\r\n\r\n"
    assert raw.call_bytes("ECHO", b"a\x00b") == b"$3\r\na\x00b\r\n"
    assert raw.call_bytes("ECHO", "") == b"$0\r\n\r\n"
    assert raw.call("PING", "a", "b") == RespError("ERR wrong number of arguments for 'ping' command")
    assert raw.call("ECHO") == RespError("ERR wrong number of arguments for 'echo' command")
    assert raw.call("ECHO", "a", "b") == RespError("ERR wrong number of arguments for 'echo' command")
    assert raw.call("ping") == "PONG"  # command names are case-insensitive
    assert raw.call("PiNg") == "PONG"


def _check_hello_map(m, proto, target):
    assert isinstance(m, dict)
    assert set(m.keys()) >= {b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"}
    assert m[b"proto"] == proto
    assert isinstance(m[b"id"], int) and m[b"id"] > 0
    assert m[b"mode"] == b"standalone"
    assert m[b"role"] == b"master"
    assert m[b"modules"] == []
    assert isinstance(m[b"server"], bytes) and m[b"server"]
    assert isinstance(m[b"version"], bytes) and m[b"version"]
    if target == "redis":
        assert m[b"server"] == b"redis"


def test_hello3_map_and_types(raw, target):
    data = raw.call_bytes("HELLO", "3")
    assert data.startswith(b"%"), data  # a RESP3 map
    m = parse_resp(data)
    _check_hello_map(m, 3, target)
    # RESP3 types on this connection
    assert raw.call_bytes("GET", "nokey") == b"_\r\n"
    assert raw.call_bytes("MGET", "nokey", "nokey2") == b"*2\r\n_\r\n_\r\n"
    assert raw.call_bytes("SET", "a", "1") == b"+OK\r\n"
    assert raw.call_bytes("GET", "a") == b"$1\r\n1\r\n"
    assert raw.call_bytes("EXISTS", "a") == b":1\r\n"
    assert raw.call_bytes("SET", "a", "2", "XX", "NX").startswith(b"-ERR syntax error")
    assert raw.call_bytes("SET", "b", "1", "XX") == b"_\r\n"
    cfg = raw.call("CONFIG", "GET", "maxmemory")
    assert isinstance(cfg, Map) and b"maxmemory" in cfg
    # a new HELLO 2 goes back to RESP2 (arrays, $-1)
    m2 = raw.call("HELLO", "2")
    assert isinstance(m2, list) and not isinstance(m2, dict)
    _check_hello_map(dict(zip(m2[::2], m2[1::2])), 2, target)
    assert raw.call_bytes("GET", "nokey") == b"$-1\r\n"
    cfg2 = raw.call("CONFIG", "GET", "maxmemory")
    assert isinstance(cfg2, list) and cfg2[0] == b"maxmemory"


def test_hello_without_version_and_errors(raw, target):
    m = raw.call("HELLO")
    assert isinstance(m, list)
    _check_hello_map(dict(zip(m[::2], m[1::2])), 2, target)
    assert raw.call("HELLO", "4") == RespError("NOPROTO unsupported protocol version")
    assert raw.call("HELLO", "1") == RespError("NOPROTO unsupported protocol version")
    assert raw.call("HELLO", "abc") == RespError(
        "ERR Protocol version is not an integer or out of range")
    assert raw.call("HELLO", "3", "FOO") == RespError("ERR Syntax error in HELLO option 'FOO'")
    # the connection still speaks RESP2 after the failed HELLOs
    assert raw.call_bytes("GET", "nokey") == b"$-1\r\n"


def test_hello_setname(raw):
    m = raw.call("HELLO", "3", "SETNAME", "bob")
    assert isinstance(m, Map)
    assert raw.call("CLIENT", "GETNAME") == b"bob"


def test_client_ids_differ_and_match_hello(raw, raw_factory):
    other = raw_factory()
    id1 = raw.call("CLIENT", "ID")
    id2 = other.call("CLIENT", "ID")
    assert isinstance(id1, int) and isinstance(id2, int) and id1 != id2
    m = raw.call("HELLO", "2")
    assert dict(zip(m[::2], m[1::2]))[b"id"] == id1


def test_quit_closes_connection(raw_factory):
    conn = raw_factory()
    assert conn.call_bytes("QUIT") == b"+OK\r\n"
    assert conn.is_closed()


def test_quit_after_pipelined_commands(raw_factory):
    conn = raw_factory()
    conn.send_raw(b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n")
    assert conn.read_reply() == "PONG"
    assert conn.read_reply() == "OK"
    assert conn.is_closed()
    assert conn.buf == b""  # nothing after QUIT's reply


def test_reset(raw):
    raw.call("HELLO", "3", "SETNAME", "x")
    assert raw.call("MULTI") == "OK"
    assert raw.call_bytes("RESET") == b"+RESET\r\n"
    # back to RESP2, no name, no transaction, db 0
    assert raw.call_bytes("GET", "nokey") == b"$-1\r\n"
    assert raw.call("CLIENT", "GETNAME") is None
    assert raw.call("EXEC") == RespError("ERR EXEC without MULTI")
    assert raw.call("RESET", "x") == RespError("ERR wrong number of arguments for 'reset' command")


def test_select(raw, target):
    assert raw.call("SELECT", "0") == "OK"
    assert raw.call("SELECT", "16") == RespError("ERR DB index is out of range")
    assert raw.call("SELECT", "-1") == RespError("ERR DB index is out of range")
    assert raw.call("SELECT", "x") == RespError("ERR value is not an integer or out of range")
    reply = raw.call("SELECT", "1")
    if target == "redis":
        assert reply == "OK"
        raw.call("SELECT", "0")
    else:
        # Cairn has one database: any other index is a clear error (README: differences)
        assert isinstance(reply, RespError) and str(reply).startswith("ERR"), reply
    assert raw.call("SET", "k", "v") == "OK"
    assert raw.call("GET", "k") == b"v"


def test_client_setname_getname(c):
    assert c.execute_command("CLIENT", "GETNAME") is None
    assert c.execute_command("CLIENT", "SETNAME", "worker-1") == b"OK"
    assert c.execute_command("CLIENT", "GETNAME") == b"worker-1"
    assert err(c, "CLIENT", "SETNAME", "a b") == (
        "Client names cannot contain spaces, newlines or special characters.")
    assert err(c, "CLIENT", "SETNAME", "a\nb") == (
        "Client names cannot contain spaces, newlines or special characters.")
    assert c.execute_command("CLIENT", "GETNAME") == b"worker-1"
    assert c.execute_command("CLIENT", "SETNAME", "") == b"OK"  # clears the name
    assert c.execute_command("CLIENT", "GETNAME") is None


def _parse_client_line(line):
    fields = {}
    for part in line.strip().split(" "):
        k, _, v = part.partition("=")
        fields[k] = v
    return fields


def test_client_list_and_info(c, client_factory):
    other = client_factory()
    other.execute_command("CLIENT", "SETNAME", "other")
    my_id = c.execute_command("CLIENT", "ID")
    other_id = other.execute_command("CLIENT", "ID")
    text = c.execute_command("CLIENT", "LIST").decode()
    lines = [_parse_client_line(l) for l in text.splitlines() if l.strip()]
    by_id = {int(f["id"]): f for f in lines}
    assert my_id in by_id and other_id in by_id
    assert by_id[other_id]["name"] == "other"
    for f in by_id.values():
        assert f["addr"].startswith("127.0.0.1:")
        assert "age" in f and "idle" in f and "db" in f and "cmd" in f
    assert by_id[my_id]["cmd"] == "client|list"
    info = _parse_client_line(c.execute_command("CLIENT", "INFO").decode())
    assert int(info["id"]) == my_id
    assert info["cmd"] == "client|info"
    assert info["resp"] == "2"
    assert info["db"] == "0"
    # CLIENT LIST ID filter
    text = c.execute_command("CLIENT", "LIST", "ID", other_id).decode()
    assert [int(_parse_client_line(l)["id"]) for l in text.splitlines() if l.strip()] == [other_id]


def test_client_kill(raw_factory):
    killer = raw_factory()
    victim = raw_factory()
    victim_id = victim.call("CLIENT", "ID")
    assert killer.call("CLIENT", "KILL", "ID", str(victim_id)) == 1
    assert victim.is_closed()
    assert killer.call("CLIENT", "KILL", "ID", str(victim_id)) == 0
    assert killer.call("CLIENT", "KILL", "ID", "abc") == RespError(
        "ERR client-id should be greater than 0")
    assert killer.call("CLIENT", "KILL", "FOO", "bar") == RespError("ERR syntax error")
    assert killer.call("CLIENT", "KILL", "1.2.3.4:5") == RespError("ERR No such client")
    assert killer.call("PING") == "PONG"


def test_client_kill_by_addr(raw_factory):
    killer = raw_factory()
    victim = raw_factory()
    info = _parse_client_line(victim.call("CLIENT", "INFO").decode())
    assert killer.call("CLIENT", "KILL", info["addr"]) == "OK"
    assert victim.is_closed()


def test_client_kill_self_skipme(raw_factory):
    me = raw_factory()
    my_id = me.call("CLIENT", "ID")
    assert me.call("CLIENT", "KILL", "ID", str(my_id), "SKIPME", "yes") == 0
    assert me.call("PING") == "PONG"


def test_client_reply_off_on_skip(raw):
    raw.send_raw(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n"
                 b"*1\r\n$4\r\nPING\r\n"
                 b"*2\r\n$4\r\nPING\r\n$1\r\n2\r\n")
    assert raw.read_reply() == b"2"  # SKIP: no reply to itself nor to the next command
    raw.send_raw(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n"
                 b"*1\r\n$4\r\nPING\r\n"
                 b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n"
                 b"*2\r\n$4\r\nINCR\r\n$3\r\nbad\r\n"
                 b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n"
                 b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n")
    assert raw.read_reply() == "OK"  # only CLIENT REPLY ON answers
    assert raw.read_reply() == b"1"  # the SET ran
    assert raw.call("CLIENT", "REPLY", "FOO") == RespError("ERR syntax error")


def test_client_setinfo(raw, target):
    reply = raw.call("CLIENT", "SETINFO", "LIB-NAME", "cairn-tests")
    if target == "redis":
        # Redis 7.0 predates CLIENT SETINFO (7.2); Cairn implements it (README: differences)
        assert reply == RespError("ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.")
        return
    assert reply == "OK"
    assert raw.call("CLIENT", "SETINFO", "LIB-VER", "1.2.3") == "OK"
    info = _parse_client_line(raw.call("CLIENT", "INFO").decode())
    assert info.get("lib-name") == "cairn-tests"
    assert info.get("lib-ver") == "1.2.3"
    assert isinstance(raw.call("CLIENT", "SETINFO", "FOO", "x"), RespError)
    assert isinstance(raw.call("CLIENT", "SETINFO", "LIB-NAME", "a b"), RespError)


def test_client_unblock_and_no_evict(raw, raw_factory):
    other = raw_factory()
    other_id = other.call("CLIENT", "ID")
    assert raw.call("CLIENT", "UNBLOCK", str(other_id)) == 0  # not blocked
    assert raw.call("CLIENT", "UNBLOCK", "999999") == 0
    assert raw.call("CLIENT", "UNBLOCK", str(other_id), "TIMEOUT") == 0
    assert raw.call("CLIENT", "UNBLOCK", str(other_id), "ERROR") == 0
    assert raw.call("CLIENT", "UNBLOCK", str(other_id), "FOO") == RespError(
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    assert raw.call("CLIENT", "UNBLOCK", "abc") == RespError(
        "ERR value is not an integer or out of range")
    assert raw.call("CLIENT", "NO-EVICT", "on") == "OK"
    assert raw.call("CLIENT", "NO-EVICT", "OFF") == "OK"
    assert raw.call("CLIENT", "NO-EVICT", "maybe") == RespError("ERR syntax error")


def test_client_errors(raw):
    assert raw.call("CLIENT") == RespError("ERR wrong number of arguments for 'client' command")
    assert raw.call("CLIENT", "FOO") == RespError(
        "ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
    assert raw.call("CLIENT", "ID", "x") == RespError(
        "ERR wrong number of arguments for 'client|id' command")
    assert raw.call("CLIENT", "GETNAME", "x") == RespError(
        "ERR wrong number of arguments for 'client|getname' command")


# --- pipelining and inline commands


def test_pipelined_raw_bytes_in_one_write(raw):
    n = 200
    payload = b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n" * n
    raw.send_raw(payload + b"*2\r\n$3\r\nGET\r\n$1\r\nn\r\n")
    replies = [raw.read_reply() for _ in range(n + 1)]
    assert replies[:n] == list(range(1, n + 1))
    assert replies[n] == str(n).encode()


def test_frame_split_across_writes(raw):
    import time
    frame = b"*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$10\r\n0123456789\r\n"
    for i in range(len(frame)):
        raw.send_raw(frame[i:i + 1])
        if i % 7 == 0:
            time.sleep(0.001)
    assert raw.read_reply() == "OK"
    assert raw.call("GET", "split") == b"0123456789"


def test_redis_py_pipeline_without_transaction(r):
    p = r.pipeline(transaction=False)
    for i in range(50):
        p.set(b"p%d" % i, i)
    p.get("p7")
    p.incr("p7")
    res = p.execute()
    assert res[:50] == [True] * 50
    assert res[50:] == [b"7", 8]


def test_inline_commands(raw):
    raw.send_raw(b"PING\r\n")
    assert raw.read_frame_bytes() == b"+PONG\r\n"
    raw.send_raw(b"SET  inl   value\r\n")
    assert raw.read_reply() == "OK"
    raw.send_raw(b"GET inl\n")  # a bare \n ends an inline command too
    assert raw.read_reply() == b"value"
    raw.send_raw(b'SET q "a b\\x41\\n"\r\n')
    assert raw.read_reply() == "OK"
    assert raw.call("GET", "q") == b"a bA\n"
    raw.send_raw(b"SET s 'x y'\r\nGET s\r\n")
    assert raw.read_reply() == "OK"
    assert raw.read_reply() == b"x y"
    raw.send_raw(b"\r\n")  # empty lines are ignored
    raw.send_raw(b"ECHO \"\"\r\n")
    assert raw.read_reply() == b""
    raw.send_raw(b"PING\r\n*1\r\n$4\r\nPING\r\n")  # inline and multibulk mixed
    assert raw.read_reply() == "PONG"
    assert raw.read_reply() == "PONG"


def test_inline_unbalanced_quotes_is_protocol_error(raw_factory, r):
    conn = raw_factory()
    conn.send_raw(b'SET "unbalanced\r\n')
    assert conn.read_reply() == RespError("ERR Protocol error: unbalanced quotes in request")
    assert conn.is_closed()
    # a closing quote must be followed by a space: also unbalanced
    conn = raw_factory()
    conn.send_raw(b"SET s 'it''s'\r\n")
    assert conn.read_reply() == RespError("ERR Protocol error: unbalanced quotes in request")
    assert conn.is_closed()
    assert r.ping()  # the server carries on


def test_unknown_command_in_inline(raw):
    raw.send_raw(b"NOSUCHCMD a b\r\n")
    reply = raw.read_reply()
    assert reply == RespError(
        "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ")


def test_many_clients(client_factory):
    clients = [client_factory() for _ in range(30)]
    for i, cl in enumerate(clients):
        cl.set(b"mc%d" % i, i)
    for i, cl in enumerate(clients):
        assert cl.get(b"mc%d" % ((i + 1) % 30)) == str((i + 1) % 30).encode()


def test_client_list_shows_killed_client_gone(c, raw_factory):
    victim = raw_factory()
    vid = victim.call("CLIENT", "ID")
    victim.close()

    def gone():
        text = c.execute_command("CLIENT", "LIST").decode()
        return all(int(_parse_client_line(l)["id"]) != vid for l in text.splitlines() if l.strip())
    wait_until(gone, timeout=5, message="closed client to leave CLIENT LIST")


def test_resp3_types_of_admin_replies(raw):
    """RESP3 gives INFO and CLIENT INFO as verbatim text, COMMAND INFO flags as sets."""
    raw.call("HELLO", "3")
    info = raw.call_bytes("INFO", "keyspace")
    assert info.startswith(b"=") and b"\r\ntxt:# Keyspace\r\n" in info, info
    client_info = raw.call_bytes("CLIENT", "INFO")
    assert client_info.startswith(b"=") and b"\r\ntxt:id=" in client_info
    assert b" resp=3" in client_info
    cmd = raw.call("COMMAND", "INFO", "get")
    assert raw.call_bytes("COMMAND", "INFO", "get").startswith(b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~")
    assert sorted(cmd[0][2]) == ["fast", "readonly"]
    # in RESP2 the same replies are a bulk string and arrays
    raw.call("HELLO", "2")
    assert raw.call_bytes("INFO", "keyspace").startswith(b"$")
    assert raw.call_bytes("COMMAND", "INFO", "get").startswith(b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*")
