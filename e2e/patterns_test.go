package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests in this file follow what stream users do most: keep an event
// log and page through it newest first, query a time window, and cap a
// stream's size.

// baseMs is an arbitrary fixed timestamp so that time-window expectations
// do not depend on the clock.
const baseMs = 1_700_000_000_000

func TestPatternEventLogNewestFirst(t *testing.T) {
	p := StartNode(t)
	forEachProto(t, p, func(t *testing.T, c *redis.Client) {
		ctx := testCtx(t, time.Minute)
		const n = 1000
		// Ingest with auto-generated IDs through a pipeline, as a producer
		// would; several land in the same millisecond and get sequence
		// numbers.
		pipe := c.Pipeline()
		cmds := make([]*redis.StringCmd, n)
		for i := range cmds {
			cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []string{
				"type", "login", "user", fmt.Sprintf("u%d", i%37), "seq", strconv.Itoa(i),
			}})
		}
		_, err := pipe.Exec(ctx)
		must(t, err)
		added := make([]string, n)
		for i, cmd := range cmds {
			added[i] = cmd.Val()
			if i > 0 && !idLess(t, added[i-1], added[i]) {
				t.Fatalf("auto IDs not increasing: %s then %s", added[i-1], added[i])
			}
		}

		// Page newest first: each page starts just below the last ID seen.
		var paged []string
		end := "+"
		for pages := 0; ; pages++ {
			if pages > n {
				t.Fatal("paging did not terminate")
			}
			page, err := c.XRevRangeN(ctx, "events", end, "-", 64).Result()
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, m := range page {
				paged = append(paged, m.ID)
				wantEq(t, "seq field of "+m.ID, m.Values["seq"], any(strconv.Itoa(n-len(paged))))
			}
			end = "(" + page[len(page)-1].ID
		}
		want := slices.Clone(added)
		slices.Reverse(want)
		wantEq(t, "newest-first paging", paged, want)

		// The newest event alone, the common "latest state" query.
		last, err := c.XRevRangeN(ctx, "events", "+", "-", 1).Result()
		must(t, err)
		wantEq(t, "latest", ids(last), []string{added[n-1]})

		// Forward paging with the exclusive form gives the same entries.
		var fwd []string
		start := "-"
		for {
			page, err := c.XRangeN(ctx, "events", start, "+", 100).Result()
			must(t, err)
			if len(page) == 0 {
				break
			}
			fwd = append(fwd, ids(page)...)
			start = "(" + page[len(page)-1].ID
		}
		wantEq(t, "oldest-first paging", fwd, added)
	})
}

func TestPatternTimeRange(t *testing.T) {
	p := StartNode(t)
	forEachProto(t, p, func(t *testing.T, c *redis.Client) {
		ctx := testCtx(t, time.Minute)
		// One reading every 10 ms for 10 s, two readings sharing each
		// millisecond (sequence 0 and 1).
		pipe := c.Pipeline()
		for i := 0; i < 1000; i++ {
			ms := baseMs + int64(i)*10
			for seq := 0; seq < 2; seq++ {
				pipe.XAdd(ctx, &redis.XAddArgs{Stream: "metrics", ID: fmt.Sprintf("%d-%d", ms, seq),
					Values: []string{"v", strconv.Itoa(i)}})
			}
		}
		_, err := pipe.Exec(ctx)
		must(t, err)

		ms := func(off int64) string { return strconv.FormatInt(baseMs+off, 10) }
		// A window given as bare milliseconds includes every sequence of
		// both end milliseconds.
		got, err := c.XRange(ctx, "metrics", ms(1000), ms(1990)).Result()
		must(t, err)
		wantEq(t, "window size", len(got), 200)
		wantEq(t, "window first", got[0].ID, ms(1000)+"-0")
		wantEq(t, "window last", got[len(got)-1].ID, ms(1990)+"-1")

		// Bounds between readings.
		got, err = c.XRange(ctx, "metrics", ms(1001), ms(1019)).Result()
		must(t, err)
		wantEq(t, "between readings", ids(got), []string{ms(1010) + "-0", ms(1010) + "-1"})

		// Exclusive bounds on full IDs.
		got, err = c.XRange(ctx, "metrics", "("+ms(1000)+"-0", "("+ms(1010)+"-1").Result()
		must(t, err)
		wantEq(t, "exclusive", ids(got), []string{ms(1000) + "-1", ms(1010) + "-0"})

		// The same window newest first, limited.
		got, err = c.XRevRangeN(ctx, "metrics", ms(1990), ms(1000), 3).Result()
		must(t, err)
		wantEq(t, "reverse window", ids(got), []string{ms(1990) + "-1", ms(1990) + "-0", ms(1980) + "-1"})

		// Windows outside the data are empty, not errors.
		got, err = c.XRange(ctx, "metrics", ms(20000), "+").Result()
		must(t, err)
		wantEq(t, "after the data", len(got), 0)
		got, err = c.XRange(ctx, "metrics", ms(500), ms(400)).Result()
		must(t, err)
		wantEq(t, "inverted window", len(got), 0)

		// XREAD from a point in time returns what came after it.
		streams, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{"metrics", ms(9980) + "-1"}, Block: -1}).Result()
		must(t, err)
		wantEq(t, "XREAD after a time", ids(streams[0].Messages), []string{ms(9990) + "-0", ms(9990) + "-1"})
	})
}

func TestPatternTrimming(t *testing.T) {
	p := StartNode(t)
	forEachProto(t, p, func(t *testing.T, c *redis.Client) {
		ctx := testCtx(t, time.Minute)
		add := func(args *redis.XAddArgs, n int) {
			t.Helper()
			pipe := c.Pipeline()
			for i := 0; i < n; i++ {
				a := *args
				a.Values = []string{"i", strconv.Itoa(i)}
				pipe.XAdd(ctx, &a)
			}
			_, err := pipe.Exec(ctx)
			must(t, err)
		}

		// Exact MAXLEN on every add keeps the newest N.
		add(&redis.XAddArgs{Stream: "capped", MaxLen: 100}, 1000)
		wantEq(t, "XLEN capped", c.XLen(ctx, "capped").Val(), int64(100))
		first, err := c.XRangeN(ctx, "capped", "-", "+", 1).Result()
		must(t, err)
		wantEq(t, "oldest kept", first[0].Values["i"], any("900"))

		// Approximate MAXLEN trims whole nodes only: never below the
		// threshold, and never more than one node (100 entries by default)
		// above it.
		add(&redis.XAddArgs{Stream: "approx", MaxLen: 100, Approx: true}, 1000)
		if n := c.XLen(ctx, "approx").Val(); n < 100 || n > 200 {
			t.Fatalf("XLEN after MAXLEN ~ 100: %d, want 100..200", n)
		}

		// MINID drops everything older than a time.
		pipe := c.Pipeline()
		for i := 0; i < 100; i++ {
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: "aged", ID: fmt.Sprintf("%d-0", baseMs+int64(i)*1000), Values: []string{"i", strconv.Itoa(i)}})
		}
		_, err = pipe.Exec(ctx)
		must(t, err)
		n, err := c.XTrimMinID(ctx, "aged", strconv.FormatInt(baseMs+60_000, 10)).Result()
		must(t, err)
		wantEq(t, "XTRIM MINID removed", n, int64(60))
		wantEq(t, "XLEN after MINID", c.XLen(ctx, "aged").Val(), int64(40))
		// XADD with MINID trims as it appends.
		must(t, c.XAdd(ctx, &redis.XAddArgs{Stream: "aged", MinID: strconv.FormatInt(baseMs+90_000, 10),
			ID: fmt.Sprintf("%d-0", baseMs+100_000), Values: []string{"i", "100"}}).Err())
		got, err := c.XRange(ctx, "aged", "-", "+").Result()
		must(t, err)
		wantEq(t, "XLEN after XADD MINID", len(got), 11)
		wantEq(t, "oldest after XADD MINID", got[0].ID, fmt.Sprintf("%d-0", baseMs+90_000))

		// Trimming to zero keeps the (empty) key and its last ID.
		n, err = c.XTrimMaxLen(ctx, "aged", 0).Result()
		must(t, err)
		wantEq(t, "XTRIM MAXLEN 0", n, int64(11))
		wantEq(t, "EXISTS after trim to 0", c.Exists(ctx, "aged").Val(), int64(1))
		_, err = c.XAdd(ctx, &redis.XAddArgs{Stream: "aged", ID: fmt.Sprintf("%d-0", baseMs), Values: []string{"i", "x"}}).Result()
		wantErr(t, err, "ERR The ID specified in XADD is equal or smaller than the target stream top item")
	})
}

// idLess reports whether stream ID a sorts before b.
func idLess(t testing.TB, a, b string) bool {
	t.Helper()
	am, as := splitID(t, a)
	bm, bs := splitID(t, b)
	return am < bm || (am == bm && as < bs)
}
