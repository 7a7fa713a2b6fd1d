package engine

import "strconv"

// XCLAIM and XAUTOCLAIM cases.

// autoclaim is an XAUTOCLAIM reply.
func autoclaim(cursor, claimed, deleted string) string { return ar(bs(cursor), claimed, deleted) }

func xclaimCases() []cmdCase {
	noKeyGroup := func(k, g string) string { return er(errNoKeyOrGroup([]byte(k), []byte(g))) }
	past := strconv.FormatInt(testNow-2000, 10)
	var twelve []step
	for i := 1; i <= 12; i++ {
		id := strconv.Itoa(i) + "-1"
		twelve = append(twelve, c("XADD s "+id+" f v", bs(id)))
	}
	var twelveIDs []string
	for i := 1; i <= 12; i++ {
		twelveIDs = append(twelveIDs, ent(strconv.Itoa(i)+"-1", "f", "v"))
	}
	return []cmdCase{
		{name: "xclaim/basic", steps: []step{
			c("XADD s 1-1 a 1", bs("1-1")),
			c("XADD s 2-1 b 2", bs("2-1")),
			c("XADD s 3-1 c 3", bs("3-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g alice STREAMS s >", bs("s"), ar(ent("1-1", "a", "1"), ent("2-1", "b", "2"), ent("3-1", "c", "3"))),
			c("XCLAIM s g bob 0 1-1", ar(ent("1-1", "a", "1"))),
			c("XCLAIM s g bob 3600000 2-1", ar()),
			c("XCLAIM s g bob 0 2-1 JUSTID", ar(bs("2-1"))),
			c("XPENDING s g", pendingSummary(3, "1-1", "3-1", "alice", "1", "bob", "2")),
			c("XCLAIM s g bob 0 9-9", ar()),
			c("XCLAIM s g bob 0 9-9 FORCE", ar()),
			c("XDEL s 3-1", in(1)),
			c("XCLAIM s g bob 0 3-1", ar()),
			c("XPENDING s g", pendingSummary(2, "1-1", "2-1", "bob", "2")),
			c("XADD s 4-1 d 4", bs("4-1")),
			c("XCLAIM s g carol 0 4-1 FORCE", ar(ent("4-1", "d", "4"))),
			x7(c("XPENDING s g - + 10 carol", ar(pend("4-1", "carol", 0, 2)))),
			c("XCLAIM s g carol 0 1-1 2-1 RETRYCOUNT 7 JUSTID", bss("1-1", "2-1")),
			x7(c("XPENDING s g - + 10", ar(pend("1-1", "carol", 0, 7), pend("2-1", "carol", 0, 7), pend("4-1", "carol", 0, 2)))),
			c("XCLAIM s g dave 0 1-1 IDLE 5000 JUSTID", bss("1-1")),
			x7(c("XPENDING s g - + 1", ar(pend("1-1", "dave", 5000, 7)))),
			c("XCLAIM s g dave 0 2-1 TIME "+past+" JUSTID", bss("2-1")),
			x7(c("XPENDING s g 2 2 1", ar(pend("2-1", "dave", 2000, 7)))),
			c("XCLAIM s g dave 0 2-1 TIME 99999999999999 JUSTID", bss("2-1")),
			x7(c("XPENDING s g 2 2 1", ar(pend("2-1", "dave", 0, 7)))),
			c("XCLAIM s g dave 0 2-1 IDLE -5 JUSTID", bss("2-1")),
			c("XCLAIM s g erin 0 1-1 LASTID 99-0 JUSTID", bss("1-1")),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 5, 3, "99-0", in(3), in(1)))
			}),
			c("XCLAIM s g erin 0 1-1 1-1 JUSTID", bss("1-1", "1-1")),
			c("XCLAIM s g erin 1000 1-1 1-1 JUSTID", ar()),
		}},
		{name: "xclaim/errors", steps: []step{
			c("XCLAIM s g bob 0 1-1", noKeyGroup("s", "g")),
			c("XCLAIM s g bob x 1-1", noKeyGroup("s", "g")),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XGROUP CREATE s g 0", ok()),
			c("XCLAIM s g bob x 1-1", er("ERR Invalid min-idle-time argument for XCLAIM")),
			c("XCLAIM s g bob 0 1-1 IDLE x", er("ERR Invalid IDLE option argument for XCLAIM")),
			c("XCLAIM s g bob 0 1-1 TIME x", er("ERR Invalid TIME option argument for XCLAIM")),
			c("XCLAIM s g bob 0 1-1 RETRYCOUNT x", er("ERR Invalid RETRYCOUNT option argument for XCLAIM")),
			c("XCLAIM s g bob 0 1-1 FOO", er("ERR Unrecognized XCLAIM option 'FOO'")),
			c("XCLAIM s g bob 0 abc", er("ERR Unrecognized XCLAIM option 'abc'")),
			c("XCLAIM s g bob 0 1-1 IDLE", er("ERR Unrecognized XCLAIM option 'IDLE'")),
			c("XCLAIM s g bob 0 1-1 LASTID abc", er(errInvalidID)),
			c("XCLAIM s nog bob 0 1-1", noKeyGroup("s", "nog")),
			cp("XINFO GROUPS s", func(p shape) string { return ar(groupInfo(p, "g", 0, 0, "0-0", p.null, in(1))) }),
			c("XCLAIM s g bob -5 1-1", ar()),
			// Redis 7.2+ creates the consumer even when nothing is claimed.
			x7(cp("XINFO GROUPS s", func(p shape) string { return ar(groupInfo(p, "g", 1, 0, "0-0", p.null, in(1))) })),
			c("XCLAIM s", er(errArity("xclaim"))),
		}},
		{name: "xautoclaim/basic", steps: []step{
			c("XADD s 1-1 f 1", bs("1-1")),
			c("XADD s 2-1 f 2", bs("2-1")),
			c("XADD s 3-1 f 3", bs("3-1")),
			c("XADD s 4-1 f 4", bs("4-1")),
			c("XADD s 5-1 f 5", bs("5-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g alice STREAMS s >", bs("s"), ar(ent("1-1", "f", "1"), ent("2-1", "f", "2"),
				ent("3-1", "f", "3"), ent("4-1", "f", "4"), ent("5-1", "f", "5"))),
			c("XAUTOCLAIM s g bob 0 0 COUNT 2", autoclaim("3-1", ar(ent("1-1", "f", "1"), ent("2-1", "f", "2")), ar())),
			c("XAUTOCLAIM s g bob 0 3-1 COUNT 2 JUSTID", autoclaim("5-1", bss("3-1", "4-1"), ar())),
			c("XDEL s 5-1", in(1)),
			c("XAUTOCLAIM s g bob 0 5-1", autoclaim("0-0", ar(), bss("5-1"))),
			c("XAUTOCLAIM s g bob 3600000 0", autoclaim("0-0", ar(), ar())),
			c("XAUTOCLAIM s g bob 0 (4-1", autoclaim("0-0", ar(), ar())),
			c("XPENDING s g", pendingSummary(4, "1-1", "4-1", "bob", "4")),
			c("XAUTOCLAIM s g carol 0 0 COUNT 1", autoclaim("2-1", ar(ent("1-1", "f", "1")), ar())),
			c("XAUTOCLAIM s g carol 0 - COUNT 1 JUSTID", autoclaim("2-1", bss("1-1"), ar())),
			c("xautoclaim s g carol 0 + justid", autoclaim("0-0", ar(), ar())),
			x7(c("XPENDING s g - + 10", ar(pend("1-1", "carol", 0, 3), pend("2-1", "bob", 0, 2),
				pend("3-1", "bob", 0, 1), pend("4-1", "bob", 0, 1)))),
		}},
		{name: "xautoclaim/attempts", steps: append(twelve,
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g a STREAMS s >", bs("s"), ar(twelveIDs...)),
			c("XAUTOCLAIM s g b 3600000 0 COUNT 1", autoclaim("11-1", ar(), ar())),
			c("XAUTOCLAIM s g b 3600000 11-1 COUNT 1", autoclaim("0-0", ar(), ar())),
			c("XAUTOCLAIM s g b 0 11-1 COUNT 1 JUSTID", autoclaim("12-1", bss("11-1"), ar())),
		)},
		{name: "xautoclaim/errors", steps: []step{
			c("XAUTOCLAIM s g c 0 0", noKeyGroup("s", "g")),
			c("XAUTOCLAIM s g c x 0", er("ERR Invalid min-idle-time argument for XAUTOCLAIM")),
			c("XAUTOCLAIM s g c 0 x", er(errInvalidID)),
			c("XAUTOCLAIM s g c 0 ("+u64max+"-"+u64max, er(errStartInterval)),
			c("XAUTOCLAIM s g c 0 0 COUNT 0", er(errXAutoClaimCount)),
			c("XAUTOCLAIM s g c 0 0 COUNT -1", er(errXAutoClaimCount)),
			c("XAUTOCLAIM s g c 0 0 COUNT x", er(errXAutoClaimCount)),
			c("XAUTOCLAIM s g c 0 0 COUNT 9223372036854775807", er(errXAutoClaimCount)),
			c("XAUTOCLAIM s g c 0 0 COUNT 576460752303423488", er(errXAutoClaimCount)),
			c("XAUTOCLAIM s g c 0 0 FOO", er(errSyntax)),
			c("XAUTOCLAIM s g c 0 0 COUNT", er(errSyntax)),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XGROUP CREATE s g 0", ok()),
			c("XAUTOCLAIM s g c 0 0 COUNT 576460752303423487", er(errXAutoClaimMem)),
			c("XAUTOCLAIM s nog c 0 0", noKeyGroup("s", "nog")),
			c("XAUTOCLAIM s g c 0 0 JUSTID JUSTID COUNT 5", autoclaim("0-0", ar(), ar())),
			c("XAUTOCLAIM s g c 0", er(errArity("xautoclaim"))),
		}},
	}
}
