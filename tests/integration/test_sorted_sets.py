"""Sorted-set commands against the target (cairnd, or redis-server with --target redis): ZADD
(NX, XX, GT, LT, CH, INCR), ZREM, ZSCORE, ZMSCORE, ZINCRBY, ZCARD, ZCOUNT, ZLEXCOUNT, ZRANGE
(BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
ZREVRANGEBYLEX, ZREVRANGE, ZRANK, ZREVRANK, ZPOPMIN, ZPOPMAX, ZMPOP, BZPOPMIN, BZPOPMAX, BZMPOP,
ZRANGESTORE, ZUNION, ZINTER, ZDIFF and their *STORE variants, ZINTERCARD, ZREMRANGEBYRANK,
ZREMRANGEBYSCORE, ZREMRANGEBYLEX, ZRANDMEMBER, ZSCAN; scores formatted as Redis 7.0 formats
them; sorted sets under the generic key commands; WRONGTYPE both ways; RESP3 replies; a 20 K
member set against a Python model; a restart keeps sorted sets (cairnd only).

Redis 7.0 formats a score with "%.17g" (so 0.1 is "0.10000000000000001"; 7.2 answers "0.1"),
"inf"/"-inf" for the infinities, and replies are Redis 7.0's throughout (ZRANK has no WITHSCORE
before 7.2). A score of -0 is encoding-dependent in Redis: a small sorted set (listpack) stores
it as the integer 0 and answers "0", a large one (skiplist) answers "-0"; Cairn's sets are all
"skiplist", so -0 is required exactly only of a large set."""

import random
import time

import pytest
import redis

from conftest import RespConnection, RespError, Double, HOST, start_cairnd, stop_server

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
LIMIT_ERROR = ("syntax error, LIMIT is only supported in combination with either BYSCORE or "
               "BYLEX")
WITHSCORES_BYLEX_ERROR = "syntax error, WITHSCORES not supported in combination with BYLEX"
NOT_A_FLOAT = "value is not a valid float"
BOUND_NOT_A_FLOAT = "min or max is not a float"
BOUND_NOT_LEX = "min or max not valid string range item"
NOT_AN_INTEGER = "value is not an integer or out of range"
LISTPACK_ENTRIES_MAX = 128  # Redis's zset-max-listpack-entries: above it a set is a skiplist


def err(client, *args):
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def with_scores(client, key):
    """The whole set as [(member, score bytes)] in order."""
    flat = client.execute_command("ZRANGE", key, "0", "-1", "WITHSCORES")
    return list(zip(flat[0::2], flat[1::2]))


def members(client, key):
    return client.execute_command("ZRANGE", key, "0", "-1")


def zadd5(client, key="z"):
    client.execute_command("ZADD", key, "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")


# ---------------------------------------------------------------------------------------------
# ZADD


def test_zadd_counts_new_members_and_the_last_score_of_a_member_wins(c):
    assert c.execute_command("ZADD", "z", "1", "a", "2", "b") == 2
    assert c.execute_command("ZADD", "z", "10", "a", "3", "c") == 1, "updates are not counted"
    assert c.execute_command("ZADD", "z", "1", "d", "7", "d", "4", "d") == 1  # named thrice
    assert c.execute_command("ZSCORE", "z", "d") == b"4"
    assert c.execute_command("ZADD", "z", "5", "a", "6", "a") == 0
    assert c.execute_command("ZSCORE", "z", "a") == b"6"
    assert c.execute_command("ZCARD", "z") == 4
    assert c.execute_command("ZCARD", "nokey") == 0
    assert c.execute_command("ZSCORE", "z", "nope") is None
    assert c.execute_command("ZSCORE", "nokey", "a") is None
    assert with_scores(c, "z") == [(b"b", b"2"), (b"c", b"3"), (b"d", b"4"), (b"a", b"6")]


def test_zadd_nx_xx_gt_lt_ch(c):
    c.execute_command("ZADD", "z", "5", "a", "5", "b")
    assert c.execute_command("ZADD", "z", "NX", "1", "a", "1", "new") == 1
    assert c.execute_command("ZSCORE", "z", "a") == b"5", "NX leaves existing members alone"
    assert c.execute_command("ZADD", "z", "XX", "1", "a", "1", "absent") == 0
    assert c.execute_command("ZSCORE", "z", "a") == b"1", "XX updates existing members"
    assert c.execute_command("ZSCORE", "z", "absent") is None, "XX adds nothing"
    assert c.execute_command("ZADD", "z", "XX", "1", "absent") == 0
    assert c.execute_command("EXISTS", "absent") == 0
    # GT / LT update only upward / downward, but still add new members.
    assert c.execute_command("ZADD", "z", "GT", "CH", "3", "a", "2", "b", "1", "gtnew") == 2
    assert c.execute_command("ZSCORE", "z", "a") == b"3"
    assert c.execute_command("ZSCORE", "z", "b") == b"5"
    assert c.execute_command("ZSCORE", "z", "gtnew") == b"1"
    assert c.execute_command("ZADD", "z", "LT", "CH", "9", "a", "0", "b", "7", "ltnew") == 2
    assert c.execute_command("ZSCORE", "z", "a") == b"3"
    assert c.execute_command("ZSCORE", "z", "b") == b"0"
    assert c.execute_command("ZADD", "z", "XX", "GT", "CH", "1", "b", "4", "a", "1", "x") == 2
    assert c.execute_command("ZSCORE", "z", "x") is None
    # CH counts changed scores as well as new members; an unchanged score is not a change.
    assert c.execute_command("ZADD", "z", "CH", "4", "a", "100", "b", "1", "c2") == 2
    assert c.execute_command("ZADD", "z", "gt", "ch", "1000", "b") == 1, "options are case-blind"
    assert c.execute_command("ZADD", "z", "GT", "CH", "1000", "b") == 0


def test_zadd_incr(c):
    assert c.execute_command("ZADD", "z", "INCR", "1.5", "a") == b"1.5"
    assert c.execute_command("ZADD", "z", "INCR", "2", "a") == b"3.5"
    assert c.execute_command("ZADD", "z", "CH", "INCR", "1", "a") == b"4.5"
    assert c.execute_command("ZADD", "z", "NX", "INCR", "1", "a") is None
    assert c.execute_command("ZADD", "z", "XX", "INCR", "1", "absent") is None
    assert c.execute_command("ZSCORE", "z", "absent") is None
    assert c.execute_command("ZADD", "z", "GT", "INCR", "-1", "a") is None
    assert c.execute_command("ZADD", "z", "GT", "INCR", "1", "a") == b"5.5"
    assert c.execute_command("ZADD", "z", "LT", "INCR", "1", "a") is None
    assert c.execute_command("ZADD", "z", "LT", "INCR", "-0.5", "a") == b"5"
    assert c.execute_command("ZSCORE", "z", "a") == b"5"
    assert c.execute_command("ZADD", "z", "INCR", "+inf", "i") == b"inf"
    assert err(c, "ZADD", "z", "INCR", "-inf", "i") == "resulting score is not a number (NaN)"
    assert c.execute_command("ZSCORE", "z", "i") == b"inf", "a NaN result changes nothing"
    assert err(c, "ZADD", "z", "INCR", "1", "a", "2", "b") == \
        "INCR option supports a single increment-element pair"
    assert c.execute_command("ZSCORE", "z", "b") is None


def test_zadd_invalid_option_combinations(c):
    assert err(c, "ZADD", "z", "NX", "XX", "1", "a") == \
        "XX and NX options at the same time are not compatible"
    incompatible = "GT, LT, and/or NX options at the same time are not compatible"
    assert err(c, "ZADD", "z", "GT", "LT", "1", "a") == incompatible
    assert err(c, "ZADD", "z", "NX", "GT", "1", "a") == incompatible
    assert err(c, "ZADD", "z", "LT", "NX", "1", "a") == incompatible
    assert err(c, "ZADD", "z", "NX", "INCR", "1", "a", "2", "b") == \
        "INCR option supports a single increment-element pair"
    assert err(c, "ZADD", "z", "BOGUS", "1", "a") == "syntax error"
    assert err(c, "ZADD", "z", "1", "a", "2") == "syntax error"
    assert err(c, "ZADD", "z", "NX", "1") == "syntax error"
    assert err(c, "ZADD", "z", "1") == "wrong number of arguments for 'zadd' command"
    assert err(c, "ZADD", "z", "NX") == "wrong number of arguments for 'zadd' command"
    assert c.execute_command("EXISTS", "z") == 0, "no error leaves a key behind"


def test_score_parsing(c):
    for bad in ("x", "nan", "NaN", "", " 1", "1 ", "1e400", "-1e400", "1e-400", "1.5.5", "--1"):
        assert err(c, "ZADD", "z", bad, "a") == NOT_A_FLOAT, bad
        assert err(c, "ZINCRBY", "z", bad, "a") == NOT_A_FLOAT, bad
    assert err(c, "ZADD", "z2", "1", "a", "x", "b") == NOT_A_FLOAT
    assert c.execute_command("EXISTS", "z2") == 0, "an invalid score adds none of the pairs"
    assert c.execute_command("ZADD", "z", "inf", "p", "-inf", "n", "+inf", "p2") == 3
    assert c.execute_command("ZADD", "z", "Infinity", "p3", "-INF", "n2", "0x10", "hex") == 3
    assert c.execute_command("ZADD", "z", "1e2", "e", "+5", "plus", ".5", "dot") == 3
    assert c.execute_command("ZSCORE", "z", "p") == b"inf"
    assert c.execute_command("ZSCORE", "z", "p3") == b"inf"
    assert c.execute_command("ZSCORE", "z", "n") == b"-inf"
    assert c.execute_command("ZSCORE", "z", "n2") == b"-inf"
    assert c.execute_command("ZSCORE", "z", "hex") == b"16", "strtod reads hexadecimal"
    assert c.execute_command("ZSCORE", "z", "e") == b"100"
    assert c.execute_command("ZSCORE", "z", "plus") == b"5"
    assert c.execute_command("ZSCORE", "z", "dot") == b"0.5"


def test_a_nan_score_in_a_multi_pair_zadd_fails_the_whole_command(c):
    c.execute_command("ZADD", "z", "1", "keep")
    assert err(c, "ZADD", "z", "2", "a", "nan", "b") == NOT_A_FLOAT
    assert members(c, "z") == [b"keep"]


def test_scores_are_formatted_as_redis_7_0_formats_them(c):
    cases = [("1.5", b"1.5"), ("3.0", b"3"), ("-2.5", b"-2.5"), ("100", b"100"),
             ("1e20", b"1e+20"), ("1e15", b"1000000000000000"),
             ("1e16", b"10000000000000000"), ("1e17", b"1e+17"),
             ("123456789012345678", b"1.2345678901234568e+17"), ("12345.678", b"12345.678"),
             ("0.1", b"0.10000000000000001"), ("0.30000000000000004", b"0.30000000000000004"),
             ("1e-5", b"1.0000000000000001e-05"), ("1e-7", b"9.9999999999999995e-08"),
             ("1.0000000000000002", b"1.0000000000000002"),
             ("1.7976931348623157e308", b"1.7976931348623157e+308"),
             ("4.9e-324", b"4.9406564584124654e-324"), ("-1e-300", b"-1e-300"),
             ("inf", b"inf"), ("-inf", b"-inf"), ("0", b"0"), ("9007199254740993",
                                                              b"9007199254740992")]
    for i, (given, expected) in enumerate(cases):
        member = "m%d" % i
        assert c.execute_command("ZADD", "z", given, member) == 1, given
        assert c.execute_command("ZSCORE", "z", member) == expected, given
    expected = dict(("m%d" % i, e) for i, (_, e) in enumerate(cases))
    for member, score in with_scores(c, "z"):
        assert score == expected[member.decode()], member
    assert c.execute_command("ZINCRBY", "inc", "0.1", "m") == b"0.10000000000000001"
    assert c.execute_command("ZINCRBY", "inc", "0.2", "m") == b"0.30000000000000004"
    assert c.execute_command("ZADD", "inc", "INCR", "1e20", "m") == b"1e+20"


def test_negative_zero(c, is_redis):
    # The increment's result is replied as computed: -0 stays -0.
    assert c.execute_command("ZINCRBY", "z", "-0", "m") == b"-0"
    assert c.execute_command("ZADD", "z", "INCR", "-0.0", "n") == b"-0"
    assert c.execute_command("ZINCRBY", "z", "0", "p") == b"0"
    # Stored in a small set: Redis's listpack answers 0, a skiplist -0 (see the module doc).
    assert c.execute_command("ZADD", "z", "-0", "q") == 1
    assert c.execute_command("ZSCORE", "z", "q") in (b"0", b"-0")
    assert c.execute_command("ZCOUNT", "z", "0", "0") == 4, "-0 equals 0"
    assert c.execute_command("ZCOUNT", "z", "(0", "+inf") == 0
    # In a large set Redis's skiplist reads a stored -0 back as -0; Cairn stores every -0 as 0,
    # as Redis's small sets do (docs/keyspace-format.md, "Differences from Redis").
    c.execute_command("ZADD", "big", *[x for i in range(LISTPACK_ENTRIES_MAX + 10)
                                      for x in (str(i + 1), "m%d" % i)])
    assert c.execute_command("ZADD", "big", "-0", "negzero") == 1
    stored = b"-0" if is_redis else b"0"
    assert c.execute_command("ZSCORE", "big", "negzero") == stored
    assert c.execute_command("ZRANGE", "big", "0", "0", "WITHSCORES") == [b"negzero", stored]


def test_equal_scores_are_ordered_by_member_bytes(c):
    names = [b"b", b"a", b"", b"B", b"aa", b"\x00", b"\xff", b"ab", b"a\x00", b"0", b"10", b"9"]
    c.execute_command("ZADD", "z", *[x for n in names for x in (b"7", n)])
    assert members(c, "z") == sorted(names)
    assert c.execute_command("ZREVRANGE", "z", "0", "-1") == sorted(names, reverse=True)
    c.execute_command("ZADD", "z", "1", "zz", "100", "\x00first?")
    assert members(c, "z") == [b"zz"] + sorted(names) + [b"\x00first?"], \
        "the score orders first, the bytes only among equal scores"
    assert c.execute_command("ZRANK", "z", b"\xff") == len(names)


# ---------------------------------------------------------------------------------------------
# ZREM, ZSCORE, ZMSCORE, ZINCRBY, ZCARD, ZCOUNT, ZLEXCOUNT


def test_zrem_removes_the_key_with_its_last_member(c):
    zadd5(c)
    assert c.execute_command("ZREM", "z", "a", "nope", "a") == 1
    assert c.execute_command("ZREM", "nokey", "a") == 0
    assert c.execute_command("ZCARD", "z") == 4
    assert c.execute_command("ZREM", "z", "b", "c", "d", "e") == 4
    assert c.execute_command("EXISTS", "z") == 0
    assert c.execute_command("TYPE", "z") == b"none"
    assert c.execute_command("ZRANGE", "z", "0", "-1") == []
    assert err(c, "ZREM", "z") == "wrong number of arguments for 'zrem' command"
    assert c.execute_command("ZADD", "z", "1", "new") == 1
    assert members(c, "z") == [b"new"], "a set emptied by ZREM comes back empty"


def test_zmscore(c):
    c.execute_command("ZADD", "z", "1.5", "a", "-inf", "b")
    assert c.execute_command("ZMSCORE", "z", "a", "nope", "b", "a") == [b"1.5", None, b"-inf",
                                                                        b"1.5"]
    assert c.execute_command("ZMSCORE", "nokey", "a", "b") == [None, None]
    assert err(c, "ZMSCORE", "z") == "wrong number of arguments for 'zmscore' command"
    assert err(c, "ZSCORE", "z") == "wrong number of arguments for 'zscore' command"
    assert err(c, "ZSCORE", "z", "a", "b") == "wrong number of arguments for 'zscore' command"


def test_zincrby(c):
    assert c.execute_command("ZINCRBY", "z", "2.5", "m") == b"2.5", "creates key and member"
    assert c.execute_command("ZINCRBY", "z", "-3", "m") == b"-0.5"
    assert c.execute_command("ZINCRBY", "z", "5", "n") == b"5"
    assert members(c, "z") == [b"m", b"n"]
    assert c.execute_command("ZINCRBY", "z", "10", "m") == b"9.5"
    assert members(c, "z") == [b"n", b"m"], "an increment moves the member"
    assert c.execute_command("ZINCRBY", "z", "inf", "m") == b"inf"
    assert c.execute_command("ZINCRBY", "z", "1", "m") == b"inf"
    assert err(c, "ZINCRBY", "z", "-inf", "m") == "resulting score is not a number (NaN)"
    assert c.execute_command("ZSCORE", "z", "m") == b"inf"
    assert err(c, "ZINCRBY", "z", "1") == "wrong number of arguments for 'zincrby' command"
    assert err(c, "ZINCRBY", "z", "1", "m", "x") == \
        "wrong number of arguments for 'zincrby' command"


def test_zcount(c):
    zadd5(c)
    c.execute_command("ZADD", "z", "-inf", "lo", "inf", "hi")
    assert c.execute_command("ZCOUNT", "z", "2", "4") == 3
    assert c.execute_command("ZCOUNT", "z", "(2", "(4") == 1
    assert c.execute_command("ZCOUNT", "z", "(2", "4") == 2
    assert c.execute_command("ZCOUNT", "z", "-inf", "+inf") == 7
    assert c.execute_command("ZCOUNT", "z", "(-inf", "(+inf") == 5
    assert c.execute_command("ZCOUNT", "z", "inf", "inf") == 1
    assert c.execute_command("ZCOUNT", "z", "4", "2") == 0
    assert c.execute_command("ZCOUNT", "z", "(3", "(3") == 0
    assert c.execute_command("ZCOUNT", "z", "3", "3") == 1
    assert c.execute_command("ZCOUNT", "z", "2.5", "3.5") == 1
    assert c.execute_command("ZCOUNT", "z", "-1e400", "1e400") == 7, "overflow reads as +-inf"
    assert c.execute_command("ZCOUNT", "nokey", "0", "1") == 0
    for bad in (("x", "1"), ("1", "x"), ("nan", "1"), ("(nan", "1"), ("((1", "2"), ("1 ", "2"),
                ("[1", "2")):
        assert err(c, "ZCOUNT", "z", *bad) == BOUND_NOT_A_FLOAT, bad


def test_zlexcount(c):
    c.execute_command("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e")
    assert c.execute_command("ZLEXCOUNT", "z", "-", "+") == 5
    assert c.execute_command("ZLEXCOUNT", "z", "[b", "[d") == 3
    assert c.execute_command("ZLEXCOUNT", "z", "(b", "(d") == 1
    assert c.execute_command("ZLEXCOUNT", "z", "(a", "+") == 4
    assert c.execute_command("ZLEXCOUNT", "z", "[d", "[b") == 0
    assert c.execute_command("ZLEXCOUNT", "z", "+", "-") == 0
    assert c.execute_command("ZLEXCOUNT", "nokey", "-", "+") == 0
    for bad in (("b", "d"), ("[b", "d"), ("a", "+"), ("-", "x")):
        assert err(c, "ZLEXCOUNT", "z", *bad) == BOUND_NOT_LEX, bad


# ---------------------------------------------------------------------------------------------
# ZRANGE and the legacy range commands


def test_zrange_by_rank(c):
    zadd5(c)
    assert members(c, "z") == [b"a", b"b", b"c", b"d", b"e"]
    assert c.execute_command("ZRANGE", "z", "1", "2") == [b"b", b"c"]
    assert c.execute_command("ZRANGE", "z", "-2", "-1") == [b"d", b"e"]
    assert c.execute_command("ZRANGE", "z", "-100", "100") == [b"a", b"b", b"c", b"d", b"e"]
    assert c.execute_command("ZRANGE", "z", "3", "1") == []
    assert c.execute_command("ZRANGE", "z", "5", "10") == []
    assert c.execute_command("ZRANGE", "z", "0", "0") == [b"a"]
    assert c.execute_command("ZRANGE", "z", "-9223372036854775808", "9223372036854775807") == \
        [b"a", b"b", b"c", b"d", b"e"]
    assert c.execute_command("ZRANGE", "z", "0", "1", "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert c.execute_command("ZRANGE", "z", "0", "1", "REV") == [b"e", b"d"]
    assert c.execute_command("ZRANGE", "z", "-2", "-1", "REV", "WITHSCORES") == \
        [b"b", b"2", b"a", b"1"]
    assert c.execute_command("ZRANGE", "z", "0", "0", "withscores", "WITHSCORES") == \
        [b"a", b"1"], "a repeated option is accepted"
    assert c.execute_command("ZRANGE", "nokey", "0", "-1") == []
    for bad in (("x", "1"), ("0", "1.5"), ("(1", "2"), ("0", "9223372036854775808")):
        assert err(c, "ZRANGE", "z", *bad) == NOT_AN_INTEGER, bad
    assert err(c, "ZRANGE", "z", "0") == "wrong number of arguments for 'zrange' command"


def test_zrange_byscore(c):
    zadd5(c)
    c.execute_command("ZADD", "z", "-inf", "lo", "inf", "hi")
    assert c.execute_command("ZRANGE", "z", "2", "4", "BYSCORE") == [b"b", b"c", b"d"]
    assert c.execute_command("ZRANGE", "z", "(1", "3", "BYSCORE", "WITHSCORES") == \
        [b"b", b"2", b"c", b"3"]
    assert c.execute_command("ZRANGE", "z", "(1", "(3", "BYSCORE") == [b"b"]
    assert c.execute_command("ZRANGE", "z", "-inf", "+inf", "BYSCORE") == \
        [b"lo", b"a", b"b", b"c", b"d", b"e", b"hi"]
    assert c.execute_command("ZRANGE", "z", "(-inf", "(+inf", "BYSCORE") == \
        [b"a", b"b", b"c", b"d", b"e"]
    assert c.execute_command("ZRANGE", "z", "-inf", "-inf", "BYSCORE", "WITHSCORES") == \
        [b"lo", b"-inf"]
    assert c.execute_command("ZRANGE", "z", "(inf", "+inf", "BYSCORE") == []
    assert c.execute_command("ZRANGE", "z", "4", "2", "BYSCORE") == []
    # REV takes the bounds as max then min.
    assert c.execute_command("ZRANGE", "z", "4", "2", "BYSCORE", "REV") == [b"d", b"c", b"b"]
    assert c.execute_command("ZRANGE", "z", "2", "4", "BYSCORE", "REV") == []
    assert c.execute_command("ZRANGE", "z", "(4", "-inf", "BYSCORE", "REV", "WITHSCORES") == \
        [b"c", b"3", b"b", b"2", b"a", b"1", b"lo", b"-inf"]
    # LIMIT offset count: a negative count means all the rest, a negative offset nothing.
    assert c.execute_command("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2") == \
        [b"a", b"b"]
    assert c.execute_command("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "5", "-1") == \
        [b"e", b"hi"]
    assert c.execute_command("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "0", "0") == []
    assert c.execute_command("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2") == []
    assert c.execute_command("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "10", "2") == []
    assert c.execute_command("ZRANGE", "z", "5", "3", "BYSCORE", "REV", "LIMIT", "1", "1") == \
        [b"d"]
    assert c.execute_command("ZRANGE", "z", "2", "4", "BYSCORE", "LIMIT", "1", "5",
                             "WITHSCORES") == [b"c", b"3", b"d", b"4"]
    assert c.execute_command("ZRANGE", "nokey", "-inf", "+inf", "BYSCORE") == []
    for bad in (("1", "x"), ("x", "1"), ("nan", "1"), ("(nan", "1"), ("((1", "2"), ("1 ", "2")):
        assert err(c, "ZRANGE", "z", bad[0], bad[1], "BYSCORE") == BOUND_NOT_A_FLOAT, bad


def test_score_bound_parsing_as_redis_7_0(c):
    """Redis reads a score bound with strtod and requires only that it consume the whole string:
    so "" and "(" are 0, leading spaces and hexadecimal are accepted, overflow is +-inf."""
    c.execute_command("ZADD", "z", "-1", "neg", "0", "zero", "1", "a", "2", "b", "16", "p")
    assert c.execute_command("ZRANGE", "z", "", "2", "BYSCORE") == [b"zero", b"a", b"b"]
    assert c.execute_command("ZRANGE", "z", "(", "2", "BYSCORE") == [b"a", b"b"]
    assert c.execute_command("ZRANGE", "z", " 1", "2", "BYSCORE") == [b"a", b"b"]
    assert c.execute_command("ZRANGE", "z", "0x2", "0x10", "BYSCORE") == [b"b", b"p"]
    assert c.execute_command("ZRANGE", "z", "-inf", "1e400", "BYSCORE") == \
        [b"neg", b"zero", b"a", b"b", b"p"]
    assert c.execute_command("ZCOUNT", "z", "-1e400", "(0") == 1


def test_zrange_bylex(c):
    c.execute_command("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e")
    assert c.execute_command("ZRANGE", "z", "-", "+", "BYLEX") == [b"a", b"b", b"c", b"d", b"e"]
    assert c.execute_command("ZRANGE", "z", "[b", "(d", "BYLEX") == [b"b", b"c"]
    assert c.execute_command("ZRANGE", "z", "(b", "[d", "BYLEX") == [b"c", b"d"]
    assert c.execute_command("ZRANGE", "z", "[bb", "+", "BYLEX") == [b"c", b"d", b"e"]
    assert c.execute_command("ZRANGE", "z", "[d", "[b", "BYLEX") == []
    assert c.execute_command("ZRANGE", "z", "+", "-", "BYLEX") == []
    assert c.execute_command("ZRANGE", "z", "+", "-", "BYLEX", "REV") == \
        [b"e", b"d", b"c", b"b", b"a"]
    assert c.execute_command("ZRANGE", "z", "(d", "[b", "BYLEX", "REV") == [b"c", b"b"]
    assert c.execute_command("ZRANGE", "z", "-", "+", "BYLEX", "REV") == []
    assert c.execute_command("ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", "1", "2") == [b"b", b"c"]
    assert c.execute_command("ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", "1", "-1") == \
        [b"d", b"c", b"b", b"a"]
    # "[" and "(" alone are the empty string, inclusive and exclusive.
    c.execute_command("ZADD", "z", "0", "")
    assert c.execute_command("ZRANGE", "z", "-", "[", "BYLEX") == [b""]
    assert c.execute_command("ZRANGE", "z", "-", "(", "BYLEX") == []
    assert c.execute_command("ZRANGE", "z", "(", "[a", "BYLEX") == [b"a"]
    assert c.execute_command("ZRANGE", "nokey", "-", "+", "BYLEX") == []
    for bad in (("a", "+"), ("[a", "x"), ("-", "b"), ("", "+")):
        assert err(c, "ZRANGE", "z", bad[0], bad[1], "BYLEX") == BOUND_NOT_LEX, bad


def test_zrange_option_errors(c):
    zadd5(c)
    assert err(c, "ZRANGE", "z", "0", "-1", "LIMIT", "0", "1") == LIMIT_ERROR
    assert err(c, "ZRANGE", "z", "0", "-1", "REV", "LIMIT", "0", "1") == LIMIT_ERROR
    # Only a count other than -1 (LIMIT's default) is refused; a rank range ignores the offset.
    assert err(c, "ZRANGE", "z", "0", "-1", "LIMIT", "0", "-2") == LIMIT_ERROR
    assert c.execute_command("ZRANGE", "z", "0", "0", "LIMIT", "3", "-1") == \
        c.execute_command("ZRANGE", "z", "0", "0")
    assert err(c, "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == WITHSCORES_BYLEX_ERROR
    assert err(c, "ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX") == "syntax error"
    assert err(c, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "1") == "syntax error"
    assert err(c, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "x", "1") == NOT_AN_INTEGER
    assert err(c, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "1", "x") == NOT_AN_INTEGER
    assert err(c, "ZRANGE", "z", "0", "-1", "BOGUS") == "syntax error"
    assert err(c, "ZRANGE", "nokey", "0", "-1", "LIMIT", "0", "1") == LIMIT_ERROR


def test_zrangebyscore_zrevrangebyscore(c):
    zadd5(c)
    assert c.execute_command("ZRANGEBYSCORE", "z", "1", "3") == [b"a", b"b", b"c"]
    assert c.execute_command("ZRANGEBYSCORE", "z", "(1", "+inf", "WITHSCORES") == \
        [b"b", b"2", b"c", b"3", b"d", b"4", b"e", b"5"]
    assert c.execute_command("ZRANGEBYSCORE", "z", "1", "3", "WITHSCORES", "LIMIT", "1", "1") == \
        [b"b", b"2"]
    assert c.execute_command("ZRANGEBYSCORE", "z", "1", "3", "LIMIT", "1", "1", "WITHSCORES") == \
        [b"b", b"2"]
    assert c.execute_command("ZRANGEBYSCORE", "z", "3", "1") == []
    assert c.execute_command("ZREVRANGEBYSCORE", "z", "3", "1") == [b"c", b"b", b"a"]
    assert c.execute_command("ZREVRANGEBYSCORE", "z", "1", "3") == []
    assert c.execute_command("ZREVRANGEBYSCORE", "z", "(5", "(1", "WITHSCORES") == \
        [b"d", b"4", b"c", b"3", b"b", b"2"]
    assert c.execute_command("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "-1") == \
        [b"d", b"c", b"b", b"a"]
    assert c.execute_command("ZRANGEBYSCORE", "nokey", "-inf", "+inf") == []
    assert err(c, "ZRANGEBYSCORE", "z", "1", "3", "LIMIT", "1") == "syntax error"
    assert err(c, "ZRANGEBYSCORE", "z", "1", "3", "BOGUS") == "syntax error"
    assert err(c, "ZRANGEBYSCORE", "z", "1", "x") == BOUND_NOT_A_FLOAT
    assert err(c, "ZREVRANGEBYSCORE", "z", "x", "1") == BOUND_NOT_A_FLOAT
    assert err(c, "ZRANGEBYSCORE", "z", "1") == \
        "wrong number of arguments for 'zrangebyscore' command"


def test_zrangebylex_zrevrangebylex(c):
    c.execute_command("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e")
    assert c.execute_command("ZRANGEBYLEX", "z", "-", "+") == [b"a", b"b", b"c", b"d", b"e"]
    assert c.execute_command("ZRANGEBYLEX", "z", "[b", "(d") == [b"b", b"c"]
    assert c.execute_command("ZRANGEBYLEX", "z", "-", "+", "LIMIT", "1", "2") == [b"b", b"c"]
    assert c.execute_command("ZREVRANGEBYLEX", "z", "+", "-") == [b"e", b"d", b"c", b"b", b"a"]
    assert c.execute_command("ZREVRANGEBYLEX", "z", "(d", "[b") == [b"c", b"b"]
    assert c.execute_command("ZREVRANGEBYLEX", "z", "-", "+") == []
    assert c.execute_command("ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", "1", "2") == [b"d", b"c"]
    assert c.execute_command("ZRANGEBYLEX", "nokey", "-", "+") == []
    assert err(c, "ZRANGEBYLEX", "z", "b", "d") == BOUND_NOT_LEX
    assert err(c, "ZREVRANGEBYLEX", "z", "+", "b") == BOUND_NOT_LEX
    assert err(c, "ZRANGEBYLEX", "z", "-", "+", "WITHSCORES") == WITHSCORES_BYLEX_ERROR
    assert err(c, "ZRANGEBYLEX", "z", "-", "+", "LIMIT", "1") == "syntax error"
    assert err(c, "ZRANGEBYLEX", "z", "-") == "wrong number of arguments for 'zrangebylex' command"


def test_lex_ranges_compare_bytes(c):
    names = [b"", b"B", b"\x00", b"a", b"aa", b"a\x00", b"b", b"\xff", b"\x80x"]
    c.execute_command("ZADD", "z", *[x for n in names for x in (b"0", n)])
    assert c.execute_command("ZRANGEBYLEX", "z", "-", "+") == sorted(names)
    assert c.execute_command("ZRANGEBYLEX", "z", "[a", "[b") == [b"a", b"a\x00", b"aa", b"b"]
    assert c.execute_command("ZRANGEBYLEX", "z", "(a", "(b") == [b"a\x00", b"aa"]
    assert c.execute_command("ZRANGEBYLEX", "z", b"(\x7f", "+") == [b"\x80x", b"\xff"]
    assert c.execute_command("ZLEXCOUNT", "z", "-", "(a") == 3


def test_zrevrange(c):
    zadd5(c)
    assert c.execute_command("ZREVRANGE", "z", "0", "1") == [b"e", b"d"]
    assert c.execute_command("ZREVRANGE", "z", "0", "1", "WITHSCORES") == \
        [b"e", b"5", b"d", b"4"]
    assert c.execute_command("ZREVRANGE", "z", "-1", "-1") == [b"a"]
    assert c.execute_command("ZREVRANGE", "z", "10", "20") == []
    assert c.execute_command("ZREVRANGE", "nokey", "0", "-1") == []
    assert err(c, "ZREVRANGE", "z", "0", "1", "BYSCORE") == "syntax error"
    assert err(c, "ZREVRANGE", "z", "x", "1") == NOT_AN_INTEGER


def test_zrank_zrevrank(c, is_redis):
    zadd5(c)
    assert c.execute_command("ZRANK", "z", "a") == 0
    assert c.execute_command("ZRANK", "z", "c") == 2
    assert c.execute_command("ZREVRANK", "z", "a") == 4
    assert c.execute_command("ZREVRANK", "z", "e") == 0
    assert c.execute_command("ZRANK", "z", "nope") is None
    assert c.execute_command("ZREVRANK", "z", "nope") is None
    assert c.execute_command("ZRANK", "nokey", "a") is None
    if is_redis:
        # WITHSCORE arrived in Redis 7.2; 7.0 rejects the extra argument as an arity error.
        assert err(c, "ZRANK", "z", "c", "WITHSCORE") == \
            "wrong number of arguments for 'zrank' command"
        assert err(c, "ZREVRANK", "z", "c", "WITHSCORE") == \
            "wrong number of arguments for 'zrevrank' command"
    else:
        # Cairn takes Redis 7.2's WITHSCORE: [rank, score], a null array for a missing member.
        assert c.execute_command("ZRANK", "z", "c", "WITHSCORE") == [2, b"3"]
        assert c.execute_command("ZREVRANK", "z", "c", "withscore") == [2, b"3"]
        assert c.execute_command("ZRANK", "z", "nope", "WITHSCORE") is None
        assert c.execute_command("ZRANK", "nokey", "a", "WITHSCORE") is None
        assert err(c, "ZRANK", "z", "c", "WITHSCORES") == "syntax error"
        assert err(c, "ZRANK", "z", "c", "WITHSCORE", "x") == \
            "wrong number of arguments for 'zrank' command"
    assert err(c, "ZRANK", "z") == "wrong number of arguments for 'zrank' command"


# ---------------------------------------------------------------------------------------------
# Pops


def test_zpopmin_zpopmax(c):
    zadd5(c)
    c.execute_command("ZADD", "z", "1", "a2")
    assert c.execute_command("ZPOPMIN", "z") == [b"a", b"1"]
    assert c.execute_command("ZPOPMAX", "z") == [b"e", b"5"]
    assert c.execute_command("ZPOPMIN", "z", "2") == [b"a2", b"1", b"b", b"2"]
    assert c.execute_command("ZPOPMIN", "z", "1") == [b"c", b"3"]
    assert c.execute_command("ZPOPMAX", "z", "0") == []
    assert c.execute_command("ZCARD", "z") == 1
    assert c.execute_command("ZPOPMAX", "z", "10") == [b"d", b"4"]
    assert c.execute_command("EXISTS", "z") == 0, "the set popped empty is gone"
    assert c.execute_command("ZPOPMIN", "z") == []
    assert c.execute_command("ZPOPMAX", "nokey", "3") == []
    zadd5(c)
    for count in ("-1", "x", "1.5"):
        assert err(c, "ZPOPMIN", "z", count) == "value is out of range, must be positive", count
        assert err(c, "ZPOPMAX", "z", count) == "value is out of range, must be positive", count
    assert err(c, "ZPOPMIN", "z", "1", "2") == "syntax error"
    assert c.execute_command("ZCARD", "z") == 5, "the errors popped nothing"


def test_zmpop(c):
    zadd5(c)
    assert c.execute_command("ZMPOP", "1", "z", "MIN") == [b"z", [[b"a", b"1"]]]
    assert c.execute_command("ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "2") == \
        [b"z", [[b"e", b"5"], [b"d", b"4"]]]
    assert c.execute_command("ZMPOP", "1", "z", "min", "count", "10") == \
        [b"z", [[b"b", b"2"], [b"c", b"3"]]]
    assert c.execute_command("EXISTS", "z") == 0
    assert c.execute_command("ZMPOP", "2", "z", "nokey", "MIN") is None
    zadd5(c)
    assert err(c, "ZMPOP", "1", "z") == "wrong number of arguments for 'zmpop' command"
    assert err(c, "ZMPOP", "1", "z", "BOGUS") == "syntax error"
    for numkeys in ("0", "-1", "x"):
        assert err(c, "ZMPOP", numkeys, "z", "MIN") == "numkeys should be greater than 0"
    assert err(c, "ZMPOP", "2", "z", "MIN") == "syntax error"
    assert err(c, "ZMPOP", "5", "z", "MIN") == "syntax error"
    for count in ("0", "-1", "x"):
        assert err(c, "ZMPOP", "1", "z", "MIN", "COUNT", count) == \
            "count should be greater than 0"
    assert err(c, "ZMPOP", "1", "z", "MIN", "COUNT") == "syntax error"
    assert err(c, "ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "2") == "syntax error"
    assert c.execute_command("ZCARD", "z") == 5


# ---------------------------------------------------------------------------------------------
# ZRANGESTORE, set operations


def test_zrangestore(c):
    c.execute_command("ZADD", "src", "1", "a", "2", "b", "3", "c")
    assert c.execute_command("ZRANGESTORE", "d", "src", "0", "-1", "REV") == 3
    assert with_scores(c, "d") == [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]
    assert c.execute_command("ZRANGESTORE", "d", "src", "(1", "+inf", "BYSCORE", "LIMIT", "0",
                             "1") == 1
    assert with_scores(c, "d") == [(b"b", b"2")], "the destination is replaced"
    assert c.execute_command("ZRANGESTORE", "d", "src", "[b", "+", "BYLEX") == 2
    assert members(c, "d") == [b"b", b"c"]
    assert c.execute_command("ZRANGESTORE", "d", "src", "3", "1", "BYSCORE", "REV") == 3
    c.set("str", "v")
    assert c.execute_command("ZRANGESTORE", "str", "src", "0", "0") == 1
    assert c.execute_command("TYPE", "str") == b"zset", "a destination of another type is replaced"
    assert c.execute_command("ZRANGESTORE", "d", "src", "5", "10") == 0
    assert c.execute_command("EXISTS", "d") == 0, "an empty result deletes the destination"
    assert c.execute_command("ZRANGESTORE", "d", "nokey", "0", "-1") == 0
    assert c.execute_command("ZRANGESTORE", "src", "src", "0", "0") == 1
    assert with_scores(c, "src") == [(b"a", b"1")], "the source may be the destination"
    c.set("str", "v")
    assert err(c, "ZRANGESTORE", "d", "str", "0", "-1") == WRONGTYPE
    assert err(c, "ZRANGESTORE", "d", "src", "0", "-1", "WITHSCORES") == "syntax error"
    assert err(c, "ZRANGESTORE", "d", "src", "0", "-1", "LIMIT", "0", "1") == LIMIT_ERROR
    assert err(c, "ZRANGESTORE", "d", "src") == \
        "wrong number of arguments for 'zrangestore' command"


def test_zunion_zinter_zdiff(c):
    c.execute_command("ZADD", "x", "1", "a", "2", "b", "3", "c")
    c.execute_command("ZADD", "y", "10", "b", "20", "c", "30", "d")
    assert c.execute_command("ZUNION", "2", "x", "y", "WITHSCORES") == \
        [b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    assert c.execute_command("ZUNION", "2", "x", "y") == [b"a", b"b", b"c", b"d"]
    assert c.execute_command("ZUNION", "2", "x", "y", "WEIGHTS", "2", "0.5", "WITHSCORES") == \
        [b"a", b"2", b"b", b"9", b"d", b"15", b"c", b"16"]
    assert c.execute_command("ZUNION", "2", "x", "y", "AGGREGATE", "MIN", "WITHSCORES") == \
        [b"a", b"1", b"b", b"2", b"c", b"3", b"d", b"30"]
    assert c.execute_command("ZUNION", "2", "x", "y", "aggregate", "max", "withscores") == \
        [b"a", b"1", b"b", b"10", b"c", b"20", b"d", b"30"]
    assert c.execute_command("ZUNION", "2", "x", "y", "WEIGHTS", "-1", "1", "AGGREGATE", "SUM",
                             "WITHSCORES") == \
        [b"a", b"-1", b"b", b"8", b"c", b"17", b"d", b"30"]
    assert c.execute_command("ZINTER", "2", "x", "y", "WITHSCORES") == \
        [b"b", b"12", b"c", b"23"]
    assert c.execute_command("ZINTER", "2", "x", "y", "WEIGHTS", "1", "0", "AGGREGATE", "MAX",
                             "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert c.execute_command("ZINTER", "2", "x", "nokey") == []
    assert c.execute_command("ZINTER", "2", "x", "x", "WITHSCORES") == \
        [b"a", b"2", b"b", b"4", b"c", b"6"], "a key named twice counts twice"
    assert c.execute_command("ZDIFF", "2", "x", "y", "WITHSCORES") == [b"a", b"1"]
    assert c.execute_command("ZDIFF", "2", "y", "x") == [b"d"]
    assert c.execute_command("ZDIFF", "1", "x") == [b"a", b"b", b"c"]
    assert c.execute_command("ZDIFF", "2", "x", "x") == []
    assert c.execute_command("ZDIFF", "2", "nokey", "x") == []
    assert c.execute_command("ZUNION", "1", "nokey") == []


def test_plain_sets_are_inputs_with_score_1(c):
    c.execute_command("ZADD", "x", "1", "a", "2", "b", "3", "c")
    c.execute_command("SADD", "s", "a", "d", "e")
    assert c.execute_command("ZUNION", "2", "x", "s", "WITHSCORES") == \
        [b"d", b"1", b"e", b"1", b"a", b"2", b"b", b"2", b"c", b"3"]
    assert c.execute_command("ZINTER", "2", "x", "s", "WEIGHTS", "1", "5", "WITHSCORES") == \
        [b"a", b"6"]
    assert c.execute_command("ZDIFF", "2", "s", "x", "WITHSCORES") == [b"d", b"1", b"e", b"1"]
    assert c.execute_command("ZINTERCARD", "2", "x", "s") == 1
    assert c.execute_command("ZUNIONSTORE", "d", "1", "s") == 3
    assert c.execute_command("TYPE", "d") == b"zset"
    assert with_scores(c, "d") == [(b"a", b"1"), (b"d", b"1"), (b"e", b"1")]


def test_set_operations_with_infinities(c):
    c.execute_command("ZADD", "p", "inf", "a", "1", "b", "0", "z")
    c.execute_command("ZADD", "n", "-inf", "a", "2", "b")
    assert c.execute_command("ZUNION", "2", "p", "n", "WITHSCORES") == \
        [b"a", b"0", b"z", b"0", b"b", b"3"], "inf + -inf sums to 0, not NaN"
    assert c.execute_command("ZINTER", "2", "p", "n", "AGGREGATE", "MIN", "WITHSCORES") == \
        [b"a", b"-inf", b"b", b"1"]
    assert c.execute_command("ZUNION", "1", "p", "WEIGHTS", "0", "WITHSCORES") == \
        [b"a", b"0", b"b", b"0", b"z", b"0"], "inf * 0 is 0, not NaN"
    assert c.execute_command("ZUNION", "1", "p", "WEIGHTS", "inf", "WITHSCORES") == \
        [b"z", b"0", b"a", b"inf", b"b", b"inf"]
    assert c.execute_command("ZUNION", "1", "p", "WEIGHTS", "-inf", "WITHSCORES") == \
        [b"a", b"-inf", b"b", b"-inf", b"z", b"0"]


def test_store_variants_replace_the_destination(c):
    c.execute_command("ZADD", "x", "1", "a", "2", "b", "3", "c")
    c.execute_command("ZADD", "y", "10", "b", "20", "c", "30", "d")
    c.set("dest", "a string")
    assert c.execute_command("ZUNIONSTORE", "dest", "2", "x", "y") == 4
    assert c.execute_command("TYPE", "dest") == b"zset"
    assert with_scores(c, "dest") == [(b"a", b"1"), (b"b", b"12"), (b"c", b"23"), (b"d", b"30")]
    assert c.execute_command("ZINTERSTORE", "dest", "2", "x", "y", "AGGREGATE", "MAX") == 2
    assert with_scores(c, "dest") == [(b"b", b"10"), (b"c", b"20")]
    assert c.execute_command("ZINTERSTORE", "dest", "2", "x", "y", "WEIGHTS", "3", "1") == 2
    assert with_scores(c, "dest") == [(b"b", b"16"), (b"c", b"29")]
    assert c.execute_command("ZDIFFSTORE", "dest", "2", "x", "y") == 1
    assert with_scores(c, "dest") == [(b"a", b"1")]
    assert c.execute_command("ZUNIONSTORE", "x", "2", "x", "y") == 4, \
        "the destination may be a source"
    assert with_scores(c, "x") == [(b"a", b"1"), (b"b", b"12"), (b"c", b"23"), (b"d", b"30")]
    assert c.execute_command("ZINTERSTORE", "dest", "2", "x", "nokey") == 0
    assert c.execute_command("EXISTS", "dest") == 0, "an empty result removes the destination"
    c.set("str", "v")
    assert c.execute_command("ZDIFFSTORE", "str", "1", "nokey") == 0
    assert c.execute_command("EXISTS", "str") == 0, "even a destination of another type"
    c.execute_command("EXPIRE", "y", "100")
    assert c.execute_command("ZUNIONSTORE", "y", "1", "y") == 3
    assert c.execute_command("TTL", "y") == -1, "a stored result has no TTL"


def test_set_operation_errors(c):
    c.execute_command("ZADD", "x", "1", "a")
    c.execute_command("ZADD", "y", "2", "a")
    for command in ("ZUNION", "ZINTER", "ZDIFF"):
        lower = command.lower()
        assert err(c, command, "0", "x") == \
            "at least 1 input key is needed for '%s' command" % lower
        assert err(c, command, "-1", "x") == \
            "at least 1 input key is needed for '%s' command" % lower
        assert err(c, command, "x", "x") == NOT_AN_INTEGER
        assert err(c, command, "3", "x", "y") == "syntax error"
        assert err(c, command, "2", "x", "y", "BOGUS") == "syntax error"
    assert err(c, "ZUNIONSTORE", "d", "0", "x") == \
        "at least 1 input key is needed for 'zunionstore' command"
    assert err(c, "ZUNION", "2", "x", "y", "WEIGHTS", "1") == "syntax error"
    assert err(c, "ZUNION", "2", "x", "y", "WEIGHTS", "1", "2", "3") == "syntax error"
    assert err(c, "ZUNION", "2", "x", "y", "WEIGHTS", "1", "x") == "weight value is not a float"
    assert err(c, "ZINTER", "2", "x", "y", "WEIGHTS", "1", "nan") == "weight value is not a float"
    assert err(c, "ZUNION", "2", "x", "y", "AGGREGATE", "AVG") == "syntax error"
    assert err(c, "ZUNION", "2", "x", "y", "AGGREGATE") == "syntax error"
    assert err(c, "ZDIFF", "2", "x", "y", "WEIGHTS", "1", "2") == "syntax error"
    assert err(c, "ZDIFF", "2", "x", "y", "AGGREGATE", "MIN") == "syntax error"
    assert err(c, "ZDIFFSTORE", "d", "2", "x", "y", "WEIGHTS", "1", "2") == "syntax error"
    assert err(c, "ZUNIONSTORE", "d", "2", "x", "y", "WITHSCORES") == "syntax error"
    assert err(c, "ZINTERSTORE", "d", "2", "x", "y", "WITHSCORES") == "syntax error"
    assert c.execute_command("EXISTS", "d") == 0


def test_zintercard(c):
    c.execute_command("ZADD", "x", "1", "a", "2", "b", "3", "c")
    c.execute_command("ZADD", "y", "10", "b", "20", "c", "30", "d")
    assert c.execute_command("ZINTERCARD", "2", "x", "y") == 2
    assert c.execute_command("ZINTERCARD", "2", "x", "y", "LIMIT", "1") == 1
    assert c.execute_command("ZINTERCARD", "2", "x", "y", "LIMIT", "0") == 2, "0 is no limit"
    assert c.execute_command("ZINTERCARD", "1", "x") == 3
    assert c.execute_command("ZINTERCARD", "2", "x", "nokey") == 0
    assert err(c, "ZINTERCARD", "2", "x", "y", "LIMIT", "-1") == "LIMIT can't be negative"
    assert err(c, "ZINTERCARD", "2", "x", "y", "LIMIT", "x") == "LIMIT can't be negative"
    assert err(c, "ZINTERCARD", "0", "x") == \
        "at least 1 input key is needed for 'zintercard' command"
    assert err(c, "ZINTERCARD", "x", "x") == NOT_AN_INTEGER
    assert err(c, "ZINTERCARD", "3", "x", "y") == "syntax error"
    assert err(c, "ZINTERCARD", "1", "x", "BOGUS") == "syntax error"
    assert err(c, "ZINTERCARD", "1", "x", "WITHSCORES") == "syntax error"
    assert err(c, "ZINTERCARD", "1", "x", "LIMIT") == "syntax error"


# ---------------------------------------------------------------------------------------------
# ZREMRANGEBY*


def test_zremrangebyrank(c):
    zadd5(c)
    assert c.execute_command("ZREMRANGEBYRANK", "z", "0", "1") == 2
    assert members(c, "z") == [b"c", b"d", b"e"]
    assert c.execute_command("ZREMRANGEBYRANK", "z", "-1", "-1") == 1
    assert c.execute_command("ZREMRANGEBYRANK", "z", "5", "10") == 0
    assert c.execute_command("ZREMRANGEBYRANK", "z", "1", "0") == 0
    assert err(c, "ZREMRANGEBYRANK", "z", "x", "1") == NOT_AN_INTEGER
    assert c.execute_command("ZREMRANGEBYRANK", "z", "0", "-1") == 2
    assert c.execute_command("EXISTS", "z") == 0
    assert c.execute_command("ZREMRANGEBYRANK", "nokey", "0", "-1") == 0


def test_zremrangebyscore(c):
    zadd5(c)
    assert c.execute_command("ZREMRANGEBYSCORE", "z", "(1", "3") == 2
    assert members(c, "z") == [b"a", b"d", b"e"]
    assert c.execute_command("ZREMRANGEBYSCORE", "z", "10", "20") == 0
    assert err(c, "ZREMRANGEBYSCORE", "z", "x", "3") == BOUND_NOT_A_FLOAT
    assert c.execute_command("ZREMRANGEBYSCORE", "z", "-inf", "+inf") == 3
    assert c.execute_command("EXISTS", "z") == 0
    assert c.execute_command("ZREMRANGEBYSCORE", "nokey", "-inf", "+inf") == 0


def test_zremrangebylex(c):
    c.execute_command("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e")
    assert c.execute_command("ZREMRANGEBYLEX", "z", "[b", "(d") == 2
    assert members(c, "z") == [b"a", b"d", b"e"]
    assert err(c, "ZREMRANGEBYLEX", "z", "b", "d") == BOUND_NOT_LEX
    assert c.execute_command("ZREMRANGEBYLEX", "z", "(e", "+") == 0
    assert c.execute_command("ZREMRANGEBYLEX", "z", "-", "+") == 3
    assert c.execute_command("EXISTS", "z") == 0
    assert c.execute_command("ZREMRANGEBYLEX", "nokey", "-", "+") == 0


# ---------------------------------------------------------------------------------------------
# ZRANDMEMBER, ZSCAN


def test_zrandmember(c):
    assert c.execute_command("ZRANDMEMBER", "nokey") is None
    assert c.execute_command("ZRANDMEMBER", "nokey", "3") == []
    assert c.execute_command("ZRANDMEMBER", "nokey", "3", "WITHSCORES") == []
    scores = {b"m%d" % i: str(i * 1.5).rstrip("0").rstrip(".").encode() for i in range(20)}
    c.execute_command("ZADD", "z", *[x for m, s in scores.items() for x in (s, m)])
    assert c.execute_command("ZRANDMEMBER", "z") in scores
    assert c.execute_command("ZRANDMEMBER", "z", "0") == []
    assert c.execute_command("ZRANDMEMBER", "z", "0", "WITHSCORES") == []
    distinct = c.execute_command("ZRANDMEMBER", "z", "5")
    assert len(distinct) == 5 and len(set(distinct)) == 5 and set(distinct) <= set(scores)
    assert sorted(c.execute_command("ZRANDMEMBER", "z", "100")) == sorted(scores)
    repeats = c.execute_command("ZRANDMEMBER", "z", "-50")
    assert len(repeats) == 50 and set(repeats) <= set(scores)
    pairs = c.execute_command("ZRANDMEMBER", "z", "-6", "WITHSCORES")
    assert len(pairs) == 12
    for member, score in zip(pairs[0::2], pairs[1::2]):
        assert scores[member] == score
    pairs = c.execute_command("ZRANDMEMBER", "z", "7", "WITHSCORES")
    assert len(set(pairs[0::2])) == 7
    for member, score in zip(pairs[0::2], pairs[1::2]):
        assert scores[member] == score
    pairs = c.execute_command("ZRANDMEMBER", "z", "30", "WITHSCORES")
    assert dict(zip(pairs[0::2], pairs[1::2])) == scores
    seen = set()
    for _ in range(30):
        seen.update(c.execute_command("ZRANDMEMBER", "z", "-20"))
    assert seen == set(scores), "every member is drawn sometimes"
    assert c.execute_command("ZCARD", "z") == 20, "ZRANDMEMBER removes nothing"
    assert err(c, "ZRANDMEMBER", "z", "x") == NOT_AN_INTEGER
    assert err(c, "ZRANDMEMBER", "z", "1", "BOGUS") == "syntax error"
    assert err(c, "ZRANDMEMBER", "z", "1", "WITHSCORES", "x") == "syntax error"
    assert err(c, "ZRANDMEMBER", "z", "-9223372036854775808").startswith("value is out of range")
    assert err(c, "ZRANDMEMBER", "z", "-4611686018427387905", "WITHSCORES") == \
        "value is out of range"


def test_zscan_walks_every_member_with_its_score(c):
    scores = {b"m%03d" % i: b"%d" % (i % 7) for i in range(300)}
    c.execute_command("ZADD", "z", *[x for m, s in scores.items() for x in (s, m)])
    seen, cursor = {}, b"0"
    while True:
        cursor, batch = c.execute_command("ZSCAN", "z", cursor, "COUNT", "17")
        seen.update(zip(batch[0::2], batch[1::2]))
        if cursor == b"0":
            break
    assert seen == scores
    cursor, batch = c.execute_command("ZSCAN", "z", "0", "MATCH", "m00?", "COUNT", "1000")
    assert cursor == b"0"
    assert dict(zip(batch[0::2], batch[1::2])) == {b"m%03d" % i: b"%d" % (i % 7)
                                                   for i in range(10)}
    c.execute_command("ZADD", "small", "1.5", "a", "inf", "b")
    assert c.execute_command("ZSCAN", "small", "0") == [b"0", [b"a", b"1.5", b"b", b"inf"]]
    assert c.execute_command("ZSCAN", "nokey", "0") == [b"0", []]
    assert err(c, "ZSCAN", "z", "x") == "invalid cursor"
    assert err(c, "ZSCAN", "z", "0", "COUNT", "0") == "syntax error"
    assert err(c, "ZSCAN", "z", "0", "BOGUS", "1") == "syntax error"


# ---------------------------------------------------------------------------------------------
# Types and the generic key commands


def test_wrongtype_both_ways(c):
    c.set("str", "v")
    c.execute_command("HSET", "h", "f", "v")
    for args in (["ZADD", "str", "1", "a"], ["ZINCRBY", "str", "1", "a"], ["ZREM", "str", "a"],
                 ["ZSCORE", "str", "a"], ["ZMSCORE", "str", "a"], ["ZCARD", "str"],
                 ["ZCOUNT", "str", "0", "1"], ["ZLEXCOUNT", "str", "-", "+"],
                 ["ZRANGE", "str", "0", "-1"], ["ZRANGEBYSCORE", "str", "0", "1"],
                 ["ZREVRANGEBYSCORE", "str", "1", "0"], ["ZRANGEBYLEX", "str", "-", "+"],
                 ["ZREVRANGEBYLEX", "str", "+", "-"], ["ZREVRANGE", "str", "0", "-1"],
                 ["ZRANK", "str", "a"], ["ZREVRANK", "str", "a"], ["ZPOPMIN", "str"],
                 ["ZPOPMAX", "str", "2"], ["ZMPOP", "2", "nokey", "str", "MIN"],
                 ["BZPOPMIN", "str", "0"], ["BZPOPMAX", "nokey", "str", "0"],
                 ["BZMPOP", "0", "1", "str", "MAX"], ["ZRANGESTORE", "d", "str", "0", "-1"],
                 ["ZUNION", "1", "h"], ["ZINTER", "2", "nokey", "str"],
                 ["ZDIFF", "2", "nokey", "str"], ["ZUNIONSTORE", "d", "1", "str"],
                 ["ZINTERSTORE", "d", "2", "nokey", "h"], ["ZDIFFSTORE", "d", "1", "str"],
                 ["ZINTERCARD", "2", "nokey", "str"], ["ZREMRANGEBYRANK", "str", "0", "1"],
                 ["ZREMRANGEBYSCORE", "str", "0", "1"], ["ZREMRANGEBYLEX", "str", "-", "+"],
                 ["ZRANDMEMBER", "str"], ["ZSCAN", "str", "0"]):
        assert err(c, *args) == WRONGTYPE, args
    assert c.execute_command("EXISTS", "d") == 0
    c.execute_command("ZADD", "z", "1", "a")
    for args in (["GET", "z"], ["APPEND", "z", "x"], ["INCR", "z"], ["HGET", "z", "a"],
                 ["SADD", "z", "a"], ["SMEMBERS", "z"], ["LPUSH", "z", "a"],
                 ["LRANGE", "z", "0", "-1"], ["SUNION", "z"], ["SINTERSTORE", "d", "z"]):
        assert err(c, *args) == WRONGTYPE, args
    assert c.execute_command("MGET", "z", "str") == [None, b"v"]
    assert c.set("z", "now a string") == b"OK"
    assert c.execute_command("TYPE", "z") == b"string"
    assert c.execute_command("ZADD", "z2", "1", "a") == 1


def test_generic_key_commands_on_sorted_sets(c, is_redis):
    c.execute_command("ZADD", "z", "1", "a", "2.5", "b")
    assert c.execute_command("TYPE", "z") == b"zset"
    # Redis: listpack while small, skiplist beyond; Cairn answers skiplist for every set.
    small = c.execute_command("OBJECT", "ENCODING", "z")
    assert small in (b"listpack", b"skiplist")
    if is_redis:
        assert small == b"listpack"
    c.execute_command("ZADD", "big", *[x for i in range(200) for x in (str(i), "m%d" % i)])
    assert c.execute_command("OBJECT", "ENCODING", "big") == b"skiplist"
    assert c.execute_command("EXISTS", "z") == 1
    assert c.execute_command("EXPIRE", "z", "100") == 1
    assert 98 <= c.execute_command("TTL", "z") <= 100
    assert c.execute_command("ZADD", "z", "3", "c") == 1
    assert c.execute_command("TTL", "z") > 0, "a write keeps the set's TTL"
    assert c.execute_command("RENAME", "z", "z2") == b"OK"
    assert c.execute_command("EXISTS", "z") == 0
    assert c.execute_command("TTL", "z2") > 0
    assert with_scores(c, "z2") == [(b"a", b"1"), (b"b", b"2.5"), (b"c", b"3")]
    assert c.execute_command("COPY", "z2", "z3") == 1
    assert c.execute_command("ZADD", "z3", "100", "a") == 0
    assert c.execute_command("ZSCORE", "z2", "a") == b"1", "a copy is independent"
    assert c.execute_command("ZRANK", "z3", "a") == 2
    assert c.execute_command("PERSIST", "z3") == 1
    assert c.execute_command("TTL", "z3") == -1
    c.set("s", "v")
    assert c.execute_command("RENAME", "z3", "s") == b"OK"
    assert c.execute_command("TYPE", "s") == b"zset"
    assert c.execute_command("ZCARD", "s") == 3
    c.execute_command("SADD", "aset", "x")
    cursor, keys = c.execute_command("SCAN", "0", "TYPE", "zset", "COUNT", "1000")
    assert sorted(keys) == [b"big", b"s", b"z2"]
    assert c.execute_command("DEL", "z2", "s", "big") == 3
    assert c.execute_command("ZADD", "s", "9", "z") == 1
    assert with_scores(c, "s") == [(b"z", b"9")], "a new set under a deleted key starts empty"


def test_expired_sorted_set_is_gone(c):
    c.execute_command("ZADD", "z", "1", "a")
    assert c.execute_command("PEXPIRE", "z", "1") == 1
    time.sleep(0.05)
    assert c.execute_command("ZSCORE", "z", "a") is None
    assert c.execute_command("EXISTS", "z") == 0
    assert c.execute_command("ZADD", "z", "2", "b") == 1
    assert with_scores(c, "z") == [(b"b", b"2")], "no member of the expired set"


def test_empty_sorted_sets_vanish_after_every_kind_of_removal(c):
    removals = [("ZREM", "z", "a", "b"), ("ZPOPMIN", "z", "5"), ("ZPOPMAX", "z", "2"),
                ("ZMPOP", "1", "z", "MAX", "COUNT", "9"), ("BZPOPMIN", "z", "0"),
                ("ZREMRANGEBYRANK", "z", "0", "-1"), ("ZREMRANGEBYSCORE", "z", "-inf", "inf"),
                ("ZREMRANGEBYLEX", "z", "-", "+")]
    for removal in removals:
        c.execute_command("ZADD", "z", "0", "a", "0", "b")
        if removal[0] == "BZPOPMIN":
            c.execute_command("ZREM", "z", "b")
        c.execute_command(*removal)
        assert c.execute_command("EXISTS", "z") == 0, removal
        assert c.execute_command("TYPE", "z") == b"none", removal


# ---------------------------------------------------------------------------------------------
# RESP3


def test_resp3_replies(server):
    conn = RespConnection(HOST, server.port)
    try:
        conn.call("HELLO", "3")
        conn.call("FLUSHALL")
        conn.call("ZADD", "z", "1", "a", "2.5", "b", "0.1", "c", "inf", "d")
        assert conn.call_bytes("ZSCORE", "z", "b") == b",2.5\r\n"
        assert conn.call_bytes("ZSCORE", "z", "a") == b",1\r\n"
        assert conn.call_bytes("ZSCORE", "z", "c") == b",0.10000000000000001\r\n"
        assert conn.call_bytes("ZSCORE", "z", "d") == b",inf\r\n"
        assert conn.call_bytes("ZSCORE", "z", "nope") == b"_\r\n"
        assert conn.call_bytes("ZMSCORE", "z", "a", "nope") == b"*2\r\n,1\r\n_\r\n"
        assert conn.call_bytes("ZINCRBY", "z", "1", "a") == b",2\r\n"
        assert conn.call_bytes("ZADD", "z", "INCR", "-1", "a") == b",1\r\n"
        assert conn.call_bytes("ZADD", "z", "NX", "INCR", "1", "a") == b"_\r\n"
        assert conn.call_bytes("ZRANK", "z", "nope") == b"_\r\n"
        # WITHSCORES: an array of [member, double] pairs.
        assert conn.call_bytes("ZRANGE", "z", "0", "1", "WITHSCORES") == \
            b"*2\r\n*2\r\n$1\r\nc\r\n,0.10000000000000001\r\n*2\r\n$1\r\na\r\n,1\r\n"
        assert conn.call_bytes("ZRANGE", "z", "0", "0") == b"*1\r\n$1\r\nc\r\n"
        assert conn.call_bytes("ZRANGEBYSCORE", "z", "2", "+inf", "WITHSCORES") == \
            b"*2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\nd\r\n,inf\r\n"
        assert conn.call_bytes("ZREVRANGE", "z", "0", "0", "WITHSCORES") == \
            b"*1\r\n*2\r\n$1\r\nd\r\n,inf\r\n"
        assert conn.call_bytes("ZUNION", "1", "z", "WITHSCORES").startswith(b"*4\r\n*2\r\n")
        assert conn.call_bytes("ZRANGE", "nokey", "0", "-1", "WITHSCORES") == b"*0\r\n"
        reply = conn.call("ZRANDMEMBER", "z", "-3", "WITHSCORES")
        assert len(reply) == 3
        for pair in reply:
            assert isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], Double)
        assert conn.call_bytes("ZRANDMEMBER", "nokey") == b"_\r\n"
        # ZSCAN gives its scores as bulk strings, in RESP3 too.
        assert conn.call_bytes("ZSCAN", "z", "0", "MATCH", "b") == \
            b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$3\r\n2.5\r\n"
        # Pops: a flat pair without a count, an array of pairs with one.
        assert conn.call_bytes("ZPOPMIN", "z") == b"*2\r\n$1\r\nc\r\n,0.10000000000000001\r\n"
        assert conn.call_bytes("ZPOPMIN", "z", "1") == b"*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
        assert conn.call_bytes("ZPOPMAX", "nokey") == b"*0\r\n"
        assert conn.call_bytes("ZMPOP", "1", "z", "MAX") == \
            b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nd\r\n,inf\r\n"
        assert conn.call_bytes("ZMPOP", "1", "nokey", "MAX") == b"_\r\n"
        assert conn.call_bytes("BZPOPMAX", "z", "0") == b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n,2.5\r\n"
        assert conn.call_bytes("BZPOPMIN", "z", "0.01") == b"_\r\n"
        assert conn.call_bytes("BZMPOP", "0.01", "1", "z", "MIN") == b"_\r\n"
    finally:
        conn.close()


def test_resp2_null_replies(raw):
    assert raw.call_bytes("ZSCORE", "nokey", "a") == b"$-1\r\n"
    assert raw.call_bytes("ZRANK", "nokey", "a") == b"$-1\r\n"
    assert raw.call_bytes("ZMPOP", "1", "nokey", "MIN") == b"*-1\r\n"
    assert raw.call_bytes("BZPOPMIN", "nokey", "0.01") == b"*-1\r\n"
    assert raw.call_bytes("BZMPOP", "0.01", "1", "nokey", "MIN") == b"*-1\r\n"
    assert raw.call_bytes("ZPOPMIN", "nokey") == b"*0\r\n"
    assert raw.call_bytes("ZRANDMEMBER", "nokey") == b"$-1\r\n"
    assert raw.call_bytes("ZADD", "z", "NX", "INCR", "1", "a") == b"$1\r\n1\r\n"
    assert raw.call_bytes("ZADD", "z", "NX", "INCR", "1", "a") == b"$-1\r\n"


# ---------------------------------------------------------------------------------------------
# A large set against a Python model


def test_large_sorted_set_matches_a_model(r):
    rng = random.Random(20240)
    count = 20000
    model = {}
    for i in range(count):
        # Few distinct scores, so that most ranks are decided by the member bytes.
        model[b"m%05d" % rng.randrange(10 ** 5)] = float(rng.randrange(-500, 500)) / 4
    pipe = r.pipeline(transaction=False)
    items = list(model.items())
    for start in range(0, len(items), 1000):
        pipe.execute_command("ZADD", "big", *[x for m, s in items[start:start + 1000]
                                              for x in (repr(s), m)])
    assert sum(pipe.execute()) == len(model)
    order = sorted(model, key=lambda m: (model[m], m))
    assert r.execute_command("ZCARD", "big") == len(order)
    for start, stop in ((0, 9), (5000, 5099), (len(order) - 10, len(order) - 1), (-3, -1)):
        got = r.execute_command("ZRANGE", "big", start, stop)
        assert got == order[start:stop + 1 if stop != -1 else None], (start, stop)
    assert r.execute_command("ZREVRANGE", "big", "0", "4") == order[::-1][:5]
    for member in rng.sample(order, 200):
        rank = order.index(member)
        assert r.execute_command("ZRANK", "big", member) == rank
        assert r.execute_command("ZREVRANK", "big", member) == len(order) - 1 - rank
        assert float(r.execute_command("ZSCORE", "big", member)) == model[member]
    for _ in range(50):
        lo, hi = sorted(rng.randrange(-520, 520) / 4 for _ in range(2))
        inside = [m for m in order if lo < model[m] <= hi]
        assert r.execute_command("ZCOUNT", "big", "(%r" % lo, repr(hi)) == len(inside)
        assert r.execute_command("ZRANGE", "big", "(%r" % lo, repr(hi), "BYSCORE", "LIMIT", "3",
                                 "7") == inside[3:10]
    flat = r.execute_command("ZRANGE", "big", "(-10", "10", "BYSCORE", "WITHSCORES")
    assert list(zip(flat[0::2], flat[1::2])) == \
        [(m, b"%.17g" % model[m]) for m in order if -10 < model[m] <= 10]
    # Remove a middle slice by rank and check the ranks after it moved down.
    assert r.execute_command("ZREMRANGEBYRANK", "big", "1000", "1999") == 1000
    del order[1000:2000]
    assert r.execute_command("ZCARD", "big") == len(order)
    assert r.execute_command("ZRANGE", "big", "995", "1004") == order[995:1005]
    for member in rng.sample(order, 50):
        assert r.execute_command("ZRANK", "big", member) == order.index(member)
    assert r.execute_command("ZPOPMIN", "big", "3") == \
        [x for m in order[:3] for x in (m, b"%.17g" % model[m])]
    assert r.execute_command("ZPOPMAX", "big") == [order[-1], b"%.17g" % model[order[-1]]]
    assert r.execute_command("ZCARD", "big") == len(order) - 4


# ---------------------------------------------------------------------------------------------
# Blocking pops (in the manner of test_blocking.py)


def blocked_clients(conn):
    for line in conn.call("INFO", "clients").splitlines():
        if line.startswith(b"blocked_clients:"):
            return int(line.split(b":")[1])
    raise AssertionError("no blocked_clients in INFO")


def wait_blocked(conn, count):
    deadline = time.time() + 5
    while blocked_clients(conn) != count:
        assert time.time() < deadline, "never reached %d blocked clients" % count
        time.sleep(0.01)


def test_bzpopmin_bzpopmax_wake_on_zadd(raw, raw_factory):
    waiter = raw_factory()
    waiter.send("BZPOPMIN", "q1", "q2", "0")
    wait_blocked(raw, 1)
    assert raw.call("SET", "other", "v") == "OK", "other clients keep being served"
    assert raw.call("ZADD", "q2", "3", "c", "1", "a", "2", "b") == 3
    assert waiter.read_reply() == [b"q2", b"a", b"1"]
    assert raw.call("ZRANGE", "q2", "0", "-1") == [b"b", b"c"]
    waiter.send("BZPOPMAX", "q1", "q3", "0")
    wait_blocked(raw, 1)
    assert raw.call("ZADD", "q3", "1.5", "x", "-inf", "y") == 2
    assert waiter.read_reply() == [b"q3", b"x", b"1.5"]
    assert raw.call("ZRANGE", "q3", "0", "-1", "WITHSCORES") == [b"y", b"-inf"]
    assert blocked_clients(raw) == 0


def test_bzmpop_wakes_on_zadd_and_pops_up_to_count(raw, raw_factory):
    waiter = raw_factory()
    waiter.send("BZMPOP", "0", "2", "p", "q", "MAX", "COUNT", "2")
    wait_blocked(raw, 1)
    assert raw.call("ZADD", "q", "1", "a", "2", "b", "3", "c") == 3
    assert waiter.read_reply() == [b"q", [[b"c", b"3"], [b"b", b"2"]]]
    assert raw.call("ZRANGE", "q", "0", "-1") == [b"a"]
    waiter.send("BZMPOP", "0", "1", "q2", "MIN", "COUNT", "5")
    wait_blocked(raw, 1)
    assert raw.call("ZADD", "q2", "7", "only") == 1
    assert waiter.read_reply() == [b"q2", [[b"only", b"7"]]]
    assert raw.call("EXISTS", "q2") == 0


def test_an_available_member_is_served_at_once(raw):
    raw.call("ZADD", "z", "1", "a", "2", "b")
    assert raw.call("BZPOPMIN", "empty", "z", "0") == [b"z", b"a", b"1"]
    assert raw.call("BZPOPMAX", "z", "0") == [b"z", b"b", b"2"]
    assert raw.call("EXISTS", "z") == 0
    raw.call("ZADD", "z", "1", "a")
    assert raw.call("BZMPOP", "0", "2", "empty", "z", "MIN", "COUNT", "3") == \
        [b"z", [[b"a", b"1"]]]


def test_blocking_zpop_timeout_replies_null(raw):
    for command in (["BZPOPMIN", "q", "0.2"], ["BZPOPMAX", "q", "0.2"],
                    ["BZMPOP", "0.2", "1", "q", "MIN"]):
        started = time.time()
        raw.send(*command)
        raw.send("PING")
        assert raw.read_reply() is None, command
        elapsed = time.time() - started
        assert 0.15 <= elapsed < 2.0, (command, elapsed)
        assert raw.read_reply() == "PONG"


def test_zset_waiters_are_served_in_arrival_order(raw, raw_factory, request, is_redis):
    if not is_redis:
        # One write wakes every waiter on the key, and waiters on different event loops retry
        # in whatever order their loops run: Cairn keeps arrival order only per loop (a known
        # gap). Not strict: the race is sometimes won in order.
        request.applymarker(pytest.mark.xfail(
            strict=False, reason="blocked clients on different event loops race for a wake-up"))
    waiters = [raw_factory() for _ in range(3)]
    for i, w in enumerate(waiters):
        w.send("BZPOPMIN", "z", "0")
        wait_blocked(raw, i + 1)
    assert raw.call("ZADD", "z", "1", "a") == 1
    assert waiters[0].read_reply() == [b"z", b"a", b"1"], "the first to block is served first"
    wait_blocked(raw, 2)
    assert raw.call("ZADD", "z", "2", "b", "3", "c") == 2
    assert waiters[1].read_reply() == [b"z", b"b", b"2"]
    assert waiters[2].read_reply() == [b"z", b"c", b"3"]
    assert raw.call("EXISTS", "z") == 0


def test_a_zset_waiter_stays_blocked_when_the_key_gets_another_type(raw, raw_factory):
    waiter = raw_factory()
    waiter.send("BZPOPMAX", "k", "0.3")
    wait_blocked(raw, 1)
    raw.call("SET", "k", "now a string")
    assert waiter.read_reply() is None, "it timed out rather than failing"
    raw.call("DEL", "k")
    waiter.send("BZPOPMAX", "k", "0")
    wait_blocked(raw, 1)
    assert raw.call("SADD", "k", "x") == 1
    time.sleep(0.1)
    assert blocked_clients(raw) == 1, "a set under the key does not wake it"
    assert raw.call("DEL", "k") == 1
    assert raw.call("ZADD", "k", "5", "m") == 1
    assert waiter.read_reply() == [b"k", b"m", b"5"]


def test_a_zadd_undone_in_the_same_transaction_wakes_nobody(raw, raw_factory):
    waiter = raw_factory()
    waiter.send("BZPOPMIN", "k", "0")
    wait_blocked(raw, 1)
    raw.call("MULTI")
    raw.call("ZADD", "k", "1", "a")
    raw.call("ZREM", "k", "a")
    assert raw.call("EXEC") == [1, 1]
    time.sleep(0.1)
    assert blocked_clients(raw) == 1
    raw.call("ZADD", "k", "2", "b")
    assert waiter.read_reply() == [b"k", b"b", b"2"]


def test_blocking_zpop_errors_and_multi(raw):
    raw.call("SET", "str", "v")
    assert str(raw.call("BZPOPMIN", "str", "0")) == WRONGTYPE
    assert str(raw.call("BZPOPMAX", "nokey", "str", "0")) == WRONGTYPE
    assert str(raw.call("BZMPOP", "0", "1", "str", "MIN")) == WRONGTYPE
    for command in (["BZPOPMIN", "q", "-1"], ["BZMPOP", "-1", "1", "q", "MIN"]):
        assert str(raw.call(*command)) == "ERR timeout is negative"
    for command in (["BZPOPMAX", "q", "abc"], ["BZMPOP", "abc", "1", "q", "MIN"]):
        assert str(raw.call(*command)) == "ERR timeout is not a float or out of range"
    assert str(raw.call("BZMPOP", "0", "0", "q", "MIN")) == "ERR numkeys should be greater than 0"
    assert str(raw.call("BZMPOP", "0", "1", "q", "MIN", "COUNT", "0")) == \
        "ERR count should be greater than 0"
    assert str(raw.call("BZMPOP", "0", "1", "q", "UP")) == "ERR syntax error"
    assert isinstance(raw.call("BZPOPMIN", "q"), RespError)
    assert raw.call("MULTI") == "OK"
    assert raw.call("BZPOPMIN", "q", "0") == "QUEUED"
    assert raw.call("BZMPOP", "0", "1", "q", "MAX") == "QUEUED"
    assert raw.call("EXEC") == [None, None], "inside MULTI a blocking pop answers at once"


# ---------------------------------------------------------------------------------------------
# Durability (cairnd only)


def test_sorted_sets_survive_a_restart(tmp_path, is_redis):
    if is_redis:
        pytest.skip("restarts a cairnd")
    data_dir = str(tmp_path / "data")
    proc = start_cairnd(dir=data_dir, fsync="no")
    client = proc.client()
    for i in range(50):
        client.execute_command("ZADD", "z%d" % i, "1.5", "a", str(i), "b", "-inf", "c")
    client.execute_command("ZREM", "z7", "a", "b", "c")
    client.close()
    assert stop_server(proc) == 0
    proc = start_cairnd(dir=data_dir, fsync="no")
    try:
        client = proc.client()
        assert client.dbsize() == 49
        assert client.execute_command("ZRANGE", "z9", "0", "-1", "WITHSCORES") == \
            [b"c", b"-inf", b"a", b"1.5", b"b", b"9"]
        assert client.exists("z7") == 0
        assert client.execute_command("ZADD", "z7", "3", "new") == 1
        assert client.execute_command("ZRANGE", "z7", "0", "-1") == [b"new"]
        client.close()
    finally:
        stop_server(proc)
