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

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
