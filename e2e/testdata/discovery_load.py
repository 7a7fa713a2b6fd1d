"""Write load through redis-py's RedisCluster or Sentinel client.

Usage: discovery_load.py cluster|sentinel host:port[,host:port...] KEY PRODUCER STOPFILE

Appends to KEY until STOPFILE exists, one sequence number per entry, each
XADD with IDMP PRODUCER <seq>; a failed XADD is retried with the same
sequence number, so a retry of a write that did commit returns the first
ID instead of adding a second entry. Prints JSON: the acknowledged IDs by
sequence number, the errors the client raised, the longest gap between
acknowledged writes and a few error samples.
"""

import json
import os
import sys
import time

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.sentinel import Sentinel


def connect(mode, addrs):
    if mode == "cluster":
        return RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in addrs],
            socket_timeout=5,
            socket_connect_timeout=1,
        )
    sentinel = Sentinel(addrs, socket_timeout=1, socket_connect_timeout=1)
    return sentinel.master_for("raftstream", socket_timeout=5, socket_connect_timeout=1)


def main():
    mode, seeds, key, producer, stopfile = sys.argv[1:6]
    addrs = [(h, int(p)) for h, p in (s.rsplit(":", 1) for s in seeds.split(","))]
    client = connect(mode, addrs)
    rebuilt = 0

    acked, errors, samples = {}, 0, []
    max_stall, last_ok, seq = 0.0, time.monotonic(), 1
    while not os.path.exists(stopfile):
        try:
            entry_id = client.execute_command(
                "XADD", key, "IDMP", producer, str(seq), "*", "seq", str(seq)
            )
        except (redis.RedisError, RedisClusterException) as e:
            errors += 1
            if len(samples) < 8:
                samples.append(f"{type(e).__name__}: {e}")
            if isinstance(e, RedisClusterException):
                # redis-py 4.3's RedisCluster cannot re-initialize once its
                # master's connection was dropped (it deep-copies connection
                # kwargs holding a lock: "cannot pickle '_thread.lock'
                # object") and fails this way for good: start over from the
                # seeds, as an application would.
                client.close()
                client = connect(mode, addrs)
                rebuilt += 1
            time.sleep(0.02)  # retry pacing while the cluster elects a leader
            continue
        now = time.monotonic()
        max_stall = max(max_stall, now - last_ok)
        last_ok = now
        if isinstance(entry_id, bytes):
            entry_id = entry_id.decode()
        acked[str(seq)] = entry_id
        seq += 1
    json.dump(
        {"acked": acked, "errors": errors, "rebuilt": rebuilt, "max_stall_ms": max_stall * 1000, "samples": samples},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
