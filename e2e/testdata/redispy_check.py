"""Exercise a server with redis-py the way applications do.

Usage: redispy_check.py PORT PROTOCOL
PROTOCOL is "default" (whatever this redis-py speaks by default), "2" or "3".
Exit status: 0 ok, 1 a check failed (message on stderr), 3 this redis-py
cannot speak the requested protocol (the Go test skips that case).
"""

import inspect
import sys

import redis

UNSUPPORTED = 3


def fail(msg):
    sys.stderr.write("FAIL: %s\n" % msg)
    sys.exit(1)


def expect(what, got, want):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))


def xread_entries(got):
    """Return XREAD's reply as {key: [(id, fields), ...]}."""
    if not got:
        return {}
    if isinstance(got, dict):
        out = {}
        for key, val in got.items():
            # RESP3 parsers wrap the entry list in one more list.
            if len(val) == 1 and isinstance(val[0], list):
                val = val[0]
            out[key] = list(val)
        return out
    return {key: list(val) for key, val in got}


def main():
    port = int(sys.argv[1])
    proto = sys.argv[2]
    kwargs = dict(host="127.0.0.1", port=port, socket_timeout=10)
    supports_protocol = "protocol" in inspect.signature(redis.Redis.__init__).parameters
    if proto != "default":
        if not supports_protocol:
            sys.stderr.write("redis-py %s has no protocol option\n" % redis.__version__)
            sys.exit(UNSUPPORTED)
        kwargs["protocol"] = int(proto)
    r = redis.Redis(**kwargs)
    print("redis-py %s, protocol %s" % (redis.__version__, proto))

    expect("PING", r.ping(), True)
    r.flushall()

    # XADD with explicit and auto-generated IDs.
    expect("XADD explicit", r.xadd("s", {"a": "1", "b": "two"}, id="1-1"), b"1-1")
    expect("XADD explicit 2", r.xadd("s", {"a": "3"}, id="2-0"), b"2-0")
    auto = r.xadd("s", {"a": "4"})
    ms, seq = auto.split(b"-")
    if int(ms) < 2 or int(seq) < 0:
        fail("auto ID %r" % auto)
    try:
        r.xadd("s", {"a": "5"}, id="1-1")
        fail("XADD with a smaller ID succeeded")
    except redis.ResponseError as e:
        expect("XADD smaller ID error", str(e),
               "The ID specified in XADD is equal or smaller than the target stream top item")
    expect("XADD nomkstream", r.xadd("nokey", {"a": "1"}, nomkstream=True), None)
    expect("XLEN", r.xlen("s"), 3)

    # XRANGE / XREVRANGE keep field order and binary values.
    expect("XRANGE", r.xrange("s", "-", "2"),
           [(b"1-1", {b"a": b"1", b"b": b"two"}), (b"2-0", {b"a": b"3"})])
    expect("XRANGE count", r.xrange("s", count=1), [(b"1-1", {b"a": b"1", b"b": b"two"})])
    expect("XREVRANGE", [e[0] for e in r.xrevrange("s", "+", "-")], [auto, b"2-0", b"1-1"])
    expect("XRANGE exclusive", [e[0] for e in r.xrange("s", "(1-1", "+")], [b"2-0", auto])
    r.xadd("bin", {b"\x00\xff": b"\r\n\x01"}, id="1-1")
    expect("binary", r.xrange("bin"), [(b"1-1", {b"\x00\xff": b"\r\n\x01"})])

    # XREAD: RESP2 gives a list of [key, entries], RESP3 a map; redis-py
    # versions present the map differently, so compare a normalised form.
    expect("XREAD", xread_entries(r.xread({"s": "1-1", "bin": "0"})), {
        b"s": [(b"2-0", {b"a": b"3"}), (auto, {b"a": b"4"})],
        b"bin": [(b"1-1", {b"\x00\xff": b"\r\n\x01"})],
    })
    expect("XREAD past the end", xread_entries(r.xread({"s": auto})), {})
    expect("XREAD COUNT 1", xread_entries(r.xread({"s": "0"}, count=1)),
           {b"s": [(b"1-1", {b"a": b"1", b"b": b"two"})]})

    # Trimming, deletion and keyspace.
    expect("XDEL", r.xdel("s", "2-0", "9-9"), 1)
    expect("XTRIM", r.xtrim("s", maxlen=1, approximate=False), 1)
    expect("after trim", [e[0] for e in r.xrange("s")], [auto])
    expect("TYPE", r.type("s"), b"stream")
    expect("EXISTS", r.exists("s", "bin", "nokey"), 2)
    expect("EXPIRE", r.expire("s", 100), True)
    ttl = r.ttl("s")
    if not 90 <= ttl <= 100:
        fail("TTL %r" % ttl)
    expect("DEL", r.delete("s", "bin"), 2)
    expect("DBSIZE", r.dbsize(), 0)

    # Pipelines are how redis-py users batch writes.
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.xadd("p", {"i": str(i)}, id="%d-1" % (i + 1))
    pipe.xlen("p")
    res = pipe.execute()
    expect("pipeline last", res[-1], 100)
    expect("pipeline ids", res[:3], [b"1-1", b"2-1", b"3-1"])

    # Durability and introspection helpers of redis-py on a single node:
    # a master without replicas, its own log holding every write.
    expect("WAIT", r.wait(0, 0), 0)
    # redis-py before 5 has no waitaof(): the generic call then.
    expect("WAITAOF", list(r.waitaof(1, 0, 0) if hasattr(r, "waitaof") else r.execute_command("WAITAOF", 1, 0, 0)), [1, 0])
    role = r.role()
    expect("ROLE", (role[0], role[2]), (b"master", []))
    usage = r.memory_usage("p")
    if not isinstance(usage, int) or usage < 100 * 5:
        fail("MEMORY USAGE %r" % usage)
    expect("MEMORY USAGE missing", r.memory_usage("nokey"), None)
    expect("OBJECT ENCODING", r.object("encoding", "p"), b"stream")
    expect("TOUCH", r.touch("p", "nokey"), 1)
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    r.xlen("p")
    entries = r.slowlog_get(1)
    r.config_set("slowlog-log-slower-than", 10000)
    if len(entries) != 1 or entries[0]["command"] not in (b"XLEN p", "XLEN p"):
        fail("SLOWLOG GET %r" % entries)
    print("ok")


if __name__ == "__main__":
    main()
