package engine

// StreamStat summarises one stream for monitoring (the web console).
type StreamStat struct {
	DB           int
	Key          string
	Length       int64
	EntriesAdded uint64
	LastID       ID
	// MaxAge is the age retention in ms (XCFGSET MAXAGE), 0 if none.
	MaxAge int64
	Groups []GroupStat
}

// GroupStat summarises one consumer group.
type GroupStat struct {
	Name      string
	Consumers int
	Pending   int
	// Lag is XINFO GROUPS's lag, -1 when Redis would report null.
	Lag int64
	// MaxDeliveries and DeadLetterKey are the dead-letter setting
	// (RS.SETDLQ), 0 and "" if none; DeadLettered counts entries moved.
	MaxDeliveries int64
	DeadLetterKey string
	DeadLettered  int64
}

// StreamStats returns summaries of the first limit streams alive at now,
// database by database in keyspace order, and whether there were more. It
// only reads, so it may run under the FSM's read lock.
func (s *State) StreamStats(now int64, limit int) (stats []StreamStat, truncated bool) {
	for db, ks := range s.dbs {
		ks.keys.Scan(func(sl slot) bool {
			if sl.e.expired(now) {
				return true
			}
			if len(stats) == limit {
				truncated = true
				return false
			}
			st := sl.e.val
			ss := StreamStat{DB: db, Key: sl.key, Length: st.Len(), EntriesAdded: st.EntriesAdded(),
				LastID: st.LastID(), MaxAge: st.maxAge}
			st.eachGroup(func(g *group) bool {
				lag, ok := st.groupLag(g)
				if !ok {
					lag = -1
				}
				ss.Groups = append(ss.Groups, GroupStat{Name: g.name, Consumers: g.consumers.Len(),
					Pending: g.pel.Len(), Lag: lag, MaxDeliveries: g.dlq.max, DeadLetterKey: g.dlq.key,
					DeadLettered: g.dlq.moved})
				return true
			})
			stats = append(stats, ss)
			return true
		})
		if truncated {
			break
		}
	}
	return stats, truncated
}
