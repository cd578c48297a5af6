"""Differential test: the same random command sequences go to a real redis-server (the reference)
and to the target; replies must match byte for byte, errors by their full message.

Seeded: a failure prints the seed, the failing command and the recent history. Several seeds run
by default; CAIRN_TEST_LONG=1 runs many more and longer sequences; CAIRN_DIFF_SEED=N runs one.

Documented differences allowed (everything else must be identical):
  - TTL/EXPIRETIME (seconds) may differ by up to 2, PTTL/PEXPIRETIME by up to 2000 ms when
    positive, because the two servers receive each command at slightly different times and
    relative TTLs start from each server's own clock. Negative answers (-1, -2) must be equal.
  - KEYS replies are compared as sorted lists (order is unspecified).
  - SCAN is compared as a full iteration (cursor until 0) per server: the sets of keys returned
    must be equal; cursors and batch boundaries are free.
  - RANDOMKEY: both nil, or each returns a key that exists on its own server.
  - Whole-collection replies (HKEYS, HVALS, HGETALL) are compared as sorted lists (sorted
    field-value pairs for HGETALL), with the same reply type: Redis gives a small hash's fields
    in insertion order, Cairn in byte order. HSCAN is compared as a full iteration (the set of
    field-value pairs). HRANDFIELD: both replies have the same type and length and name only
    fields of the hash (the hash is the same on both sides; the draw is random).
  - Set replies (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count) are compared as sorted
    lists with the same reply type; SSCAN as a full iteration. SRANDMEMBER as HRANDFIELD.
    SPOP is generated only where it is deterministic: a count of 0 or one at least the set's
    size (and its errors).
  - Sorted sets: every reply is compared exactly (ranges, pops, set operations are ordered by
    score then member bytes), except ZRANDMEMBER (as HRANDFIELD, scores included) and ZSCAN (a
    full iteration: the set of member-score pairs). Not generated, because Redis's answer is
    not a function of the commands: a -0 score (stored as 0 in a small, listpack-encoded set,
    as -0 in a skiplist), hence no negative or zero weight (0 x -1); ZUNION / ZINTER over more
    than 2 sources (a weighted sum of 3 depends on the order Redis visits the sources in, which
    ties in size leave open, since floating-point addition is not associative); lex ranges over
    a set whose members have different scores (Redis walks its structure; the result is
    unspecified): the lex commands are sent only where the reference's set has a single score
    (mode "lex"). Blocking pops (mode "blocking") are sent where the reference answers at once
    (a key exists, or an argument is invalid) with a 0.5 or 1 s timeout, so a target that wrongly
    blocks answers null; otherwise one in ten goes with a 10 ms timeout to compare the null (the
    rest are skipped: Redis times out on its 100 ms cron).
  - DBSIZE: Redis counts keys that are logically expired (e.g. SET .. EXAT <past>) until they are
    reclaimed; Cairn never shows them. Before each DBSIZE the test sends EXISTS on every key,
    which reclaims them in Redis, so the counts must then be equal.
  - INCRBYFLOAT on operands beyond double precision is not generated (Redis computes in long
    double; README lists it).
Short TTLs are not generated (a key expiring between the two sends would be a false alarm);
expiry itself is covered by test_expire.py. Past absolute times and non-positive relative
times, which delete deterministically, are generated.
"""

import os
import random
import time

import pytest

from conftest import HOST, RespConnection, encode_command, parse_resp

LONG = os.environ.get("CAIRN_TEST_LONG") == "1"
SEEDS = ([int(os.environ["CAIRN_DIFF_SEED"])] if os.environ.get("CAIRN_DIFF_SEED")
         else list(range(1, 41 if LONG else 11)))
OPS_PER_SEED = 5000 if LONG else 1500

KEYS = [b"a", b"b", b"num", b"flt", b"", b"\x00bin\xff", b"k:7", b"long key with spaces"]
VALUES = [b"", b"0", b"1", b"-1", b"42", b"-17", b"007", b" 3", b"9223372036854775806",
          b"9223372036854775807", b"-9223372036854775808", b"18446744073709551616",
          b"1.5", b"-0.25", b"3e2", b"0.1", b"10.5", b"abc", b"hello world", b"\x00\x01\xff",
          b"\r\n", b"x" * 40]
INTS = [b"0", b"1", b"-1", b"2", b"-3", b"100", b"9223372036854775807", b"-9223372036854775808",
        b"9223372036854775808", b"1.5", b"abc", b"", b" 1"]
FLOATS = [b"0", b"1", b"-1", b"0.5", b"1.5", b"-2.25", b"3e2", b"1e-3", b"0.1", b"abc", b"",
          b"inf", b"-inf", b"nan", b"1e2", b"5"]
MEMBERS = [b"a", b"b", b"c", b"1", b"2", b"", b"\x00m", b"-5"]
FIELDS = [b"f", b"g", b"h1", b"", b"\x00x", b"num", b"long field name"]
PATTERNS = [b"*", b"a", b"?", b"k*", b"*u*", b"[ab]", b"[^a]*", b"\\*", b"", b"*\x00*"]
# Sorted sets. No score is -0 and no weight is negative or 0: Redis stores -0 in a small sorted
# set (listpack) as 0 and in a large one as -0, so its replies there depend on the encoding
# (the README's list of differences). Scores are mostly dyadic, so that sums are exact.
ZSCORES = [b"0", b"1", b"-1", b"2", b"3", b"1.5", b"-2.25", b"3e2", b"0.5", b"10", b"100",
           b"inf", b"-inf", b"+inf", b"0.1", b"7", b"-7", b"1e20"]
BAD_SCORES = [b"nan", b"abc", b"", b"1e400", b" 1", b"(1"]
SCORE_BOUNDS = [b"-inf", b"+inf", b"inf", b"0", b"1", b"(1", b"2", b"(2", b"-1", b"(-1", b"1.5",
                b"(0", b"10", b"(100", b"(-inf", b"(+inf", b"3e2", b"x", b"((1", b"nan", b"[1",
                b"(", b""]
LEX_BOUNDS = [b"-", b"+", b"[a", b"(a", b"[b", b"(b", b"[c", b"(1", b"[2", b"[", b"(",
              b"[\x00m", b"(-5", b"a", b"x"]
ZSET_KEYS = [b"k:7", b"long key with spaces"]  # favoured by the sorted-set commands
OFFSETS = [b"0", b"1", b"2", b"5", b"-1", b"x"]
WEIGHTS = [b"1", b"2", b"0.5", b"3", b"1.5", b"inf", b"x"]


def parse(data):
    return parse_resp(data)


class Gen:
    """Random commands with valid and invalid options."""

    def __init__(self, rng):
        self.rng = rng
        self.single_score_key = KEYS[0]  # the key of the latest ZADD of one score to all

    def key(self):
        return self.rng.choice(KEYS)

    def value(self):
        return self.rng.choice(VALUES)

    # Valid TTLs are drawn from wide ranges: two servers receive a command a few microseconds
    # apart, so re-applying the very same relative TTL could compare equal (GT/LT) on one
    # server and greater on the other. Distinct random values keep GT/LT deterministic.
    def ttl_secs(self):
        rng = self.rng
        if rng.random() < 0.7:
            return str(rng.randint(100, 10**7)).encode()
        return rng.choice([b"0", b"-1", b"abc", b"1.5", b"4611686018427387904",
                           b"9223372036854775807", b"-4611686018427387904"])

    def ttl_ms(self):
        rng = self.rng
        if rng.random() < 0.7:
            return str(rng.randint(100000, 10**10)).encode()
        return rng.choice([b"0", b"-5", b"x", b"9223372036854775807"])

    def abs_secs(self):
        rng = self.rng
        now = int(time.time())
        if rng.random() < 0.6:
            return str(now + rng.randint(200, 10**7)).encode()
        return rng.choice([b"1", b"0", b"-1", str(now - 10).encode(), b"x",
                           b"9223372036854775807"])

    def abs_ms(self):
        rng = self.rng
        now = int(time.time() * 1000)
        if rng.random() < 0.6:
            return str(now + rng.randint(200000, 10**10) + 337).encode()
        return rng.choice([b"1", str(now - 5000).encode(), b"-3", b"y"])

    def set_options(self):
        rng = self.rng
        opts = []
        if rng.random() < 0.3:
            opts.append(rng.choice([b"NX", b"XX", b"nx"]))
        if rng.random() < 0.4:
            kind = rng.choice([b"EX", b"PX", b"EXAT", b"PXAT", b"KEEPTTL", b"ex"])
            opts.append(kind)
            if kind.upper() == b"EX":
                opts.append(self.ttl_secs())
            elif kind == b"PX":
                opts.append(self.ttl_ms())
            elif kind == b"EXAT":
                opts.append(self.abs_secs())
            elif kind == b"PXAT":
                opts.append(self.abs_ms())
        if rng.random() < 0.25:
            opts.append(b"GET")
        if rng.random() < 0.05:
            opts.append(rng.choice([b"NX", b"XX", b"EX", b"BOGUS", b"KEEPTTL", b"PX", b"10"]))
        rng.shuffle(opts) if rng.random() < 0.1 else None
        return opts

    def getex_options(self):
        rng = self.rng
        choice = rng.randrange(8)
        if choice == 0:
            return []
        if choice == 1:
            return [b"EX", self.ttl_secs()]
        if choice == 2:
            return [b"PX", self.ttl_ms()]
        if choice == 3:
            return [b"EXAT", self.abs_secs()]
        if choice == 4:
            return [b"PXAT", self.abs_ms()]
        if choice == 5:
            return [b"PERSIST"]
        if choice == 6:
            return [b"EX", b"100", b"PERSIST"]
        return [rng.choice([b"BOGUS", b"EX", b"PX"])]

    def expire_flags(self):
        rng = self.rng
        r = rng.random()
        if r < 0.5:
            return []
        if r < 0.9:
            return [rng.choice([b"NX", b"XX", b"GT", b"LT", b"gt"])]
        return rng.choice([[b"NX", b"XX"], [b"GT", b"LT"], [b"FOO"], [b"NX", b"GT"], [b"XX", b"GT"]])

    def command(self):
        """Returns (args, mode) where mode is exact, ttl_s, ttl_ms, sorted, scan, randomkey."""
        rng = self.rng
        k = self.key
        name = rng.choice(COMMANDS)
        if name == "SET":
            return [b"SET", k(), self.value()] + self.set_options(), "exact"
        if name in ("GET", "GETDEL", "STRLEN", "TYPE", "INCR", "DECR", "PERSIST"):
            return [name.encode(), k()], "exact"
        if name in ("TTL", "EXPIRETIME"):
            return [name.encode(), k()], "ttl_s"
        if name in ("PTTL", "PEXPIRETIME"):
            return [name.encode(), k()], "ttl_ms"
        if name in ("GETSET", "SETNX", "APPEND"):
            return [name.encode(), k(), self.value()], "exact"
        if name == "GETEX":
            return [b"GETEX", k()] + self.getex_options(), "exact"
        if name in ("MGET", "EXISTS", "DEL", "UNLINK", "TOUCH"):
            return [name.encode()] + [k() for _ in range(rng.randint(1, 4))], "exact"
        if name in ("MSET", "MSETNX"):
            args = [name.encode()]
            for _ in range(rng.randint(1, 3)):
                args += [k(), self.value()]
            if rng.random() < 0.05:
                args.append(k())  # odd number of arguments
            return args, "exact"
        if name == "SETEX":
            return [b"SETEX", k(), self.ttl_secs(), self.value()], "exact"
        if name == "PSETEX":
            return [b"PSETEX", k(), self.ttl_ms(), self.value()], "exact"
        if name == "GETRANGE":
            return [b"GETRANGE", k(), rng.choice([b"0", b"1", b"-1", b"-3", b"5", b"100", b"x"]),
                    rng.choice([b"0", b"2", b"-1", b"-2", b"10", b"1000"])], "exact"
        if name == "SETRANGE":
            off = rng.choice([b"0", b"1", b"3", b"10", b"25", b"-1", b"536870912", b"x"])
            return [b"SETRANGE", k(), off, rng.choice([self.value(), b"", b"Z"])], "exact"
        if name in ("INCRBY", "DECRBY"):
            return [name.encode(), k(), rng.choice(INTS)], "exact"
        if name == "INCRBYFLOAT":
            return [b"INCRBYFLOAT", k(), rng.choice(FLOATS)], "exact"
        if name in ("RENAME", "RENAMENX"):
            return [name.encode(), k(), k()], "exact"
        if name == "COPY":
            args = [b"COPY", k(), k()]
            if rng.random() < 0.4:
                args.append(b"REPLACE")
            if rng.random() < 0.05:
                args.append(b"BOGUS")
            return args, "exact"
        if name == "KEYS":
            return [b"KEYS", rng.choice(PATTERNS)], "sorted"
        if name == "SCAN":
            args = []
            if rng.random() < 0.5:
                args += [b"MATCH", rng.choice(PATTERNS)]
            if rng.random() < 0.5:
                args += [b"COUNT", rng.choice([b"1", b"2", b"5", b"100"])]
            if rng.random() < 0.3:
                args += [b"TYPE", rng.choice([b"string", b"hash", b"STRING", b"zset"])]
            return args, "scan"
        if name == "RANDOMKEY":
            return [b"RANDOMKEY"], "randomkey"
        if name == "DBSIZE":
            return [b"DBSIZE"], "dbsize"
        if name in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
            value = {"EXPIRE": self.ttl_secs, "PEXPIRE": self.ttl_ms, "EXPIREAT": self.abs_secs,
                     "PEXPIREAT": self.abs_ms}[name]()
            return [name.encode(), k(), value] + self.expire_flags(), "exact"
        if name == "MULTI":
            return None, "multi"
        if name.startswith(("Z", "BZ")):
            return self.zset_command(name)
        if name.startswith("H"):
            return self.hash_command(name)
        if name.startswith("S"):
            return self.set_command(name)
        return self.list_command(name)

    def index(self):
        return self.rng.choice([b"0", b"1", b"2", b"-1", b"-2", b"5", b"-10", b"100", b"x",
                                b"9223372036854775807", b"-9223372036854775808"])

    def list_command(self, name):
        rng = self.rng
        k, m = self.key, self.member
        if name in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
            return [name.encode(), k()] + [m() for _ in range(rng.randint(1, 4))], "exact"
        if name in ("LPOP", "RPOP"):
            args = [name.encode(), k()]
            if rng.random() < 0.5:
                args.append(rng.choice([b"0", b"1", b"2", b"10", b"-1", b"x"]))
            if rng.random() < 0.03:
                args.append(b"1")
            return args, "exact"
        if name == "LLEN":
            return [b"LLEN", k()], "exact"
        if name in ("LRANGE", "LTRIM"):
            return [name.encode(), k(), self.index(), self.index()], "exact"
        if name == "LINDEX":
            return [b"LINDEX", k(), self.index()], "exact"
        if name == "LSET":
            return [b"LSET", k(), self.index(), m()], "exact"
        if name == "LINSERT":
            where = rng.choice([b"BEFORE", b"AFTER", b"after", b"BOGUS"])
            return [b"LINSERT", k(), where, m(), m()], "exact"
        if name == "LREM":
            return [b"LREM", k(), rng.choice([b"0", b"1", b"2", b"-1", b"-2", b"x"]), m()], "exact"
        if name == "LPOS":
            args = [b"LPOS", k(), m()]
            for option in (b"RANK", b"COUNT", b"MAXLEN"):
                if rng.random() < 0.3:
                    args += [option, rng.choice([b"1", b"2", b"-1", b"-2", b"0", b"3", b"x"])]
            if rng.random() < 0.03:
                args.append(b"RANK")
            return args, "exact"
        if name == "LMOVE":
            ends = [b"LEFT", b"RIGHT", b"left", b"MIDDLE"]
            return [b"LMOVE", k(), k(), rng.choice(ends), rng.choice(ends)], "exact"
        if name == "RPOPLPUSH":
            return [b"RPOPLPUSH", k(), k()], "exact"
        if name == "LMPOP":
            keys = [k() for _ in range(rng.randint(1, 3))]
            numkeys = str(len(keys)).encode() if rng.random() < 0.85 else \
                rng.choice([b"0", b"-1", b"x", b"9"])
            args = [b"LMPOP", numkeys] + keys + [rng.choice([b"LEFT", b"RIGHT", b"UP"])]
            if rng.random() < 0.5:
                args += [b"COUNT", rng.choice([b"1", b"2", b"5", b"0", b"-1", b"x"])]
            return args, "exact"
        raise AssertionError(name)

    def member(self):
        return self.rng.choice(MEMBERS)

    def set_command(self, name):
        rng = self.rng
        k, m = self.key, self.member
        if name in ("SADD", "SREM", "SMISMEMBER"):
            return [name.encode(), k()] + [m() for _ in range(rng.randint(1, 4))], "exact"
        if name == "SISMEMBER":
            return [b"SISMEMBER", k(), m()], "exact"
        if name in ("SCARD",):
            return [b"SCARD", k()], "exact"
        if name == "SMEMBERS":
            return [b"SMEMBERS", k()], "sorted"
        if name in ("SINTER", "SUNION", "SDIFF"):
            return [name.encode()] + [k() for _ in range(rng.randint(1, 3))], "sorted"
        if name in ("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
            return [name.encode(), k()] + [k() for _ in range(rng.randint(1, 3))], "exact"
        if name == "SINTERCARD":
            keys = [k() for _ in range(rng.randint(1, 3))]
            numkeys = str(len(keys)).encode() if rng.random() < 0.85 else \
                rng.choice([b"0", b"-1", b"x", b"9"])
            args = [b"SINTERCARD", numkeys] + keys
            if rng.random() < 0.4:
                args += [b"LIMIT", rng.choice([b"0", b"1", b"2", b"-1", b"x"])]
            if rng.random() < 0.05:
                args.append(b"BOGUS")
            return args, "exact"
        if name == "SMOVE":
            return [b"SMOVE", k(), k(), m()], "exact"
        if name == "SPOP":
            args = [b"SPOP", k(), rng.choice([b"0", b"1000", b"-1", b"x"])]
            if rng.random() < 0.05:
                args.append(b"1")
            return args, "sorted"
        if name == "SRANDMEMBER":
            args = [b"SRANDMEMBER", k()]
            if rng.random() < 0.7:
                args.append(rng.choice([b"0", b"1", b"3", b"100", b"-1", b"-5", b"x",
                                        b"-9223372036854775808"]))
            return args, "hrandfield"
        if name == "SSCAN":
            args = []
            if rng.random() < 0.4:
                args += [b"MATCH", rng.choice(PATTERNS)]
            if rng.random() < 0.5:
                args += [b"COUNT", rng.choice([b"1", b"2", b"100"])]
            return [k()] + args, "sscan"
        raise AssertionError(name)

    # --- sorted sets
    def score(self):
        rng = self.rng
        if rng.random() < 0.04:
            return rng.choice(BAD_SCORES)
        return rng.choice(ZSCORES)

    def score_bound(self):
        return self.rng.choice(SCORE_BOUNDS)

    def lex_bound(self):
        return self.rng.choice(LEX_BOUNDS)

    def lex_key(self):
        return self.single_score_key if self.rng.random() < 0.7 else self.zset_key()

    def zset_key(self):
        """Strings claim most keys (SET and its kin are frequent): sorted-set commands favour two
        keys so that sorted sets of several members live there long enough to be worked on."""
        return self.rng.choice(ZSET_KEYS) if self.rng.random() < 0.4 else self.key()

    def numkeys_and_keys(self, count_max):
        rng = self.rng
        keys = [self.zset_key() for _ in range(rng.randint(1, count_max))]
        numkeys = str(len(keys)).encode() if rng.random() < 0.9 else \
            rng.choice([b"0", b"-1", b"x", b"5"])
        return [numkeys] + keys

    def zadd_args(self):
        rng = self.rng
        options = []
        if rng.random() < 0.4:
            options.append(rng.choice([b"NX", b"XX", b"GT", b"LT", b"xx"]))
            if rng.random() < 0.15:  # often an invalid combination
                options.append(rng.choice([b"NX", b"XX", b"GT", b"LT"]))
        if rng.random() < 0.2:
            options.append(b"CH")
        incr = rng.random() < 0.12
        if incr:
            options.append(b"INCR")
        rng.shuffle(options)
        # The lex commands need sorted sets whose members all have one score (see run's "lex"
        # mode): a third of the calls give every member score 0, and the lex commands mostly
        # look at the key of the latest such call.
        key = self.zset_key()
        same_score = b"0" if rng.random() < 0.3 else None
        if same_score:
            self.single_score_key = key
        pairs = []
        for _ in range(1 if incr and rng.random() < 0.9 else rng.randint(1, 5)):
            pairs += [same_score or self.score(), self.member()]
        if rng.random() < 0.03:
            pairs.append(self.member())  # a score without its member
        return [b"ZADD", key] + options + pairs

    def range_options(self, by):
        """Options after ZRANGE key start stop, for by in (None, b"BYSCORE", b"BYLEX")."""
        rng = self.rng
        options = [by] if by else []
        if rng.random() < 0.3:
            options.append(b"REV")
        if rng.random() < (0.4 if by else 0.03):
            options += [b"LIMIT", rng.choice(OFFSETS), rng.choice(OFFSETS + [b"-1"])]
        if rng.random() < (0.4 if by != b"BYLEX" else 0.03):
            options.append(b"WITHSCORES")
        if rng.random() < 0.03:
            options.append(rng.choice([b"BOGUS", b"BYSCORE", b"LIMIT"]))
        rng.shuffle(options) if rng.random() < 0.2 else None
        return options

    def zrange_args(self, command):
        rng = self.rng
        by = rng.choice([None, b"BYSCORE", b"BYLEX"])
        if by == b"BYSCORE":
            bounds = [self.score_bound(), self.score_bound()]
        elif by == b"BYLEX":
            bounds = [self.lex_bound(), self.lex_bound()]
        else:
            bounds = [self.index(), self.index()]
        source = self.lex_key() if by == b"BYLEX" else self.zset_key()
        head = [command] + ([self.zset_key()] if command == b"ZRANGESTORE" else []) + [source]
        options = self.range_options(by)
        if command == b"ZRANGESTORE" and b"WITHSCORES" in options and rng.random() < 0.8:
            options.remove(b"WITHSCORES")
        mode = "lex" if by == b"BYLEX" else "exact"
        return head + bounds + options, mode

    def setop_options(self, nkeys, weights_allowed, withscores_allowed):
        rng = self.rng
        options = []
        if weights_allowed and rng.random() < 0.3:
            n = nkeys if rng.random() < 0.9 else nkeys + rng.choice([-1, 1])
            options += [b"WEIGHTS"] + [rng.choice(WEIGHTS) for _ in range(max(n, 0))]
        if weights_allowed and rng.random() < 0.3:
            options += [b"AGGREGATE", rng.choice([b"SUM", b"MIN", b"MAX", b"max", b"AVG"])]
        if withscores_allowed and rng.random() < 0.5:
            options.append(b"WITHSCORES")
        if rng.random() < 0.03:
            options.append(rng.choice([b"BOGUS", b"WEIGHTS", b"AGGREGATE", b"WITHSCORES"]))
        return options

    def zset_command(self, name):
        rng = self.rng
        k, m = self.zset_key, self.member
        command = name.encode()
        if name == "ZADD":
            return self.zadd_args(), "exact"
        if name == "ZINCRBY":
            return [b"ZINCRBY", k(), self.score(), m()], "exact"
        if name in ("ZREM", "ZMSCORE"):
            return [command, k()] + [m() for _ in range(rng.randint(1, 4))], "exact"
        if name in ("ZSCORE", "ZRANK", "ZREVRANK"):
            # No WITHSCORE: Cairn takes Redis 7.2's, which 7.0 rejects (test_sorted_sets.py).
            return [command, k(), m()], "exact"
        if name == "ZCARD":
            return [b"ZCARD", k()], "exact"
        if name in ("ZCOUNT", "ZREMRANGEBYSCORE"):
            return [command, k(), self.score_bound(), self.score_bound()], "exact"
        if name in ("ZLEXCOUNT", "ZREMRANGEBYLEX"):
            return [command, self.lex_key(), self.lex_bound(), self.lex_bound()], "lex"
        if name == "ZREMRANGEBYRANK":
            return [command, k(), self.index(), self.index()], "exact"
        if name in ("ZRANGE", "ZRANGESTORE"):
            return self.zrange_args(command)
        if name in ("ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGEBYLEX"):
            lex = name.endswith("LEX")
            bound = self.lex_bound if lex else self.score_bound
            args = [command, self.lex_key() if lex else k(), bound(), bound()]
            if not lex and rng.random() < 0.4:
                args.append(b"WITHSCORES")
            if rng.random() < 0.4:
                args += [b"LIMIT", rng.choice(OFFSETS), rng.choice(OFFSETS + [b"-1"])]
            if rng.random() < 0.03:
                args.append(rng.choice([b"BOGUS", b"LIMIT", b"WITHSCORES"]))
            return args, "lex" if lex else "exact"
        if name == "ZREVRANGE":
            args = [b"ZREVRANGE", k(), self.index(), self.index()]
            if rng.random() < 0.4:
                args.append(b"WITHSCORES")
            return args, "exact"
        if name in ("ZPOPMIN", "ZPOPMAX"):
            args = [command, k()]
            if rng.random() < 0.6:
                args.append(rng.choice([b"0", b"1", b"2", b"3", b"10", b"-1", b"x"]))
            if rng.random() < 0.03:
                args.append(b"1")
            return args, "exact"
        if name in ("ZMPOP", "BZMPOP"):
            args = [command] + ([self.block_timeout()] if name == "BZMPOP" else [])
            args += self.numkeys_and_keys(3) + [rng.choice([b"MIN", b"MAX", b"max", b"UP"])]
            if rng.random() < 0.5:
                args += [b"COUNT", rng.choice([b"1", b"2", b"5", b"0", b"-1", b"x"])]
            return args, "blocking" if name == "BZMPOP" else "exact"
        if name in ("BZPOPMIN", "BZPOPMAX"):
            keys = [k() for _ in range(rng.randint(1, 3))]
            return [command] + keys + [self.block_timeout()], "blocking"
        if name in ("ZUNION", "ZINTER", "ZDIFF"):
            # At most 2 sources for a weighted sum: 3 could be added in another order (Redis
            # sorts the sources by size, and ties in no fixed order), and floating-point
            # addition is not associative (1e20 + -1e20 + 1, inf + -inf + 1).
            keys = self.numkeys_and_keys(3 if name == "ZDIFF" else 2)
            options = self.setop_options(len(keys) - 1, name != "ZDIFF", True)
            return [command] + keys + options, "exact"
        if name in ("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"):
            keys = self.numkeys_and_keys(3 if name == "ZDIFFSTORE" else 2)
            options = self.setop_options(len(keys) - 1, name != "ZDIFFSTORE", False)
            return [command, k()] + keys + options, "exact"
        if name == "ZINTERCARD":
            args = [b"ZINTERCARD"] + self.numkeys_and_keys(3)
            if rng.random() < 0.4:
                args += [b"LIMIT", rng.choice([b"0", b"1", b"2", b"-1", b"x"])]
            if rng.random() < 0.03:
                args.append(b"BOGUS")
            return args, "exact"
        if name == "ZRANDMEMBER":
            args = [b"ZRANDMEMBER", k()]
            if rng.random() < 0.7:
                args.append(rng.choice([b"0", b"1", b"2", b"5", b"-1", b"-4", b"x",
                                        b"-9223372036854775808"]))
                if rng.random() < 0.4:
                    args.append(rng.choice([b"WITHSCORES", b"withscores", b"BOGUS"]))
            return args, "hrandfield"
        if name == "ZSCAN":
            args = []
            if rng.random() < 0.4:
                args += [b"MATCH", rng.choice(PATTERNS)]
            if rng.random() < 0.5:
                args += [b"COUNT", rng.choice([b"1", b"2", b"100"])]
            return [k()] + args, "zscan"
        raise AssertionError(name)

    def block_timeout(self):
        """A timeout for a blocking pop: run's "blocking" mode sends it only where the reference
        answers at once, or rarely to see a timeout."""
        rng = self.rng
        if rng.random() < 0.05:
            return rng.choice([b"-1", b"x", b"0.01"])
        return rng.choice([b"1", b"0.5"])

    def field(self):
        return self.rng.choice(FIELDS)

    def hash_command(self, name):
        rng = self.rng
        k, f = self.key, self.field
        if name in ("HSET", "HMSET"):
            args = [name.encode(), k()]
            for _ in range(rng.randint(1, 3)):
                args += [f(), self.value()]
            if rng.random() < 0.05:
                args.append(f())  # odd number of arguments
            return args, "exact"
        if name == "HSETNX":
            return [b"HSETNX", k(), f(), self.value()], "exact"
        if name in ("HGET", "HEXISTS", "HSTRLEN"):
            return [name.encode(), k(), f()], "exact"
        if name in ("HMGET", "HDEL"):
            return [name.encode(), k()] + [f() for _ in range(rng.randint(1, 3))], "exact"
        if name == "HLEN":
            return [b"HLEN", k()], "exact"
        if name in ("HKEYS", "HVALS"):
            return [name.encode(), k()], "sorted"
        if name == "HGETALL":
            return [b"HGETALL", k()], "pairs"
        if name == "HINCRBY":
            return [b"HINCRBY", k(), f(), rng.choice(INTS)], "exact"
        if name == "HINCRBYFLOAT":
            return [b"HINCRBYFLOAT", k(), f(), rng.choice(FLOATS)], "exact"
        if name == "HRANDFIELD":
            args = [b"HRANDFIELD", k()]
            if rng.random() < 0.7:
                args.append(rng.choice([b"0", b"1", b"2", b"5", b"-1", b"-4", b"x",
                                        b"-9223372036854775808"]))
                if rng.random() < 0.4:
                    args.append(rng.choice([b"WITHVALUES", b"withvalues", b"BOGUS"]))
            return args, "hrandfield"
        if name == "HSCAN":
            args = []
            if rng.random() < 0.4:
                args += [b"MATCH", rng.choice(PATTERNS + [b"f*", b"h?"])]
            if rng.random() < 0.5:
                args += [b"COUNT", rng.choice([b"1", b"2", b"100"])]
            return [k()] + args, "hscan"
        raise AssertionError(name)


COMMANDS = (
    ["SET"] * 6 + ["GET"] * 3 + ["GETSET", "GETDEL", "GETEX", "GETEX", "MGET", "MSET", "MSETNX",
                                 "SETNX", "SETEX", "PSETEX", "APPEND", "STRLEN", "GETRANGE",
                                 "SETRANGE", "SETRANGE", "INCR", "INCR", "DECR", "INCRBY",
                                 "DECRBY", "INCRBYFLOAT", "INCRBYFLOAT", "DEL", "UNLINK",
                                 "EXISTS", "TYPE", "RENAME", "RENAMENX", "KEYS", "SCAN",
                                 "RANDOMKEY", "TOUCH", "COPY", "COPY", "EXPIRE", "EXPIRE",
                                 "PEXPIRE", "EXPIREAT", "PEXPIREAT", "TTL", "PTTL", "EXPIRETIME",
                                 "PEXPIRETIME", "PERSIST", "DBSIZE", "MULTI"]
    + ["HSET"] * 4 + ["HGET"] * 2 + ["HSETNX", "HMSET", "HMGET", "HDEL", "HDEL", "HEXISTS",
                                     "HLEN", "HSTRLEN", "HKEYS", "HVALS", "HGETALL", "HGETALL",
                                     "HINCRBY", "HINCRBY", "HINCRBYFLOAT", "HRANDFIELD", "HSCAN"]
    + ["SADD"] * 4 + ["SREM"] * 2 + ["SISMEMBER", "SMISMEMBER", "SMEMBERS", "SMEMBERS", "SCARD",
                                     "SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE",
                                     "SDIFFSTORE", "SINTERCARD", "SMOVE", "SMOVE", "SPOP",
                                     "SRANDMEMBER", "SSCAN"]
    + ["LPUSH"] * 3 + ["RPUSH"] * 3 + ["LPUSHX", "RPUSHX", "LPOP", "LPOP", "RPOP", "RPOP",
                                       "LLEN", "LRANGE", "LRANGE", "LINDEX", "LSET", "LINSERT",
                                       "LINSERT", "LREM", "LREM", "LTRIM", "LPOS", "LPOS",
                                       "LMOVE", "RPOPLPUSH", "LMPOP"]
    + ["ZADD"] * 10 + ["ZINCRBY"] * 2 + ["ZREM"] * 2 + ["ZRANGE"] * 3
    + ["ZSCORE", "ZMSCORE", "ZCARD", "ZCOUNT", "ZLEXCOUNT", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE",
       "ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZREVRANGE", "ZRANK", "ZREVRANK", "ZPOPMIN", "ZPOPMAX",
       "ZMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "ZRANGESTORE", "ZUNIONSTORE", "ZINTERSTORE",
       "ZDIFFSTORE", "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD", "ZREMRANGEBYRANK",
       "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX", "ZRANDMEMBER", "ZSCAN"])


def scan_all(conn, extra):
    cursor, seen, rounds = b"0", set(), 0
    while True:
        reply = conn.call(b"SCAN", cursor, *extra)
        if not isinstance(reply, list):
            return ("error", str(reply))
        cursor, batch = reply
        seen.update(batch)
        rounds += 1
        if cursor == b"0" or rounds > 100000:
            return ("keys", sorted(seen))


def collection_scan_all(conn, command, key, extra):
    """A full HSCAN / ZSCAN (field-value / member-score pairs) or SSCAN (members) iteration, as
    a sorted list."""
    cursor, seen, rounds = b"0", set(), 0
    while True:
        reply = conn.call(command, key, cursor, *extra)
        if not isinstance(reply, list):
            return ("error", str(reply))
        cursor, batch = reply
        seen.update(zip(batch[0::2], batch[1::2]) if command != b"SSCAN" else batch)
        rounds += 1
        if cursor == b"0" or rounds > 100000:
            return ("elements", sorted(seen))


def as_pairs(reply):
    """Field-value pairs of a map reply (a RESP3 map or a RESP2 flat array), sorted."""
    if isinstance(reply, dict):
        return sorted(reply.items())
    if isinstance(reply, list):
        return sorted(zip(reply[0::2], reply[1::2]))
    return reply


def ttl_close(a, b, tolerance):
    if not (isinstance(a, int) and isinstance(b, int)):
        return a == b
    if a < 0 or b < 0:
        return a == b
    return abs(a - b) <= tolerance


class Pair:
    """The reference and the target connection, with the command history for failure reports."""

    def __init__(self, ref_port, target_port, seed, resp3):
        self.ref = RespConnection(HOST, ref_port)
        self.tgt = RespConnection(HOST, target_port)
        self.seed = seed
        self.rng = random.Random(seed * 7919 + 1)  # apart from the generator's, for "blocking"
        self.history = []
        if resp3:
            self.ref.call("HELLO", "3")
            self.tgt.call("HELLO", "3")
        assert self.ref.call("FLUSHALL") == "OK"
        assert self.tgt.call("FLUSHALL") == "OK"

    def close(self):
        self.ref.close()
        self.tgt.close()

    def fail(self, args, ref_reply, tgt_reply):
        tail = "\n".join("  %r" % (h,) for h in self.history[-25:])
        pytest.fail("differential mismatch (seed %d, CAIRN_DIFF_SEED=%d to rerun)\n"
                    "command: %r\nredis:   %r\ntarget:  %r\nrecent history:\n%s"
                    % (self.seed, self.seed, args, ref_reply, tgt_reply, tail))

    def both_bytes(self, args):
        self.history.append(args)
        return self.ref.call_bytes(*args), self.tgt.call_bytes(*args)

    def run(self, args, mode):
        if mode == "scan":
            self.history.append([b"SCAN*"] + args)
            a, b = scan_all(self.ref, args), scan_all(self.tgt, args)
            if a != b:
                self.fail([b"SCAN*"] + args, a, b)
            return
        if mode == "lex":
            if not self.single_score_on_reference(args[2] if args[0] == b"ZRANGESTORE"
                                                  else args[1]):
                self.history.append([b"(skipped)"] + args)
                return
            mode = "exact"
        if mode == "blocking":
            args = self.blocking_args(args)
            if args is None:
                return
            mode = "exact"
        if mode in ("hscan", "sscan", "zscan"):
            command = mode.upper().encode()
            self.history.append([command + b"*"] + args)
            a = collection_scan_all(self.ref, command, args[0], args[1:])
            b = collection_scan_all(self.tgt, command, args[0], args[1:])
            if a != b:
                self.fail([command + b"*"] + args, a, b)
            return
        if mode == "dbsize":
            # Redis counts logically expired keys (SET .. EXAT <past>) until they are reclaimed:
            # looking every key up first reclaims them on both sides.
            self.run([b"EXISTS"] + KEYS, "exact")
            mode = "exact"
        ra, rb = self.both_bytes(args)
        if mode == "exact":
            if ra != rb:
                self.fail(args, ra, rb)
        elif mode in ("ttl_s", "ttl_ms"):
            if not ttl_close(parse(ra), parse(rb), 2 if mode == "ttl_s" else 2000):
                self.fail(args, ra, rb)
        elif mode == "sorted":
            pa, pb = parse(ra), parse(rb)
            if isinstance(pa, list) and isinstance(pb, list):
                if sorted(pa) != sorted(pb) or ra[:1] != rb[:1]:
                    self.fail(args, ra, rb)
            elif ra != rb:
                self.fail(args, ra, rb)
        elif mode == "pairs":
            if ra[:1] != rb[:1] or as_pairs(parse(ra)) != as_pairs(parse(rb)):
                self.fail(args, ra, rb)
        elif mode == "hrandfield":
            self.check_random_fields(args, ra, rb)
        elif mode == "randomkey":
            pa, pb = parse(ra), parse(rb)
            if (pa is None) != (pb is None):
                self.fail(args, ra, rb)
            if pb is not None and self.tgt.call("EXISTS", pb) != 1:
                self.fail(args + [b"(key does not exist on target)"], ra, rb)
        else:
            raise AssertionError(mode)

    def single_score_on_reference(self, key):
        """True unless key holds a sorted set with members of different scores on the reference.
        Redis answers a lex range over such a set by walking its structure (a listpack's order,
        a skiplist's random levels): the result is unspecified, so the lex commands are compared
        only where every score is equal."""
        reply = self.ref.call(b"ZRANGE", key, b"0", b"-1", b"WITHSCORES")
        if not isinstance(reply, list):
            return True
        scores = [item[1] for item in reply] if reply and isinstance(reply[0], list) \
            else reply[1::2]
        return len(set(scores)) <= 1

    def blocking_args(self, args):
        """A blocking pop is sent only where the reference answers at once (some key exists, or
        an argument is invalid), else rarely with a 10 ms timeout (Redis times a blocked client
        out on its 100 ms cron). None when it is not sent."""
        if args[0] == b"BZMPOP":
            timeout, numkeys = args[1], args[2]
            count = int(numkeys) if numkeys.lstrip(b"-").isdigit() else 0
            keys = args[3:3 + count] if 0 < count <= len(args) - 4 else []
            timeout_index = 1
        else:
            timeout, keys, timeout_index = args[-1], args[1:-1], len(args) - 1
        if timeout not in (b"1", b"0.5") or not keys:
            return args  # an error, or a timeout already short
        if self.ref.call(b"EXISTS", *keys) > 0:
            return args
        if self.rng.random() < 0.1:
            return args[:timeout_index] + [b"0.01"] + args[timeout_index + 1:]
        self.history.append([b"(skipped)"] + args)
        return None

    def check_random_fields(self, args, ra, rb):
        pa, pb = parse(ra), parse(rb)
        if ra[:1] != rb[:1] or isinstance(pa, Exception) or pa is None:
            if ra != rb:  # another reply type, or an error or a null that differs
                self.fail(args, ra, rb)
            return
        if args[0] == b"SRANDMEMBER":
            members = self.tgt.call("SMEMBERS", args[1])
            fields = {member: None for member in members} if isinstance(members, list) else {}
        elif args[0] == b"ZRANDMEMBER":
            reply = self.tgt.call("ZRANGE", args[1], "0", "-1", "WITHSCORES")
            if not isinstance(reply, list):
                fields = {}
            elif reply and isinstance(reply[0], list):  # RESP3: [member, score] pairs
                fields = {member: score for member, score in reply}
            else:
                fields = dict(zip(reply[0::2], reply[1::2]))
        else:
            fields = dict(as_pairs(self.tgt.call("HGETALL", args[1])))
        if not isinstance(pb, list):
            if pb not in fields:
                self.fail(args + [b"(no such field on target)"], ra, rb)
            return
        if len(pa) != len(pb):
            self.fail(args, ra, rb)
        with_values = len(args) > 3 and args[3].upper() in (b"WITHVALUES", b"WITHSCORES")
        if not with_values:
            picked = [(field, fields.get(field)) for field in pb]
        elif pb and isinstance(pb[0], list):  # RESP3: [field, value] pairs
            picked = [tuple(item) for item in pb]
        else:
            picked = list(zip(pb[0::2], pb[1::2]))
        for field, value in picked:
            if field not in fields or fields[field] != value:
                self.fail(args + [b"(field or value not in the hash on target)"], ra, rb)
        if not args[2].startswith(b"-") and len(set(f for f, _ in picked)) != len(picked):
            self.fail(args + [b"(a positive count repeated an element on target)"], ra, rb)

    def transaction(self, gen):
        """MULTI, a few commands (exact modes only), maybe a queue-time error, EXEC or DISCARD."""
        self.run([b"MULTI"], "exact")
        for _ in range(gen.rng.randint(0, 4)):
            args, mode = gen.command()
            if mode != "exact":
                continue
            self.run(args, "exact")  # +QUEUED or a queue-time error
        if gen.rng.random() < 0.05:
            self.run([b"GET"], "exact")  # wrong arity: EXECABORT
        self.run([gen.rng.choice([b"EXEC", b"EXEC", b"EXEC", b"DISCARD"])], "exact")

    def pipelined(self, gen):
        """Several exact-mode commands written at once to each server; replies compared in order."""
        batch = []
        while len(batch) < gen.rng.randint(2, 8):
            args, mode = gen.command()
            if mode == "exact":
                batch.append(args)
        self.history.append([b"PIPELINE:"] + [b" ".join(a) for a in batch])
        payload = b"".join(encode_command(*a) for a in batch)
        self.ref.send_raw(payload)
        self.tgt.send_raw(payload)
        for args in batch:
            ra, rb = self.ref.read_frame_bytes(), self.tgt.read_frame_bytes()
            if ra != rb:
                self.fail([b"(pipelined)"] + args, ra, rb)

    def compare_state(self):
        ka = sorted(self.ref.call("KEYS", "*"))
        kb = sorted(self.tgt.call("KEYS", "*"))
        if ka != kb:
            self.fail([b"KEYS", b"* (final state)"], ka, kb)
        for key in ka:
            for cmd, mode in ((b"GET", "exact"), (b"TYPE", "exact"), (b"PTTL", "ttl_ms"),
                              (b"HGETALL", "pairs"), (b"SMEMBERS", "sorted"),
                              (b"LRANGE", "exact"), (b"ZRANGE", "exact")):
                extra = {b"LRANGE": [b"0", b"-1"], b"ZRANGE": [b"0", b"-1", b"WITHSCORES"]}
                self.run([cmd, key] + extra.get(cmd, []), mode)
        self.run([b"DBSIZE"], "dbsize")


@pytest.mark.parametrize("seed", SEEDS)
def test_differential_random_sequences(server, redis_reference, seed):
    rng = random.Random(seed)
    pair = Pair(redis_reference.port, server.port, seed, resp3=(seed % 3 == 0))
    try:
        gen = Gen(rng)
        for _ in range(OPS_PER_SEED):
            args, mode = gen.command()
            if mode == "multi":
                pair.transaction(gen)
            elif rng.random() < 0.03:
                pair.pipelined(gen)
            else:
                pair.run(args, mode)
        pair.compare_state()
    finally:
        pair.close()


def test_differential_fixed_edge_cases(server, redis_reference):
    """A fixed list of edge cases checked the same way (replies byte for byte)."""
    cases = [
        [b"SET", b"k", b"v", b"NX", b"XX"], [b"SET", b"k", b"v", b"EX", b"0"],
        [b"SET", b"k", b"v", b"KEEPTTL", b"EX", b"10"], [b"SET", b"k", b"1", b"GET"],
        [b"INCRBYFLOAT", b"k", b"0.1"], [b"INCRBYFLOAT", b"k", b"0.2"],
        [b"INCRBYFLOAT", b"k", b"1e3"], [b"INCRBYFLOAT", b"k", b"-1000.3"],
        [b"SET", b"f", b"3.0"], [b"INCRBYFLOAT", b"f", b"0"], [b"GET", b"f"],
        [b"SET", b"f", b"0x10"], [b"INCRBYFLOAT", b"f", b"1"],
        [b"SET", b"f", b"1.0e1"], [b"INCRBYFLOAT", b"f", b"1.25"],
        [b"INCRBYFLOAT", b"g", b"2.5e-5"], [b"INCRBYFLOAT", b"h", b"123456789.125"],
        [b"INCRBYFLOAT", b"i", b"-0"], [b"INCRBYFLOAT", b"j", b"1.23456789012345678"],
        [b"SETRANGE", b"s", b"3", b"ab"], [b"GET", b"s"], [b"GETRANGE", b"s", b"-2", b"-1"],
        [b"APPEND", b"s", b"\x00"], [b"STRLEN", b"s"],
        [b"EXPIRE", b"s", b"100", b"GT"], [b"EXPIRE", b"s", b"100", b"LT"], [b"TTL", b"s"],
        [b"RENAME", b"s", b"s"], [b"RENAMENX", b"s", b"s"], [b"COPY", b"s", b"s"],
        [b"COPY", b"s", b"t", b"REPLACE"], [b"GET", b"t"], [b"TTL", b"t"],
        [b"MSETNX", b"x", b"1", b"x", b"2"], [b"GET", b"x"],
        [b"DECRBY", b"x", b"-9223372036854775808"], [b"INCRBY", b"x", b"9223372036854775807"],
        [b"GETEX", b"x", b"PERSIST", b"PERSIST"], [b"GETEX", b"x", b"EX", b"1", b"EX", b"2"],
        [b"EXISTS", b"x", b"x", b"nope", b"x"], [b"DEL", b"x", b"x"],
        [b"KEYS", b"[a-z]"], [b"TYPE", b"t"], [b"OBJECT", b"ENCODING", b"nope"],
        [b"PEXPIRE", b"t", b"9223372036854775807"], [b"EXPIREAT", b"t", b"-9223372036854775808"],
        [b"PEXPIREAT", b"t", b"9223372036854775807"], [b"SETEX", b"t", b"9223372036854775807", b"v"],
    ]
    pair = Pair(redis_reference.port, server.port, 0, resp3=False)
    try:
        for args in cases:
            mode = "ttl_s" if args[0] == b"TTL" else "sorted" if args[0] == b"KEYS" else "exact"
            pair.run(args, mode)
        pair.compare_state()
    finally:
        pair.close()
