package engine

import "strconv"

// XINFO cases, and groups across keyspace commands (DEL, RENAME, COPY,
// FLUSHALL, expiry).

// now is testNow as a reply integer.
func now() string { return in(testNow) }

// streamInfoHead is XINFO STREAM's fields up to iids-duplicates (Redis
// 8.6+ order).
func streamInfoHead(length, keys, nodes int64, last, maxDel string, added int64, first string, idmp ...int64) []string {
	if idmp == nil {
		idmp = []int64{100, 100, 0, 0, 0, 0}
	}
	out := []string{bs("length"), in(length), bs("radix-tree-keys"), in(keys), bs("radix-tree-nodes"), in(nodes),
		bs("last-generated-id"), bs(last), bs("max-deleted-entry-id"), bs(maxDel),
		bs("entries-added"), in(added), bs("recorded-first-entry-id"), bs(first)}
	for i, name := range []string{"idmp-duration", "idmp-maxsize", "pids-tracked", "iids-tracked", "iids-added", "iids-duplicates"} {
		out = append(out, bs(name), in(idmp[i]))
	}
	return out
}

func xinfoCases() []cmdCase {
	subSyntax := er("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")
	return []cmdCase{
		{name: "xinfo/errors", steps: []step{
			c("XINFO STREAM s", er(errNoSuchKey)),
			c("XINFO GROUPS s", er(errNoSuchKey)),
			c("XINFO CONSUMERS s g", er(errNoSuchKey)),
			c("XINFO STREAM s FULL BOGUS", er(errNoSuchKey)),
			c("XINFO FOO s", er("ERR unknown subcommand 'FOO'. Try XINFO HELP.")),
			c("xinfo foo", er("ERR unknown subcommand 'foo'. Try XINFO HELP.")),
			c("XINFO", er(errArity("xinfo"))),
			c("XINFO STREAM", er(errArity("xinfo|stream"))),
			c("XINFO GROUPS s x", er(errArity("xinfo|groups"))),
			c("XINFO CONSUMERS s", er(errArity("xinfo|consumers"))),
			x7(c("XINFO HELP", helpReply("XINFO", xinfoHelp))), // 7.0: "Prints this help."
			c("XINFO HELP x", er(errArity("xinfo|help"))),
			c("XADD s 1-1 f v", bs("1-1")),
			c("XINFO STREAM s FULL BOGUS", subSyntax),
			c("XINFO STREAM s BOGUS", subSyntax),
			c("XINFO STREAM s FULL COUNT", subSyntax),
			c("XINFO STREAM s FULL x 1", subSyntax),
			c("XINFO STREAM s FULL COUNT x", er(errNotInt)),
			c("XINFO CONSUMERS s nog", er("NOGROUP No such consumer group 'nog' for key name 's'")),
			c("XINFO GROUPS s", ar()),
		}},
		{name: "xinfo/stream", steps: []step{
			c("XGROUP CREATE e g $ MKSTREAM", ok()),
			x7(cp("XINFO STREAM e", func(p shape) string {
				kv := streamInfoHead(0, 0, 1, "0-0", "0-0", 0, "0-0")
				kv = append(kv, bs("groups"), in(1), bs("first-entry"), p.null, bs("last-entry"), p.null)
				return p.m(kv...)
			})),
			c("XADD s 1-1 a 1", bs("1-1")),
			c("XADD s 2-1 b 2", bs("2-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g c COUNT 1 STREAMS s >", bs("s"), ar(ent("1-1", "a", "1"))),
			x7(cp("XINFO STREAM s", func(p shape) string {
				kv := streamInfoHead(2, 1, 2, "2-1", "0-0", 2, "1-1")
				kv = append(kv, bs("groups"), in(1), bs("first-entry"), ent("1-1", "a", "1"),
					bs("last-entry"), ent("2-1", "b", "2"))
				return p.m(kv...)
			})),
			x7(cp("XINFO STREAM s FULL", func(p shape) string {
				kv := streamInfoHead(2, 1, 2, "2-1", "0-0", 2, "1-1")
				consumer := p.m(bs("name"), bs("c"), bs("seen-time"), now(), bs("active-time"), now(),
					bs("pel-count"), in(1), bs("pending"), ar(ar(bs("1-1"), now(), in(1))))
				group := p.m(bs("name"), bs("g"), bs("last-delivered-id"), bs("1-1"), bs("entries-read"), in(1),
					bs("lag"), in(1), bs("pel-count"), in(1), bs("nacked-count"), in(0),
					bs("pending"), ar(ar(bs("1-1"), bs("c"), now(), in(1))), bs("consumers"), ar(consumer))
				kv = append(kv, bs("entries"), ar(ent("1-1", "a", "1"), ent("2-1", "b", "2")), bs("groups"), ar(group))
				return p.m(kv...)
			})),
			x7(cp("XINFO STREAM s FULL COUNT 1", func(p shape) string {
				kv := streamInfoHead(2, 1, 2, "2-1", "0-0", 2, "1-1")
				consumer := p.m(bs("name"), bs("c"), bs("seen-time"), now(), bs("active-time"), now(),
					bs("pel-count"), in(1), bs("pending"), ar(ar(bs("1-1"), now(), in(1))))
				group := p.m(bs("name"), bs("g"), bs("last-delivered-id"), bs("1-1"), bs("entries-read"), in(1),
					bs("lag"), in(1), bs("pel-count"), in(1), bs("nacked-count"), in(0),
					bs("pending"), ar(ar(bs("1-1"), bs("c"), now(), in(1))), bs("consumers"), ar(consumer))
				kv = append(kv, bs("entries"), ar(ent("1-1", "a", "1")), bs("groups"), ar(group))
				return p.m(kv...)
			})),
			c("XGROUP CREATECONSUMER s g d", in(1)),
			x7(cp("XINFO CONSUMERS s g", func(p shape) string {
				return ar(p.m(bs("name"), bs("c"), bs("pending"), in(1), bs("idle"), in(0), bs("inactive"), in(0)),
					p.m(bs("name"), bs("d"), bs("pending"), in(0), bs("idle"), in(0), bs("inactive"), in(-1)))
			})),
		}},
	}
}

func groupKeyspaceCases() []cmdCase {
	noKeyGroup := func(k, g string) string { return er(errNoKeyOrGroup([]byte(k), []byte(g))) }
	return []cmdCase{
		{name: "groups/del-and-flush", steps: []step{
			c("XGROUP CREATE s g $ MKSTREAM", ok()),
			c("DEL s", in(1)),
			c("XINFO GROUPS s", er(errNoSuchKey)),
			c("XGROUP CREATE s g $ MKSTREAM", ok()),
			c("FLUSHALL", ok()),
			c("XPENDING s g", noKeyGroup("s", "g")),
			c("XGROUP CREATE s g $ MKSTREAM", ok()),
			c("FLUSHDB", ok()),
			c("XGROUP CREATE s g $ MKSTREAM", ok()),
			c("PEXPIREAT s 1", in(1)),
			c("XINFO GROUPS s", er(errNoSuchKey)),
			c("XGROUP CREATE s g $", er(errXGroupNoKey)),
		}},
		{name: "groups/rename-and-copy", steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g c STREAMS s >", bs("s"), ar(ent("1-1", "f", "v"))),
			c("RENAME s t", ok()),
			c("XPENDING t g", pendingSummary(1, "1-1", "1-1", "c", "1")),
			c("XPENDING s g", noKeyGroup("s", "g")),
			c("COPY t u", in(1)),
			c("XACK u g 1-1", in(1)),
			c("XPENDING t g", pendingSummary(1, "1-1", "1-1", "c", "1")),
			emptyPending("XPENDING u g"),
			c("XGROUP DESTROY t g", in(1)),
			cp("XINFO GROUPS u", func(p shape) string { return ar(groupInfo(p, "g", 1, 0, "1-1", in(1), in(0))) }),
			c("XINFO GROUPS t", ar()),
		}},
	}
}

// redis8GroupCases are Redis 7.2+/8.x group behaviours Redis 7.0 lacks.
func redis8GroupCases() []cmdCase {
	claimed := func(id, f, v string, idle, count int64) string {
		return ar(bs(id), bss(f, v), in(idle), in(count))
	}
	fresh := func(id, f, v string) string { return ar(bs(id), bss(f, v), in(0), in(0)) }
	return []cmdCase{
		{name: "xreadgroup/creates-consumer", redis8Only: true, steps: []step{
			c("XGROUP CREATE s g $ MKSTREAM", ok()),
			cp("XREADGROUP GROUP g c STREAMS s >", func(p shape) string { return p.nullArr }),
			cp("XINFO GROUPS s", func(p shape) string { return ar(groupInfo(p, "g", 1, 0, "0-0", p.null, in(0))) }),
			cp("XINFO CONSUMERS s g", func(p shape) string {
				return ar(p.m(bs("name"), bs("c"), bs("pending"), in(0), bs("idle"), in(0), bs("inactive"), in(-1)))
			}),
			c("XREADGROUP GROUP g c STREAMS s +", er(errXRGPlus)),
			c("XREADGROUP GROUP g c STREAMS s t >", er(errXRGUnbalanced)),
		}},
		{name: "xreadgroup/claim", redis8Only: true, steps: []step{
			c("XADD s 1-1 a 1", bs("1-1")),
			c("XADD s 2-1 b 2", bs("2-1")),
			c("XADD s 3-1 c 3", bs("3-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g alice COUNT 2 STREAMS s >", bs("s"), ar(ent("1-1", "a", "1"), ent("2-1", "b", "2"))),
			rg("XREADGROUP GROUP g bob CLAIM 0 STREAMS s >", bs("s"),
				ar(claimed("1-1", "a", "1", 0, 1), claimed("2-1", "b", "2", 0, 1), fresh("3-1", "c", "3"))),
			c("XPENDING s g", pendingSummary(3, "1-1", "3-1", "bob", "3")),
			c("XPENDING s g - + 10", ar(pend("1-1", "bob", 0, 2), pend("2-1", "bob", 0, 2), pend("3-1", "bob", 0, 1))),
			cp("XREADGROUP GROUP g carol CLAIM 1000 STREAMS s >", func(p shape) string { return p.nullArr }),
			rg("XREADGROUP GROUP g carol CLAIM 0 COUNT 1 STREAMS s >", bs("s"), ar(claimed("1-1", "a", "1", 0, 2))),
			rg("XREADGROUP GROUP g carol CLAIM 0 STREAMS s 0", bs("s"), ar(ent("1-1", "a", "1"))),
			c("XPENDING s g - + 1", ar(pend("1-1", "carol", 0, 4))),
			rg("XREADGROUP GROUP g dave CLAIM 0 COUNT 5 STREAMS s >", bs("s"),
				ar(claimed("2-1", "b", "2", 0, 2), claimed("3-1", "c", "3", 0, 1), claimed("1-1", "a", "1", 0, 4))),
			c("XACK s g 1-1 2-1 3-1", in(3)),
			cp("XREADGROUP GROUP g dave CLAIM 0 STREAMS s >", func(p shape) string { return p.nullArr }),
			c("XADD s 4-1 d 4", bs("4-1")),
			rg("XREADGROUP GROUP g alice STREAMS s >", bs("s"), ar(ent("4-1", "d", "4"))),
			c("XDEL s 4-1", in(1)),
			cp("XREADGROUP GROUP g bob CLAIM 0 STREAMS s >", func(p shape) string { return p.nullArr }),
			c("XPENDING s g", pendingSummary(1, "4-1", "4-1", "alice", "1")),
			c("XREADGROUP GROUP g c CLAIM x STREAMS s >", er(errClaimNotInt)),
			c("XREADGROUP GROUP g c CLAIM -1 STREAMS s >", er(errClaimNeg)),
			c("XREAD CLAIM 5 STREAMS s 0", er(errXReadClaim)),
		}},
		// From Redis's stream-cgroups tests, with CLAIM 0 for the sleeps.
		{name: "xreadgroup/claim-noack-multi", redis8Only: true, steps: []step{
			c("XADD s 1-0 f v1", bs("1-0")),
			c("XADD s 2-0 f v2", bs("2-0")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g c1 COUNT 1 STREAMS s >", bs("s"), ar(ent("1-0", "f", "v1"))),
			rg("XREADGROUP GROUP g c1 NOACK CLAIM 0 STREAMS s >", bs("s"),
				ar(claimed("1-0", "f", "v1", 0, 1), fresh("2-0", "f", "v2"))),
			c("XPENDING s g", pendingSummary(1, "1-0", "1-0", "c1", "1")),
			rg("XREADGROUP GROUP g c1 NOACK CLAIM 0 STREAMS s >", bs("s"), ar(claimed("1-0", "f", "v1", 0, 2))),
			cp("XREADGROUP GROUP g c1 CLAIM 9223372036854775807 STREAMS s >", func(p shape) string { return p.nullArr }),
			c("XADD s 3-0 f v3", bs("3-0")),
			rg("XREADGROUP GROUP g c1 CLAIM 9223372036854775807 STREAMS s >", bs("s"), ar(fresh("3-0", "f", "v3"))),
			c("XADD t 5-0 f v1", bs("5-0")),
			c("XADD t 6-0 f v2", bs("6-0")),
			c("XGROUP CREATE t g 0", ok()),
			rg("XREADGROUP GROUP g c1 COUNT 1 STREAMS t >", bs("t"), ar(ent("5-0", "f", "v1"))),
			rg("XREADGROUP GROUP g c2 CLAIM 0 STREAMS s t > >",
				bs("s"), ar(claimed("1-0", "f", "v1", 0, 3), claimed("3-0", "f", "v3", 0, 1)),
				bs("t"), ar(claimed("5-0", "f", "v1", 0, 1), fresh("6-0", "f", "v2"))),
			// A history read switches CLAIM off for the streams after it.
			rg("XREADGROUP GROUP g c1 CLAIM 0 STREAMS t s 0 >", bs("t"), ar()),
		}},
		{name: "xnack", redis8Only: true, steps: []step{
			c("XADD s 1-1 a 1", bs("1-1")),
			c("XADD s 2-1 b 2", bs("2-1")),
			c("XADD s 3-1 c 3", bs("3-1")),
			c("XGROUP CREATE s g 0", ok()),
			rg("XREADGROUP GROUP g alice STREAMS s >", bs("s"), ar(ent("1-1", "a", "1"), ent("2-1", "b", "2"), ent("3-1", "c", "3"))),
			c("XNACK s g FAIL IDS 1 1-1", in(1)),
			c("XPENDING s g", pendingSummary(3, "1-1", "3-1", "alice", "2")),
			c("XPENDING s g - + 10", ar(pend("1-1", "", -1, 1), pend("2-1", "alice", 0, 1), pend("3-1", "alice", 0, 1))),
			c("XNACK s g SILENT IDS 2 2-1 9-9", in(1)),
			c("XNACK s g FATAL IDS 1 3-1", in(1)),
			c("XNACK s g FAIL IDS 1 4-1 FORCE", in(0)),
			c("XADD s 4-1 d 4", bs("4-1")),
			c("XNACK s g SILENT IDS 1 4-1 FORCE RETRYCOUNT 5", in(1)),
			c("XPENDING s g - + 10", ar(pend("1-1", "", -1, 1), pend("2-1", "", -1, 0),
				pend("3-1", "", -1, 1<<63-1), pend("4-1", "", -1, 5))),
			c("XPENDING s g IDLE 1000 - + 10", ar(pend("1-1", "", -1, 1), pend("2-1", "", -1, 0),
				pend("3-1", "", -1, 1<<63-1), pend("4-1", "", -1, 5))),
			emptyPendingOwners("XPENDING s g", 4, "1-1", "4-1"),
			rg("XREADGROUP GROUP g bob CLAIM 0 COUNT 2 STREAMS s >", bs("s"),
				ar(claimed("1-1", "a", "1", testNow, 1), claimed("2-1", "b", "2", testNow, 0))),
			c("XPENDING s g - + 10", ar(pend("1-1", "bob", 0, 2), pend("2-1", "bob", 0, 1),
				pend("3-1", "", -1, 1<<63-1), pend("4-1", "", -1, 5))),
			rg("XREADGROUP GROUP g bob CLAIM 0 STREAMS s >", bs("s"),
				ar(claimed("3-1", "c", "3", testNow, 1<<63-1), claimed("4-1", "d", "4", testNow, 5),
					claimed("1-1", "a", "1", 0, 2), claimed("2-1", "b", "2", 0, 1),
					// 4-1 was never read with ">": it is also new to the
					// group, and its count restarts.
					fresh("4-1", "d", "4"))),
			c("XPENDING s g - + 10", ar(pend("1-1", "bob", 0, 3), pend("2-1", "bob", 0, 2),
				pend("3-1", "bob", 0, 1<<63-1), pend("4-1", "bob", 0, 1))),
			c("XCLAIM s g carol 0 1-1 JUSTID", bss("1-1")),
			c("XNACK s g FAIL IDS 1 1-1", in(1)),
			c("XCLAIM s g carol 0 1-1 JUSTID", bss("1-1")),
			c("XNACK s nog FAIL IDS 1 1-1", er(errNoKeyOrGroup([]byte("s"), []byte("nog")))),
			c("XNACK nokey g FAIL IDS 1 1-1", er(errNoKeyOrGroup([]byte("nokey"), []byte("g")))),
			c("XNACK s g BAD IDS 1 1-1", er(errNackMode)),
			c("XNACK s g FAIL IDS 0 1-1", er(errNackNumIDs)),
			c("XNACK s g FAIL IDS x 1-1", er(errNackNumIDs)),
			c("XNACK s g FAIL IDS 2 1-1", er(errNackNumMatch)),
			c("XNACK s g FAIL FOO 1 1-1", er("ERR Unrecognized XNACK option 'FOO'")),
			c("XNACK s g FAIL RETRYCOUNT -1 IDS 1 1-1", er(errNackRetryCount)),
			c("XNACK s g FAIL RETRYCOUNT x IDS 1 1-1", er(errNotInt)),
			c("XNACK s g FAIL FORCE FORCE FORCE", er(errNackNoIDS)),
			c("XNACK s g FAIL IDS 1 abc", er(errInvalidID)),
			c("XNACK s g FAIL", er(errArity("xnack"))),
		}},
	}
}

// emptyPendingOwners is XPENDING's summary when every pending entry is
// unowned: no consumer is listed.
func emptyPendingOwners(line string, n int64, first, last string) step {
	return c(line, ar(in(n), bs(first), bs(last), ar()))
}

// nowID is the ID testNow-seq.
func nowID(seq int) string { return strconv.FormatInt(testNow, 10) + "-" + strconv.Itoa(seq) }
