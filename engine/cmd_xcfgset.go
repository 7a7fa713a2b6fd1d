package engine

import (
	"strconv"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// XCFGSET errors (Redis 8.6).
const (
	errCfgDurationTwice = "ERR IDMP-DURATION specified multiple times"
	errCfgMaxSizeTwice  = "ERR IDMP-MAXSIZE specified multiple times"
	errCfgNoParam       = "ERR At least one parameter must be specified"
)

var (
	errCfgDurationRange = "ERR IDMP-DURATION must be between " + strconv.Itoa(idmpMinDuration) +
		" and " + strconv.Itoa(idmpMaxDuration) + " seconds"
	errCfgMaxSizeRange = "ERR IDMP-MAXSIZE must be between " + strconv.Itoa(idmpMinMaxSize) +
		" and " + strconv.Itoa(idmpMaxMaxSize) + " entries"
)

// execXCfgSet is Redis 8.6's xcfgsetCommand: XCFGSET key
// [IDMP-DURATION seconds] [IDMP-MAXSIZE n] on an existing stream. Changing
// a value clears the stream's IDMP entries; setting the same value again
// keeps them. raftstream adds [MAXAGE ms [KEEPREF|DELREF|ACKED]], age
// retention (stream_retention.go), applied at once.
func (s *State) execXCfgSet(ctx *Ctx, argv [][]byte) {
	e := s.lookupWrite(ctx, ctx.DB, string(argv[1]))
	if e == nil {
		ctx.W.WriteError(errNoSuchKey)
		return
	}
	duration, maxSize := int64(-1), int64(-1)
	ret := xcfgRetention{maxAge: -1}
	for i := 2; i < len(argv); i++ {
		more := len(argv) - 1 - i
		if j, err := ret.parse(argv, i); err != "" {
			ctx.W.WriteError(err)
			return
		} else if j >= i {
			i = j
			continue
		}
		switch {
		case argIs(argv[i], "idmp-duration") && more > 0:
			i++
			if e := setCfgOnce(&duration, argv[i], idmpMinDuration, idmpMaxDuration, errCfgDurationTwice, errCfgDurationRange); e != "" {
				ctx.W.WriteError(e)
				return
			}
		case argIs(argv[i], "idmp-maxsize") && more > 0:
			i++
			if e := setCfgOnce(&maxSize, argv[i], idmpMinMaxSize, idmpMaxMaxSize, errCfgMaxSizeTwice, errCfgMaxSizeRange); e != "" {
				ctx.W.WriteError(e)
				return
			}
		default:
			ctx.W.WriteError(errSyntax)
			return
		}
	}
	if ret.policy != refDefault && ret.maxAge == -1 {
		ctx.W.WriteError(errCfgPolicyNoAge)
		return
	}
	if duration == -1 && maxSize == -1 && ret.maxAge == -1 {
		ctx.W.WriteError(errCfgNoParam)
		return
	}
	e.val.idmpConfigure(duration, maxSize)
	if ret.maxAge != -1 {
		s.db(ctx).setRetention(e, ret.maxAge, ret.policy)
		e.val.retain(ctx.Now)
	}
	ctx.W.WriteStatus("OK")
}

// setCfgOnce parses one XCFGSET value into *dst (-1 while unset), with
// Redis's error order: given twice, not an integer, out of range.
func setCfgOnce(dst *int64, arg []byte, lo, hi int64, errTwice, errRange string) string {
	if *dst != -1 {
		return errTwice
	}
	n, ok := redisutil.ParseLL(arg)
	if !ok {
		return errNotInt
	}
	if n < lo || n > hi {
		return errRange
	}
	*dst = n
	return ""
}
