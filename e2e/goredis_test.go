package e2e

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// newClient returns a go-redis client for addr speaking protocol proto
// (2 or 3) with database db selected, closed when t ends. Retries are off:
// a test must see exactly what the server answered, and a retried XADD
// could add an entry twice.
func newClient(t testing.TB, addr string, proto, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:         addr,
		Protocol:     proto,
		DB:           db,
		MaxRetries:   -1,
		DialTimeout:  5 * time.Second,
		ReadTimeout:  ioTimeout,
		WriteTimeout: ioTimeout,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// testCtx returns a context that ends with t or after d.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// must fails t if err is not nil.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails t unless err is a server error with exactly text.
func wantErr(t testing.TB, err error, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %q, got success", text)
	}
	if err.Error() != text {
		t.Fatalf("want error %q, got %q", text, err.Error())
	}
}

func wantEq[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %#v, want %#v", what, got, want)
	}
}

// ids returns the IDs of msgs.
func ids(msgs []redis.XMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// forEachProto runs fn as a subtest for RESP2 and RESP3 clients of p, on a
// flushed keyspace each time.
func forEachProto(t *testing.T, p *Proc, fn func(t *testing.T, c *redis.Client)) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			c := newClient(t, p.Addr, proto, 0)
			must(t, c.FlushAll(testCtx(t, ioTimeout)).Err())
			fn(t, c)
		})
	}
}

func TestGoRedisStreams(t *testing.T) {
	p := StartNode(t)
	forEachProto(t, p, func(t *testing.T, c *redis.Client) {
		ctx := testCtx(t, time.Minute)

		for i := 1; i <= 5; i++ {
			id, err := c.XAdd(ctx, &redis.XAddArgs{
				Stream: "s", ID: fmt.Sprintf("%d-1", i),
				Values: []string{"n", strconv.Itoa(i), "sq", strconv.Itoa(i * i)},
			}).Result()
			must(t, err)
			wantEq(t, "XADD id", id, fmt.Sprintf("%d-1", i))
		}
		wantEq(t, "XLEN", c.XLen(ctx, "s").Val(), int64(5))
		wantEq(t, "XLEN missing", c.XLen(ctx, "missing").Val(), int64(0))

		all, err := c.XRange(ctx, "s", "-", "+").Result()
		must(t, err)
		wantEq(t, "XRANGE ids", ids(all), []string{"1-1", "2-1", "3-1", "4-1", "5-1"})
		wantEq(t, "XRANGE fields", all[2].Values, map[string]any{"n": "3", "sq": "9"})

		got, err := c.XRangeN(ctx, "s", "(2-1", "+", 2).Result()
		must(t, err)
		wantEq(t, "XRANGE exclusive COUNT 2", ids(got), []string{"3-1", "4-1"})

		got, err = c.XRevRange(ctx, "s", "+", "-").Result()
		must(t, err)
		wantEq(t, "XREVRANGE", ids(got), []string{"5-1", "4-1", "3-1", "2-1", "1-1"})
		got, err = c.XRevRangeN(ctx, "s", "4", "2", 2).Result()
		must(t, err)
		wantEq(t, "XREVRANGE ms bounds COUNT 2", ids(got), []string{"4-1", "3-1"})

		// Errors keep Redis's exact texts.
		_, err = c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "5-1", Values: []string{"a", "b"}}).Result()
		wantErr(t, err, "ERR The ID specified in XADD is equal or smaller than the target stream top item")
		_, err = c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "0-0", Values: []string{"a", "b"}}).Result()
		wantErr(t, err, "ERR The ID specified in XADD must be greater than 0-0")
		_, err = c.XRange(ctx, "s", "bogus", "+").Result()
		wantErr(t, err, "ERR Invalid stream ID specified as stream command argument")

		// Auto IDs: "*" and "<ms>-*".
		auto, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"a", "b"}}).Result()
		must(t, err)
		if ms, _ := splitID(t, auto); ms < uint64(time.Now().Add(-time.Hour).UnixMilli()) {
			t.Fatalf("auto ID %s does not look like a current timestamp", auto)
		}
		seqID, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "t", ID: "7-*", Values: []string{"a", "b"}}).Result()
		must(t, err)
		wantEq(t, "XADD 7-* on empty stream", seqID, "7-0")
		seqID, err = c.XAdd(ctx, &redis.XAddArgs{Stream: "t", ID: "7-*", Values: []string{"a", "b"}}).Result()
		must(t, err)
		wantEq(t, "XADD 7-* again", seqID, "7-1")

		// NOMKSTREAM on a missing key is a nil reply.
		_, err = c.XAdd(ctx, &redis.XAddArgs{Stream: "nokey", NoMkStream: true, Values: []string{"a", "b"}}).Result()
		if !errors.Is(err, redis.Nil) {
			t.Fatalf("XADD NOMKSTREAM missing key: want redis.Nil, got %v", err)
		}
		wantEq(t, "EXISTS nokey", c.Exists(ctx, "nokey").Val(), int64(0))

		// XDEL counts only entries that existed.
		n, err := c.XDel(ctx, "s", "2-1", "3-1", "99-1").Result()
		must(t, err)
		wantEq(t, "XDEL", n, int64(2))
		got, err = c.XRange(ctx, "s", "-", "5").Result()
		must(t, err)
		wantEq(t, "XRANGE after XDEL", ids(got), []string{"1-1", "4-1", "5-1"})

		// XREAD over two streams, then from the end.
		streams, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "t", "4-1", "0"}, Block: -1}).Result()
		must(t, err)
		wantEq(t, "XREAD streams", len(streams), 2)
		wantEq(t, "XREAD s", streams[0].Stream, "s")
		wantEq(t, "XREAD s ids", ids(streams[0].Messages), []string{"5-1", auto})
		wantEq(t, "XREAD t ids", ids(streams[1].Messages), []string{"7-0", "7-1"})
		streams, err = c.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "0"}, Count: 1, Block: -1}).Result()
		must(t, err)
		wantEq(t, "XREAD COUNT 1", ids(streams[0].Messages), []string{"1-1"})
		_, err = c.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", auto}, Block: -1}).Result()
		if !errors.Is(err, redis.Nil) {
			t.Fatalf("XREAD past the end: want redis.Nil, got %v", err)
		}
		_, err = c.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "$"}, Block: -1}).Result()
		if !errors.Is(err, redis.Nil) {
			t.Fatalf("XREAD $ without BLOCK: want redis.Nil, got %v", err)
		}

		// XTRIM MAXLEN and MINID.
		for i := 10; i < 20; i++ {
			must(t, c.XAdd(ctx, &redis.XAddArgs{Stream: "tr", ID: fmt.Sprintf("%d-0", i), Values: []string{"i", strconv.Itoa(i)}}).Err())
		}
		n, err = c.XTrimMaxLen(ctx, "tr", 7).Result()
		must(t, err)
		wantEq(t, "XTRIM MAXLEN 7", n, int64(3))
		n, err = c.XTrimMinID(ctx, "tr", "15").Result()
		must(t, err)
		wantEq(t, "XTRIM MINID 15", n, int64(2))
		got, err = c.XRange(ctx, "tr", "-", "+").Result()
		must(t, err)
		wantEq(t, "after XTRIM", ids(got), []string{"15-0", "16-0", "17-0", "18-0", "19-0"})

		// XSETID moves the last ID; the next auto-sequence follows it.
		must(t, c.Do(ctx, "XSETID", "tr", "100-5").Err())
		seqID, err = c.XAdd(ctx, &redis.XAddArgs{Stream: "tr", ID: "100-*", Values: []string{"a", "b"}}).Result()
		must(t, err)
		wantEq(t, "XADD after XSETID", seqID, "100-6")
		wantErr(t, c.Do(ctx, "XSETID", "tr", "1-1").Err(), "ERR The ID specified in XSETID is smaller than the target stream top item")
		wantErr(t, c.Do(ctx, "XSETID", "nokey", "1-1").Err(), "ERR no such key")
	})
}

// splitID parses "ms-seq".
func splitID(t testing.TB, id string) (ms, seq uint64) {
	t.Helper()
	var err error
	for i := 0; i < len(id); i++ {
		if id[i] == '-' {
			if ms, err = strconv.ParseUint(id[:i], 10, 64); err == nil {
				seq, err = strconv.ParseUint(id[i+1:], 10, 64)
			}
			if err != nil {
				break
			}
			return ms, seq
		}
	}
	t.Fatalf("bad stream ID %q", id)
	return 0, 0
}

func TestGoRedisKeyspace(t *testing.T) {
	p := StartNode(t)
	forEachProto(t, p, func(t *testing.T, c *redis.Client) {
		ctx := testCtx(t, time.Minute)
		keys := []string{"a", "b", "c", "user:1", "user:2", "user:10"}
		for _, k := range keys {
			must(t, c.XAdd(ctx, &redis.XAddArgs{Stream: k, ID: "1-1", Values: []string{"k", k}}).Err())
		}
		wantEq(t, "DBSIZE", c.DBSize(ctx).Val(), int64(len(keys)))
		wantEq(t, "EXISTS", c.Exists(ctx, "a", "b", "zz", "a").Val(), int64(3))
		wantEq(t, "TYPE stream", c.Type(ctx, "a").Val(), "stream")
		wantEq(t, "TYPE none", c.Type(ctx, "zz").Val(), "none")

		got, err := c.Keys(ctx, "user:*").Result()
		must(t, err)
		sort.Strings(got)
		wantEq(t, "KEYS user:*", got, []string{"user:1", "user:10", "user:2"})
		got, err = c.Keys(ctx, "user:?").Result()
		must(t, err)
		sort.Strings(got)
		wantEq(t, "KEYS user:?", got, []string{"user:1", "user:2"})

		// SCAN returns every key exactly once across the iteration.
		seen := map[string]int{}
		var cursor uint64
		for rounds := 0; ; rounds++ {
			if rounds > 1000 {
				t.Fatal("SCAN did not finish")
			}
			page, next, err := c.Scan(ctx, cursor, "*", 2).Result()
			must(t, err)
			for _, k := range page {
				seen[k]++
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		wantEq(t, "SCAN keys", len(seen), len(keys))
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("SCAN returned %q %d times", k, n)
			}
		}

		// RENAME keeps the value; RENAMENX refuses an existing target.
		must(t, c.Rename(ctx, "a", "a2").Err())
		wantEq(t, "EXISTS a after RENAME", c.Exists(ctx, "a").Val(), int64(0))
		msgs, err := c.XRange(ctx, "a2", "-", "+").Result()
		must(t, err)
		wantEq(t, "renamed value", msgs[0].Values, map[string]any{"k": "a"})
		ok, err := c.RenameNX(ctx, "a2", "b").Result()
		must(t, err)
		wantEq(t, "RENAMENX onto existing", ok, false)
		wantErr(t, c.Rename(ctx, "nokey", "x").Err(), "ERR no such key")

		// TTLs.
		wantEq(t, "TTL no expiry", c.TTL(ctx, "b").Val(), time.Duration(-1))
		wantEq(t, "TTL missing", c.TTL(ctx, "nokey").Val(), time.Duration(-2))
		must(t, c.Expire(ctx, "b", 100*time.Second).Err())
		if ttl := c.TTL(ctx, "b").Val(); ttl <= 90*time.Second || ttl > 100*time.Second {
			t.Fatalf("TTL after EXPIRE 100: %v", ttl)
		}
		if pttl := c.PTTL(ctx, "b").Val(); pttl <= 90*time.Second || pttl > 100*time.Second {
			t.Fatalf("PTTL after EXPIRE 100: %v", pttl)
		}
		wantEq(t, "EXPIRE NX on key with TTL", c.ExpireNX(ctx, "b", time.Hour).Val(), false)
		wantEq(t, "EXPIRE GT", c.ExpireGT(ctx, "b", time.Hour).Val(), true)
		wantEq(t, "EXPIRE LT larger", c.ExpireLT(ctx, "b", 2*time.Hour).Val(), false)
		must(t, c.Rename(ctx, "b", "b2").Err())
		if ttl := c.TTL(ctx, "b2").Val(); ttl <= 50*time.Minute {
			t.Fatalf("RENAME must keep the TTL, got %v", ttl)
		}
		wantEq(t, "PERSIST", c.Persist(ctx, "b2").Val(), true)
		wantEq(t, "TTL after PERSIST", c.TTL(ctx, "b2").Val(), time.Duration(-1))
		wantEq(t, "EXPIRE missing", c.Expire(ctx, "nokey", time.Second).Val(), false)
		wantErr(t, c.Do(ctx, "EXPIRE", "c", "10", "NX", "XX").Err(), "ERR NX and XX, GT or LT options at the same time are not compatible")

		// DEL, UNLINK and FLUSHDB.
		wantEq(t, "DEL", c.Del(ctx, "c", "nokey", "user:1").Val(), int64(2))
		wantEq(t, "UNLINK", c.Unlink(ctx, "user:2").Val(), int64(1))
		must(t, c.FlushDB(ctx).Err())
		wantEq(t, "DBSIZE after FLUSHDB", c.DBSize(ctx).Val(), int64(0))
	})
}

func TestGoRedisExpiry(t *testing.T) {
	p := StartNode(t)
	forEachProto(t, p, func(t *testing.T, c *redis.Client) {
		ctx := testCtx(t, time.Minute)
		add := func(key string) {
			must(t, c.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: "1-1", Values: []string{"f", "v"}}).Err())
		}
		add("lazy")
		add("active")
		add("past")
		add("keep")

		// A deadline in the past deletes at once.
		must(t, c.ExpireAt(ctx, "past", time.Unix(1, 0)).Err())
		wantEq(t, "EXISTS after EXPIREAT in the past", c.Exists(ctx, "past").Val(), int64(0))

		must(t, c.PExpire(ctx, "lazy", 150*time.Millisecond).Err())
		must(t, c.PExpire(ctx, "active", 150*time.Millisecond).Err())
		must(t, c.Expire(ctx, "keep", time.Hour).Err())

		// Reads stop seeing the key once it is due...
		waitFor(t, 10*time.Second, "lazy key to disappear", func() bool {
			return c.Exists(ctx, "lazy").Val() == 0
		})
		wantEq(t, "XLEN of expired key", c.XLen(ctx, "lazy").Val(), int64(0))
		wantEq(t, "TTL of expired key", c.TTL(ctx, "lazy").Val(), time.Duration(-2))
		// ...and active expiry removes it without any access, so DBSIZE
		// (which counts keys not yet deleted) drops to the survivors.
		waitFor(t, 10*time.Second, "active expiry to delete due keys", func() bool {
			return c.DBSize(ctx).Val() == 1
		})
		wantEq(t, "EXISTS keep", c.Exists(ctx, "keep").Val(), int64(1))
		got, err := c.Keys(ctx, "*").Result()
		must(t, err)
		wantEq(t, "KEYS after expiry", got, []string{"keep"})

		// Writing to an expired key starts a fresh stream.
		add("lazy")
		wantEq(t, "XLEN of re-created key", c.XLen(ctx, "lazy").Val(), int64(1))
		wantEq(t, "TTL of re-created key", c.TTL(ctx, "lazy").Val(), time.Duration(-1))
	})
}

func TestGoRedisSelect(t *testing.T) {
	p := StartNode(t)
	forEachProto(t, p, func(t *testing.T, c0 *redis.Client) {
		ctx := testCtx(t, time.Minute)
		proto := c0.Options().Protocol
		c5 := newClient(t, p.Addr, proto, 5)
		must(t, c5.FlushDB(ctx).Err())

		must(t, c0.XAdd(ctx, &redis.XAddArgs{Stream: "k", ID: "1-1", Values: []string{"db", "0"}}).Err())
		must(t, c5.XAdd(ctx, &redis.XAddArgs{Stream: "k", ID: "2-2", Values: []string{"db", "5"}}).Err())
		must(t, c5.XAdd(ctx, &redis.XAddArgs{Stream: "only5", ID: "1-1", Values: []string{"db", "5"}}).Err())
		m0, err := c0.XRange(ctx, "k", "-", "+").Result()
		must(t, err)
		m5, err := c5.XRange(ctx, "k", "-", "+").Result()
		must(t, err)
		wantEq(t, "db0 k", ids(m0), []string{"1-1"})
		wantEq(t, "db5 k", ids(m5), []string{"2-2"})
		wantEq(t, "db0 DBSIZE", c0.DBSize(ctx).Val(), int64(1))
		wantEq(t, "db5 DBSIZE", c5.DBSize(ctx).Val(), int64(2))
		wantEq(t, "only5 in db0", c0.Exists(ctx, "only5").Val(), int64(0))

		// SELECT on one connection switches the keyspace for later commands.
		conn := c0.Conn()
		defer conn.Close()
		must(t, conn.Select(ctx, 5).Err())
		wantEq(t, "after SELECT 5", conn.Exists(ctx, "only5").Val(), int64(1))
		must(t, conn.Select(ctx, 0).Err())
		wantEq(t, "after SELECT 0", conn.Exists(ctx, "only5").Val(), int64(0))
		wantErr(t, conn.Select(ctx, 16).Err(), "ERR DB index is out of range")
		wantErr(t, conn.Do(ctx, "SELECT", "x").Err(), "ERR value is not an integer or out of range")

		// go-redis's documented way to switch databases on a pooled
		// client: SELECT inside a transaction pipeline, here with TIME
		// and CLIENT GETNAME queued too.
		var tm *redis.TimeCmd
		_, err = conn.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Select(ctx, 5)
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: "tx5", ID: "1-1", Values: []string{"db", "5"}})
			tm = pipe.Time(ctx)
			pipe.ClientGetName(ctx)
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) { // CLIENT GETNAME of an unnamed connection is nil
			t.Fatalf("TxPipelined with SELECT and TIME: %v", err)
		}
		if d := time.Since(tm.Val()); d < -time.Minute || d > time.Minute {
			t.Errorf("TIME queued in MULTI: %v", tm.Val())
		}
		wantEq(t, "tx5 in db5", c5.Exists(ctx, "tx5").Val(), int64(1))
		wantEq(t, "tx5 in db0", c0.Exists(ctx, "tx5").Val(), int64(0))
		wantEq(t, "the connection stays on db5 after EXEC", conn.Exists(ctx, "tx5").Val(), int64(1))
		must(t, conn.Select(ctx, 0).Err())

		// FLUSHDB is per database, FLUSHALL is not.
		must(t, c0.FlushDB(ctx).Err())
		wantEq(t, "db5 survives FLUSHDB of db0", c5.DBSize(ctx).Val(), int64(3))
		must(t, c0.FlushAll(ctx).Err())
		wantEq(t, "db5 after FLUSHALL", c5.DBSize(ctx).Val(), int64(0))
	})
}

// waitFor polls cond until it holds or d passes. It is for conditions the
// server reaches asynchronously (expiry); no test synchronises on time.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		<-tick.C
	}
}
