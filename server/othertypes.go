package server

// otherTypeCommands are Redis commands of data types raftstream does not
// store (strings, bitmaps, lists, hashes, sets, sorted sets, HyperLogLog,
// geo, vector sets). They get a reply that says so instead of Redis's
// generic "unknown command", because they are not misspellings: the data
// model has only streams.
var otherTypeCommands = setOf(
	// strings
	"get", "set", "setnx", "setex", "psetex", "mget", "mset", "msetnx", "append", "strlen",
	"incr", "decr", "incrby", "decrby", "incrbyfloat", "getset", "getdel", "getex",
	"getrange", "setrange", "substr", "lcs",
	// bitmaps
	"setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro",
	// lists
	"lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange", "lindex", "lset",
	"lrem", "ltrim", "linsert", "lpos", "lmove", "blmove", "rpoplpush", "brpoplpush",
	"blpop", "brpop", "lmpop", "blmpop",
	// hashes
	"hset", "hsetnx", "hget", "hmset", "hmget", "hdel", "hlen", "hstrlen", "hincrby",
	"hincrbyfloat", "hkeys", "hvals", "hgetall", "hexists", "hscan", "hrandfield",
	"hexpire", "hpexpire", "hexpireat", "hpexpireat", "httl", "hpttl", "hexpiretime",
	"hpexpiretime", "hpersist", "hgetdel", "hgetex", "hsetex",
	// sets
	"sadd", "srem", "scard", "sismember", "smismember", "smembers", "srandmember", "spop",
	"smove", "sinter", "sintercard", "sinterstore", "sunion", "sunionstore", "sdiff",
	"sdiffstore", "sscan",
	// sorted sets
	"zadd", "zrem", "zcard", "zcount", "zscore", "zmscore", "zincrby", "zrange", "zrangestore",
	"zrangebyscore", "zrevrangebyscore", "zrangebylex", "zrevrangebylex", "zrevrange", "zrank",
	"zrevrank", "zremrangebyrank", "zremrangebyscore", "zremrangebylex", "zlexcount",
	"zpopmin", "zpopmax", "bzpopmin", "bzpopmax", "zmpop", "bzmpop", "zrandmember", "zunion",
	"zunionstore", "zinter", "zinterstore", "zintercard", "zdiff", "zdiffstore", "zscan",
	// HyperLogLog
	"pfadd", "pfcount", "pfmerge",
	// geo
	"geoadd", "geodist", "geohash", "geopos", "georadius", "georadiusbymember",
	"georadius_ro", "georadiusbymember_ro", "geosearch", "geosearchstore",
	// vector sets (Redis 8)
	"vadd", "vrem", "vsim", "vcard", "vdim", "vemb", "vgetattr", "vsetattr", "vinfo",
	"vlinks", "vrandmember", "vismember",
)

// neverServed are Redis commands outside raftstream's model, with the
// reason the error gives: the state machine runs only its own commands,
// Raft replaces Redis's replication and persistence, and there is no
// Pub/Sub bus. Like otherTypeCommands they are not typos, so they get a
// reply that says so instead of "unknown command".
var neverServed = func() map[string]string {
	const (
		scripting   = "no Lua scripting or functions"
		pubsub      = "no Pub/Sub; consume streams with XREAD or XREADGROUP"
		replication = "replication is Raft's; add nodes with RAFT ADD or --join"
		persistence = "persistence is the Raft log; snapshot with RAFT SNAPSHOT"
		serialized  = "no DUMP/RESTORE serialization"
	)
	m := map[string]string{
		"publish": "no Pub/Sub; produce to streams with XADD", "spublish": "no Pub/Sub; produce to streams with XADD",
		"monitor":  "no MONITOR; use SLOWLOG, INFO commandstats or the log",
		"failover": "replication is Raft's; move the leader with RAFT TRANSFER",
		"migrate":  "no key migration: one Raft group holds every key",
		"module":   "no modules",
	}
	for reason, names := range map[string][]string{
		scripting:   {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "script"},
		pubsub:      {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "pubsub"},
		replication: {"sync", "psync", "replconf", "replicaof", "slaveof"},
		persistence: {"save", "bgsave", "bgrewriteaof"},
		serialized:  {"dump", "restore"},
	} {
		for _, n := range names {
			m[n] = reason
		}
	}
	return m
}()

// neverServedError is the reply to a command in neverServed.
func neverServedError(name []byte, reason string) string {
	return "ERR unsupported command '" + truncate(name, 128) + "': not supported by raftstream (" + reason + ")"
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
