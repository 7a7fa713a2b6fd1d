package engine

// Redis 8.2+ deletion policies (XDELEX, XACKDEL, KEEPREF/DELREF/ACKED on
// XADD and XTRIM) and 8.6 IDMP/XCFGSET. Expectations follow the Redis 8
// sources (t_stream.c) and docs; Redis 7.0 has none of it.

func redis8DeleteCases() []cmdCase {
	codes := func(n ...int64) string {
		out := make([]string, len(n))
		for i, v := range n {
			out[i] = in(v)
		}
		return ar(out...)
	}
	return []cmdCase{
		{name: "xdelex", redis8Only: true, steps: []step{
			c("XDELEX s IDS 1 1-1", codes(-1)),
			c("XDELEX s IDS 2 1-1", er(errNumIDsMatch)),
			c("XDELEX s IDS 0 1-1", er(errNumIDs)),
			c("XDELEX s IDS abc 1-1", er(errNumIDs)),
			c("XDELEX s IDS -5 1-1", er(errNumIDs)),
			c("XDELEX s IDS 1 1-1 2-1", er(errSyntax)),
			c("XDELEX s KEEPREF DELREF IDS 1 1-1", er(errSyntax)),
			c("XDELEX s FOO IDS 1 1-1", er(errSyntax)),
			c("XDELEX s KEEPREF", er(errArity("xdelex"))),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XADD s 2-1 f v", bs("2-1")),
			c("XADD s 3-1 f v", bs("3-1")),
			c("XDELEX s IDS 3 1-1 9-9 1-1", codes(1, -1, -1)),
			c("XDELEX s IDS 1 abc", er(errInvalidID)),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g c COUNT 1 STREAMS s >", bs("s"), ar(ent("2-1", "f", "v"))),
			c("XDELEX s ACKED IDS 2 2-1 3-1", codes(2, 2)),
			c("XACK s g 2-1", in(1)),
			c("XDELEX s ACKED IDS 1 2-1", codes(1)),
			c("XADD s 4-1 f v", bs("4-1")),
			rg("XREADGROUP GROUP g c STREAMS s >", bs("s"), ar(ent("3-1", "f", "v"), ent("4-1", "f", "v"))),
			c("XDELEX s DELREF IDS 1 3-1", codes(1)),
			c("XPENDING s g", pendingSummary(1, "4-1", "4-1", "c", "1")),
			c("XDELEX s KEEPREF IDS 1 4-1", codes(1)),
			c("XPENDING s g", pendingSummary(1, "4-1", "4-1", "c", "1")),
			c("XDELEX s DELREF IDS 1 4-1", codes(-1)),
			emptyPending("XPENDING s g"),
			c("XDELEX s IDS 1 4-1 ACKED", codes(-1)),
			c("XLEN s", in(0)),
		}},
		{name: "xackdel", redis8Only: true, steps: []step{
			c("XACKDEL s g IDS 1 1-1", codes(-1)),
			c("XACKDEL s g IDS 0 1-1", er(errNumIDs)),
			c("XACKDEL s g IDS 2 1-1", er(errNumIDsMatch)),
			c("XACKDEL s g KEEPREF DELREF IDS 1 1-1", er(errSyntax)),
			c("XACKDEL s g IDS 1 1-1 2-1", er(errSyntax)),
			c("XACKDEL s g IDS", er(errArity("xackdel"))),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XADD s 2-1 f v", bs("2-1")),
			c("XADD s 3-1 f v", bs("3-1")),
			c("XADD s 4-1 f v", bs("4-1")),
			c("XGROUP CREATE s g1 0", ok()),
			c("XGROUP CREATE s g2 0", ok()),
			rg("XREADGROUP GROUP g1 c STREAMS s >", bs("s"), ar(ent("1-1", "f", "v"), ent("2-1", "f", "v"),
				ent("3-1", "f", "v"), ent("4-1", "f", "v"))),
			rg("XREADGROUP GROUP g2 c COUNT 2 STREAMS s >", bs("s"), ar(ent("1-1", "f", "v"), ent("2-1", "f", "v"))),
			c("XACKDEL s g1 IDS 1 1-1", codes(1)),
			c("XPENDING s g2", pendingSummary(2, "1-1", "2-1", "c", "2")),
			c("XLEN s", in(3)),
			c("XACKDEL s g1 ACKED IDS 2 2-1 3-1", codes(2, 2)),
			c("XACKDEL s g1 ACKED IDS 1 2-1", codes(-1)),
			c("XACKDEL s g2 ACKED IDS 1 2-1", codes(1)),
			c("XLEN s", in(2)),
			c("XACKDEL s g1 DELREF IDS 1 4-1", codes(1)),
			c("XLEN s", in(1)),
			c("XACKDEL s g2 IDS 1 1-1", codes(1)),
			c("XACKDEL s g2 IDS 1 abc", er(errInvalidID)),
			c("XACKDEL s nog IDS 1 abc", codes(-1)),
			emptyPending("XPENDING s g1"),
			emptyPending("XPENDING s g2"),
		}},
		{name: "trim/reference-policies", redis8Only: true, steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("XADD s 2-1 f v", bs("2-1")),
			c("XADD s 3-1 f v", bs("3-1")),
			c("XADD s 4-1 f v", bs("4-1")),
			c("XADD s 5-1 f v", bs("5-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g c COUNT 3 STREAMS s >", bs("s"), ar(ent("1-1", "f", "v"), ent("2-1", "f", "v"), ent("3-1", "f", "v"))),
			c("XTRIM s MAXLEN 0 ACKED", in(0)),
			c("XACK s g 1-1 2-1", in(2)),
			c("XTRIM s MAXLEN 0 ACKED", in(2)),
			c("XLEN s", in(3)),
			c("XTRIM s MINID 5 DELREF", in(2)),
			emptyPending("XPENDING s g"),
			c("XADD s MAXLEN 0 KEEPREF 6-1 f v", bs("6-1")),
			c("XLEN s", in(0)),
			c("XADD s DELREF KEEPREF 7-1 f v", er(errInvalidID)),
			c("XTRIM s MAXLEN 0 DELREF ACKED", er(errSyntax)),
			c("XADD s ACKED MAXLEN 1 7-1 f v", bs("7-1")),
			c("XTRIM s ACKED MAXLEN ~ 0", in(0)),
			c("XTRIM s ACKED MAXLEN = 0 LIMIT 5", er(errLimitNoApprox)),
			c("XTRIM s keepref MAXLEN 0", in(1)),
		}},
		{name: "trim/approx-with-policy", redis8Only: true, steps: func() []step {
			st := []step{c("CONFIG SET stream-node-max-entries 2", ok())}
			for _, k := range []string{"s", "t", "u"} {
				for _, id := range []string{"1-1", "2-1", "3-1", "4-1", "5-1"} {
					st = append(st, c("XADD "+k+" "+id+" f v", bs(id)))
				}
			}
			return append(st,
				c("XTRIM s MAXLEN ~ 2", in(2)),
				c("XLEN s", in(3)),
				// With a reference policy "~" trims inside the first node
				// that cannot go whole instead of stopping before it.
				c("XTRIM t MAXLEN ~ 2 ACKED", in(3)),
				c("XLEN t", in(2)),
				c("XTRIM u MAXLEN ~ 0 LIMIT 3 ACKED", in(2)),
				c("XLEN u", in(3)),
			)
		}()},
	}
}

func idmpCases() []cmdCase {
	info := func(p shape, length, added int64, last string, idmp ...int64) string {
		kv := streamInfoHead(length, 1, 2, last, "0-0", added, nowID(0), idmp...)
		lastEntry := ent(last, "f", "v")
		if last == nowID(4) {
			lastEntry = ent(last, "f", "v", "a", "2")
		}
		kv = append(kv, bs("groups"), in(0), bs("first-entry"), ent(nowID(0), "f", "v"),
			bs("last-entry"), lastEntry)
		return p.m(kv...)
	}
	return []cmdCase{
		{name: "xadd/idmp-errors", redis8Only: true, steps: []step{
			c("XADD s IDMP p1 * f v", er(errInvalidID)),
			c("XADD s IDMP p1 iid1 1-1 f v", er(errIDMPExplicitID)),
			c("XADD s IDMP p1 iid1 1-* f v", er(errIDMPExplicitID)),
			c("XADD s IDMP p1 iid1 IDMP p2 iid2 * f v", er(errIDMPTwice)),
			c("XADD s IDMPAUTO p1 IDMP p2 iid2 * f v", er(errIDMPTwice)),
			ca(er(errIDMPNoPID), "XADD", "s", "IDMP", "", "iid1", "*", "f", "v"),
			ca(er(errIDMPNoIID), "XADD", "s", "IDMP", "p1", "", "*", "f", "v"),
			ca(er(errIDMPAutoNoPID), "XADD", "s", "IDMPAUTO", "", "*", "f", "v"),
			c("XADD s IDMP p1 iid1 * f", er(errArity("xadd"))),
			c("XTRIM s IDMP p i MAXLEN 1", er(errSyntax)),
			c("XTRIM s IDMPAUTO p MAXLEN 1", er(errSyntax)),
			c("EXISTS s", in(0)),
		}},
		{name: "xadd/idmp", redis8Only: true, steps: []step{
			c("XADD s IDMP p1 i1 * f v", bs(nowID(0))),
			c("XADD s IDMP p1 i1 * f v2", bs(nowID(0))),
			c("XADD s IDMP p1 i2 * f v", bs(nowID(1))),
			c("XADD s IDMP p2 i1 * f v", bs(nowID(2))),
			c("XLEN s", in(3)),
			c("XADD s IDMPAUTO p3 * f v a 1", bs(nowID(3))),
			c("XADD s IDMPAUTO p3 * a 1 f v", bs(nowID(3))),
			c("XADD s IDMPAUTO p3 * f v a 2", bs(nowID(4))),
			c("XADD s NOMKSTREAM IDMP p1 i1 * f v", bs(nowID(0))),
			c("XADD s IDMP p1 i1 MAXLEN 1 * f v", bs(nowID(0))),
			c("XLEN s", in(5)),
			cp("XINFO STREAM s", func(p shape) string { return info(p, 5, 5, nowID(4), 100, 100, 3, 5, 5, 4) }),
			c("XCFGSET s IDMP-DURATION 100", ok()),
			c("XADD s IDMP p1 i1 * f v", bs(nowID(0))),
			c("XCFGSET s IDMP-MAXSIZE 1", ok()),
			cp("XINFO STREAM s", func(p shape) string { return info(p, 5, 5, nowID(4), 100, 1, 0, 0, 5, 5) }),
			c("XADD s IDMP p1 i1 * f v", bs(nowID(5))),
			c("XADD s IDMP p1 i2 * f v", bs(nowID(6))),
			c("XADD s IDMP p1 i1 * f v", bs(nowID(7))),
			c("XADD s IDMP p1 i1 * f v", bs(nowID(7))),
			cp("XINFO STREAM s", func(p shape) string { return info(p, 8, 8, nowID(7), 100, 1, 1, 1, 8, 6) }),
			c("XCFGSET s IDMP-DURATION 5 IDMP-MAXSIZE 10", ok()),
			cp("XINFO STREAM s", func(p shape) string { return info(p, 8, 8, nowID(7), 5, 10, 0, 0, 8, 6) }),
		}},
		{name: "xcfgset/errors", redis8Only: true, steps: []step{
			c("XCFGSET s IDMP-DURATION 5", er(errNoSuchKey)),
			c("XCFGSET s", er(errNoSuchKey)),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XCFGSET s", er(errCfgNoParam)),
			c("XCFGSET s IDMP-DURATION 0", er(errCfgDurationRange)),
			c("XCFGSET s IDMP-DURATION 86401", er(errCfgDurationRange)),
			c("XCFGSET s IDMP-MAXSIZE 0", er(errCfgMaxSizeRange)),
			c("XCFGSET s IDMP-MAXSIZE 10001", er(errCfgMaxSizeRange)),
			c("XCFGSET s IDMP-DURATION x", er(errNotInt)),
			c("XCFGSET s IDMP-DURATION 5 IDMP-DURATION 6", er(errCfgDurationTwice)),
			c("XCFGSET s IDMP-MAXSIZE 5 idmp-maxsize 6", er(errCfgMaxSizeTwice)),
			c("XCFGSET s FOO 1", er(errSyntax)),
			c("XCFGSET s IDMP-DURATION", er(errSyntax)),
			c("XCFGSET s IDMP-DURATION 86400 IDMP-MAXSIZE 10000", ok()),
			c("XCFGSET s idmp-duration 1 idmp-maxsize 1", ok()),
			c("XCFGSET", er(errArity("xcfgset"))),
		}},
	}
}
