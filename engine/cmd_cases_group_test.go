package engine

// Consumer-group cases: XGROUP, XREADGROUP, XACK, XPENDING. Replies follow
// Redis 8 (t_stream.c); TestAgainstRedis checks them against Redis 7.0
// except steps marked x7 (Redis 8 differs, or the reply holds a clock
// reading).

// groupInfo is one element of XINFO GROUPS; er and lag are in(n) or
// p.null.
func groupInfo(p shape, name string, consumers, pending int64, last, er, lag string) string {
	return p.m(bs("name"), bs(name), bs("consumers"), in(consumers), bs("pending"), in(pending),
		bs("last-delivered-id"), bs(last), bs("entries-read"), er, bs("lag"), lag)
}

// pendingSummary is XPENDING's summary form; owners are name, count pairs.
func pendingSummary(n int64, first, last string, owners ...string) string {
	var cs []string
	for i := 0; i+1 < len(owners); i += 2 {
		cs = append(cs, bss(owners[i], owners[i+1]))
	}
	return ar(in(n), bs(first), bs(last), ar(cs...))
}

// emptyPending is XPENDING's summary of an empty PEL.
func emptyPending(line string) step {
	return cp(line, func(p shape) string { return ar(in(0), p.null, p.null, p.nullArr) })
}

// pend is one XPENDING extended element.
func pend(id, owner string, idle, count int64) string {
	return ar(bs(id), bs(owner), in(idle), in(count))
}

// helpReply is a HELP reply of status lines, as addReplyHelp writes it.
func helpReply(cmd string, lines []string) string {
	out := []string{status(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")}
	for _, l := range lines {
		out = append(out, status(l))
	}
	out = append(out, status("HELP"), status("    Print this help."))
	return ar(out...)
}

// nilEntry is a pending entry deleted from the stream, as XREADGROUP
// shows it: [id, nil].
func nilEntry(p shape, id string) string { return ar(bs(id), p.nullArr) }

func xgroupCases() []cmdCase {
	subSyntax := func(sub, cmd string) string {
		return er("ERR unknown subcommand or wrong number of arguments for '" + sub + "'. Try " + cmd + " HELP.")
	}
	noGroup := func(g, k string) string {
		return er("NOGROUP No such consumer group '" + g + "' for key name '" + k + "'")
	}
	return []cmdCase{
		{name: "xgroup/create", steps: []step{
			c("XGROUP CREATE s g $", er(errXGroupNoKey)),
			c("XGROUP CREATE s g $ MKSTREAM", ok()),
			c("XGROUP CREATE s g $ MKSTREAM", er(errBusyGroup)),
			c("TYPE s", status("stream")),
			c("XLEN s", in(0)),
			c("XGROUP CREATE s g2 0", ok()),
			c("xgroup create s g3 1-1", ok()),
			c("XGROUP CREATE s g4 -", er(errInvalidID)),
			c("XGROUP CREATE s g4 +", er(errInvalidID)),
			c("XGROUP CREATE s g4 abc", er(errInvalidID)),
			c("XGROUP CREATE s g4 5", ok()),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 0, 0, "0-0", p.null, in(0)),
					groupInfo(p, "g2", 0, 0, "0-0", p.null, in(0)),
					groupInfo(p, "g3", 0, 0, "1-1", p.null, in(0)),
					groupInfo(p, "g4", 0, 0, "5-0", p.null, in(0)))
			}),
			c("XGROUP CREATE e g 0 MKSTREAM ENTRIESREAD 7", ok()),
			// Redis 8 caps ENTRIESREAD at entries-added; 7.0 kept 7.
			x7(cp("XINFO GROUPS e", func(p shape) string {
				return ar(groupInfo(p, "g", 0, 0, "0-0", in(0), in(0)))
			})),
		}},
		{name: "xgroup/errors", steps: []step{
			c("XGROUP", er(errArity("xgroup"))),
			c("XGROUP foo", er("ERR unknown subcommand 'foo'. Try XGROUP HELP.")),
			c("xgroup foo bar", er("ERR unknown subcommand 'foo'. Try XGROUP HELP.")),
			c("XGROUP CREATE s", er(errArity("xgroup|create"))),
			c("XGROUP DESTROY s g x", er(errArity("xgroup|destroy"))),
			c("XGROUP HELP x", er(errArity("xgroup|help"))),
			c("XGROUP CREATECONSUMER s g", er(errArity("xgroup|createconsumer"))),
			c("XGROUP CREATE s g $ BOGUS", subSyntax("CREATE", "XGROUP")),
			c("xgroup create s g $ bogus", subSyntax("create", "XGROUP")),
			c("XGROUP CREATE s g $ ENTRIESREAD", subSyntax("CREATE", "XGROUP")),
			c("XGROUP CREATE s g $ ENTRIESREAD x", er(errNotInt)),
			c("XGROUP CREATE s g $ ENTRIESREAD -2", er(errEntriesReadRange)),
			c("XGROUP SETID s g $ MKSTREAM", subSyntax("SETID", "XGROUP")),
			c("XGROUP DESTROY s g", er(errXGroupNoKey)),
			c("XGROUP SETID s g $", er(errXGroupNoKey)),
			c("XGROUP CREATECONSUMER s g c", er(errXGroupNoKey)),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XGROUP SETID s nog $", noGroup("nog", "s")),
			c("XGROUP CREATECONSUMER s nog c", noGroup("nog", "s")),
			c("XGROUP DELCONSUMER s nog c", noGroup("nog", "s")),
			c("XGROUP DESTROY s nog", in(0)),
			c("XGROUP CREATE s g 0 MKSTREAM MKSTREAM MKSTREAM MKSTREAM", subSyntax("CREATE", "XGROUP")),
			c("XGROUP CREATE s g 0 ENTRIESREAD 1 MKSTREAM", ok()),
			c("XGROUP SETID s g 0 ENTRIESREAD", subSyntax("SETID", "XGROUP")),
			c("XGROUP SETID s g abc", er(errInvalidID)),
			c("XGROUP SETID s g 1 ENTRIESREAD 1 ENTRIESREAD 1", subSyntax("SETID", "XGROUP")),
		}},
		// Redis 7.0 ends HELP with "Prints this help.", Redis 8 with "Print
		// this help.".
		{name: "xgroup/help", redis8Only: true, steps: []step{
			c("XGROUP HELP", helpReply("XGROUP", xgroupHelp)),
			c("xgroup help", helpReply("XGROUP", xgroupHelp)),
		}},
		{name: "xgroup/setid", steps: []step{
			c("XADD s 1-1 a 1", bs("1-1")),
			c("XADD s 2-1 b 2", bs("2-1")),
			c("XADD s 3-1 c 3", bs("3-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g c STREAMS s >", bs("s"), ar(ent("1-1", "a", "1"), ent("2-1", "b", "2"), ent("3-1", "c", "3"))),
			c("XGROUP SETID s g 1-1", ok()),
			rg("XREADGROUP GROUP g c2 STREAMS s >", bs("s"), ar(ent("2-1", "b", "2"), ent("3-1", "c", "3"))),
			c("XPENDING s g", pendingSummary(3, "1-1", "3-1", "c", "1", "c2", "2")),
			c("XGROUP SETID s g -", ok()),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 2, 3, "0-0", p.null, in(3)))
			}),
			c("XGROUP SETID s g +", ok()),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 2, 3, u64max+"-"+u64max, p.null, p.null))
			}),
			c("XGROUP SETID s g $ ENTRIESREAD 3", ok()),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 2, 3, "3-1", in(3), in(0)))
			}),
			c("XGROUP SETID s g 0 ENTRIESREAD 100", ok()),
			// Redis 8 caps ENTRIESREAD; 7.0 kept 100 and reported lag -97.
			x7(cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 2, 3, "0-0", in(3), in(3)))
			})),
			c("XGROUP SETID s g 2-1 ENTRIESREAD -1", ok()),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 2, 3, "2-1", p.null, p.null))
			}),
		}},
		{name: "xgroup/consumers", steps: []step{
			c("XGROUP CREATE s g $ MKSTREAM", ok()),
			c("XGROUP CREATECONSUMER s g c1", in(1)),
			c("XGROUP CREATECONSUMER s g c1", in(0)),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XADD s 2-1 f v", bs("2-1")),
			rg("XREADGROUP GROUP g c1 STREAMS s >", bs("s"), ar(ent("1-1", "f", "v"), ent("2-1", "f", "v"))),
			c("XGROUP DELCONSUMER s g c1", in(2)),
			c("XGROUP DELCONSUMER s g c1", in(0)),
			emptyPending("XPENDING s g"),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 0, 0, "2-1", in(2), in(0)))
			}),
			c("XGROUP DESTROY s g", in(1)),
			c("XGROUP DESTROY s g", in(0)),
			c("XINFO GROUPS s", ar()),
			c("XLEN s", in(2)),
		}},
	}
}

func xreadgroupCases() []cmdCase {
	noGroup := func(k, g string) string { return er(string(errXRGNoKeyOrGroup([]byte(k), []byte(g)))) }
	return []cmdCase{
		{name: "xreadgroup/basic", steps: []step{
			c("XADD s 1-1 a 1", bs("1-1")),
			c("XADD s 2-1 b 2", bs("2-1")),
			c("XADD s 3-1 c 3", bs("3-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g alice COUNT 2 STREAMS s >", bs("s"), ar(ent("1-1", "a", "1"), ent("2-1", "b", "2"))),
			rg("xreadgroup group g bob streams s >", bs("s"), ar(ent("3-1", "c", "3"))),
			cp("XREADGROUP GROUP g bob STREAMS s >", func(p shape) string { return p.nullArr }),
			rg("XREADGROUP GROUP g alice STREAMS s 0", bs("s"), ar(ent("1-1", "a", "1"), ent("2-1", "b", "2"))),
			rg("XREADGROUP GROUP g alice COUNT 1 STREAMS s 1-1", bs("s"), ar(ent("2-1", "b", "2"))),
			rg("XREADGROUP GROUP g bob STREAMS s 0", bs("s"), ar(ent("3-1", "c", "3"))),
			rg("XREADGROUP GROUP g carol STREAMS s 0", bs("s"), ar()),
			c("XACK s g 1-1 2-1 9-9", in(2)),
			rg("XREADGROUP GROUP g alice STREAMS s 0", bs("s"), ar()),
			c("XPENDING s g", pendingSummary(1, "3-1", "3-1", "bob", "1")),
			x7(c("XPENDING s g - + 10", ar(pend("3-1", "bob", 0, 2)))),
			rg("XREADGROUP GROUP g alice COUNT 0 BLOCK 100 STREAMS s 0", bs("s"), ar()),
			c("XADD s 4-1 d 4", bs("4-1")),
			rg("XREADGROUP GROUP g alice COUNT -3 BLOCK 100 STREAMS s >", bs("s"), ar(ent("4-1", "d", "4"))),
		}},
		{name: "xreadgroup/noack", steps: []step{
			c("XADD s 1-1 a 1", bs("1-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g c NOACK STREAMS s >", bs("s"), ar(ent("1-1", "a", "1"))),
			emptyPending("XPENDING s g"),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 1, 0, "1-1", in(1), in(0)))
			}),
		}},
		{name: "xreadgroup/errors", steps: []step{
			c("XREADGROUP GROUP g c STREAMS s >", noGroup("s", "g")),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XREADGROUP GROUP g c STREAMS s >", noGroup("s", "g")),
			c("XGROUP CREATE s g $", ok()),
			c("XREADGROUP GROUP g c STREAMS s $", er(errXRGDollar)),
			x7(c("XREADGROUP GROUP g c STREAMS s +", er(errXRGPlus))),
			c("XREADGROUP GROUP g c STREAMS s abc", er(errInvalidID)),
			c("XREADGROUP GROUP g c STREAMS s -", er(errInvalidID)),
			c("XREADGROUP GROUP g c STREAMS s", er(errArity("xreadgroup"))),
			x7(c("XREADGROUP GROUP g c STREAMS s t >", er(errXRGUnbalanced))),
			c("XREADGROUP COUNT 1 STREAMS s > x y", er(errXRGNoGroup)),
			c("XREADGROUP GROUP g c COUNT x STREAMS s >", er(errNotInt)),
			c("XREADGROUP GROUP g c BLOCK -1 STREAMS s >", er(errTimeoutNeg)),
			c("XREADGROUP GROUP g c BLOCK x STREAMS s >", er(errTimeoutNotInt)),
			c("XREADGROUP GROUP g c FOO STREAMS s >", er(errSyntax)),
			c("XREADGROUP GROUP g c NOACK COUNT 1 s >", er(errSyntax)),
			c("XREADGROUP GROUP g c STREAMS s t > >", noGroup("t", "g")),
			c("XREADGROUP GROUP g c STREAMS s t $ >", er(errXRGDollar)),
			c("XREADGROUP GROUP g c STREAMS t s > $", noGroup("t", "g")),
			c("XREAD GROUP g c STREAMS s >", er(errXReadGroup)),
			c("XREADGROUP GROUP g c STREAMS s 1-x", er(errInvalidID)),
		}},
		{name: "xreadgroup/deleted-pending", steps: []step{
			c("XADD s 1-1 a 1", bs("1-1")),
			c("XADD s 2-1 b 2", bs("2-1")),
			c("XADD s 3-1 c 3", bs("3-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g c STREAMS s >", bs("s"), ar(ent("1-1", "a", "1"), ent("2-1", "b", "2"), ent("3-1", "c", "3"))),
			c("XDEL s 2-1", in(1)),
			cp("XREADGROUP GROUP g c STREAMS s 0", func(p shape) string {
				return p.streams(bs("s"), ar(ent("1-1", "a", "1"), nilEntry(p, "2-1"), ent("3-1", "c", "3")))
			}),
			c("XPENDING s g", pendingSummary(3, "1-1", "3-1", "c", "3")),
			c("XTRIM s MAXLEN 0", in(2)),
			cp("XREADGROUP GROUP g c COUNT 2 STREAMS s 0", func(p shape) string {
				return p.streams(bs("s"), ar(nilEntry(p, "1-1"), nilEntry(p, "2-1")))
			}),
			c("XLEN s", in(0)),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 1, 3, "3-1", in(3), in(0)))
			}),
			c("DEL s", in(1)),
			c("XREADGROUP GROUP g c STREAMS s >", noGroup("s", "g")),
		}},
		{name: "xreadgroup/multi-stream", steps: []step{
			c("XADD a 1-1 f 1", bs("1-1")),
			c("XADD b 1-1 f 2", bs("1-1")),
			c("XGROUP CREATE a g 0", ok()),
			c("XGROUP CREATE b g $", ok()),
			rg("XREADGROUP GROUP g c STREAMS a b > >", bs("a"), ar(ent("1-1", "f", "1"))),
			c("XADD b 2-1 f 3", bs("2-1")),
			rg("XREADGROUP GROUP g c STREAMS a b > >", bs("b"), ar(ent("2-1", "f", "3"))),
			rg("XREADGROUP GROUP g c STREAMS a b 0 >", bs("a"), ar(ent("1-1", "f", "1"))),
			rg("XREADGROUP GROUP g c STREAMS a b 0 0", bs("a"), ar(ent("1-1", "f", "1")), bs("b"), ar(ent("2-1", "f", "3"))),
			cp("XREADGROUP GROUP g c STREAMS a a > >", func(p shape) string { return p.nullArr }),
			c("XADD a 2-1 f 4", bs("2-1")),
			rg("XREADGROUP GROUP g c STREAMS a a > >", bs("a"), ar(ent("2-1", "f", "4"))),
			rg("XREADGROUP GROUP g c COUNT 1 STREAMS a b 0 0", bs("a"), ar(ent("1-1", "f", "1")), bs("b"), ar(ent("2-1", "f", "3"))),
		}},
		{name: "xreadgroup/entries-read-and-lag", steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("XADD s 2-1 f v", bs("2-1")),
			c("XADD s 3-1 f v", bs("3-1")),
			c("XADD s 4-1 f v", bs("4-1")),
			c("XADD s 5-1 f v", bs("5-1")),
			c("XGROUP CREATE s g 0", ok()),
			cp("XINFO GROUPS s", func(p shape) string { return ar(groupInfo(p, "g", 0, 0, "0-0", p.null, in(5))) }),
			rg("XREADGROUP GROUP g c COUNT 2 STREAMS s >", bs("s"), ar(ent("1-1", "f", "v"), ent("2-1", "f", "v"))),
			cp("XINFO GROUPS s", func(p shape) string { return ar(groupInfo(p, "g", 1, 2, "2-1", in(2), in(3))) }),
			c("XDEL s 4-1", in(1)),
			cp("XINFO GROUPS s", func(p shape) string { return ar(groupInfo(p, "g", 1, 2, "2-1", in(2), p.null)) }),
			rg("XREADGROUP GROUP g c STREAMS s >", bs("s"), ar(ent("3-1", "f", "v"), ent("5-1", "f", "v"))),
			cp("XINFO GROUPS s", func(p shape) string { return ar(groupInfo(p, "g", 1, 4, "5-1", in(5), in(0))) }),
			c("XGROUP CREATE s g2 3-1", ok()),
			c("XGROUP CREATE s g3 $", ok()),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 1, 4, "5-1", in(5), in(0)),
					groupInfo(p, "g2", 0, 0, "3-1", p.null, p.null),
					groupInfo(p, "g3", 0, 0, "5-1", p.null, in(0)))
			}),
			c("XADD s 6-1 f v", bs("6-1")),
			rg("XREADGROUP GROUP g2 c STREAMS s >", bs("s"), ar(ent("5-1", "f", "v"), ent("6-1", "f", "v"))),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 1, 4, "5-1", in(5), in(1)),
					groupInfo(p, "g2", 1, 2, "6-1", in(6), in(0)),
					groupInfo(p, "g3", 0, 0, "5-1", p.null, p.null))
			}),
			c("XTRIM s MAXLEN 1", in(4)),
			cp("XINFO GROUPS s", func(p shape) string {
				return ar(groupInfo(p, "g", 1, 4, "5-1", in(5), in(1)),
					groupInfo(p, "g2", 1, 2, "6-1", in(6), in(0)),
					groupInfo(p, "g3", 0, 0, "5-1", p.null, in(1)))
			}),
		}},
	}
}

func xackPendingCases() []cmdCase {
	noKeyGroup := func(k, g string) string { return er(errNoKeyOrGroup([]byte(k), []byte(g))) }
	return []cmdCase{
		{name: "xack/basic", steps: []step{
			c("XACK s g 1-1", in(0)),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XADD s 2-1 f v", bs("2-1")),
			c("XACK s g 1-1", in(0)),
			c("XACK s g abc", in(0)),
			c("XGROUP CREATE s g 0", ok()),
			c("XACK s g abc", er(errInvalidID)),
			c("XACK s g 1-1 -", er(errInvalidID)),
			c("XACK s g 1-1", in(0)),
			rg("XREADGROUP GROUP g c STREAMS s >", bs("s"), ar(ent("1-1", "f", "v"), ent("2-1", "f", "v"))),
			c("XACK s g 1-1 1-1 1", in(1)),
			c("XACK s g 1-1 2-1 2-1", in(1)),
			emptyPending("XPENDING s g"),
			c("XACK", er(errArity("xack"))),
			c("XACK s g", er(errArity("xack"))),
		}},
		{name: "xpending/forms", steps: []step{
			c("XGROUP CREATE s g $ MKSTREAM", ok()),
			emptyPending("XPENDING s g"),
			c("XPENDING s g - + 10", ar()),
			c("XADD s 1-1 f 1", bs("1-1")),
			c("XADD s 2-1 f 2", bs("2-1")),
			c("XADD s 3-1 f 3", bs("3-1")),
			c("XADD s 4-1 f 4", bs("4-1")),
			rg("XREADGROUP GROUP g a COUNT 1 STREAMS s >", bs("s"), ar(ent("1-1", "f", "1"))),
			rg("XREADGROUP GROUP g b STREAMS s >", bs("s"), ar(ent("2-1", "f", "2"), ent("3-1", "f", "3"), ent("4-1", "f", "4"))),
			c("XPENDING s g", pendingSummary(4, "1-1", "4-1", "a", "1", "b", "3")),
			c("XPENDING s g - + 0", ar()),
			c("XPENDING s g - + -5", ar()),
			c("XPENDING s g - + 10 nobody", ar()),
			c("XPENDING s g IDLE 100000 - + 10", ar()),
			c("XPENDING s g idle 100000 - + 10 b", ar()),
			x7(c("XPENDING s g - + 10", ar(pend("1-1", "a", 0, 1), pend("2-1", "b", 0, 1), pend("3-1", "b", 0, 1), pend("4-1", "b", 0, 1)))),
			x7(c("XPENDING s g (2-1 + 10 b", ar(pend("3-1", "b", 0, 1), pend("4-1", "b", 0, 1)))),
			x7(c("XPENDING s g - (4-1 2", ar(pend("1-1", "a", 0, 1), pend("2-1", "b", 0, 1)))),
			x7(c("XPENDING s g 2 3 10", ar(pend("2-1", "b", 0, 1), pend("3-1", "b", 0, 1)))),
			x7(c("XPENDING s g - + 1 b x y", ar(pend("2-1", "b", 0, 1)))),
			x7(c("XPENDING s g IDLE 0 - + 1 b", ar(pend("2-1", "b", 0, 1)))),
			c("XPENDING s g - + 1 b x y z", er(errSyntax)),
			c("XPENDING s g IDLE 0 - + 1 b x", er(errSyntax)),
			c("XPENDING s g - +", er(errSyntax)),
			c("XPENDING s g -", er(errSyntax)),
			c("XPENDING s g IDLE 10 - +", er(errSyntax)),
			c("XPENDING s g IDLE x - + 10", er(errNotInt)),
			c("XPENDING s g IDLE x - +", er(errNotInt)),
			c("XPENDING s g - + x", er(errNotInt)),
			c("XPENDING s g x + 10", er(errInvalidID)),
			c("XPENDING s g - x 10", er(errInvalidID)),
			c("XPENDING s g (- + 10", er(errInvalidID)),
			c("XPENDING s g ("+u64max+"-"+u64max+" + 10", er(errStartInterval)),
			c("XPENDING s g - (0-0 10", er(errEndInterval)),
			c("XPENDING s g - (0 10", ar()),
			c("XPENDING nokey g", noKeyGroup("nokey", "g")),
			c("XPENDING s nog - + 10", noKeyGroup("s", "nog")),
			c("XPENDING nokey g x + 10", er(errInvalidID)),
		}},
	}
}
