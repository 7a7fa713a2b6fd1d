package server

import (
	"reflect"
	"slices"
	"testing"

	"github.com/raftstream/raftstream/engine"
)

// TestRedis8Overlay: the commands Redis 8 extended keep every argument
// and history entry of the generated reference and gain exactly the
// overlay's, in place; the commands it added take the overlay's metadata
// whole (the reference knows none of them).
func TestRedis8Overlay(t *testing.T) {
	tab := buildTable(nil, engine.Commands())
	for name, o := range redis8Options {
		c := tab.byName[name]
		ref := redisMeta[name]
		if c == nil || ref == nil {
			t.Fatalf("%s: missing from the table or the reference", name)
		}
		rest := slices.DeleteFunc(slices.Clone(c.args), func(a docArg) bool {
			return slices.ContainsFunc(o.args, func(ins argInsert) bool { return reflect.DeepEqual(ins.arg, a) })
		})
		if !reflect.DeepEqual(rest, ref.args) {
			t.Errorf("%s: without the Redis 8 arguments the list differs from the reference:\n%+v\n%+v", name, rest, ref.args)
		}
		if len(c.args) != len(ref.args)+len(o.args) {
			t.Errorf("%s: %d arguments, want %d", name, len(c.args), len(ref.args)+len(o.args))
		}
		for _, ins := range o.args {
			i := slices.IndexFunc(c.args, func(a docArg) bool { return reflect.DeepEqual(a, ins.arg) })
			if i < 1 || c.args[i-1].name != ins.after {
				t.Errorf("%s: %s not right after %s", name, ins.arg.name, ins.after)
			}
		}
		if want := append(slices.Clone(ref.history), o.history...); !reflect.DeepEqual(c.history, want) {
			t.Errorf("%s: history %v, want %v", name, c.history, want)
		}
		if !reflect.DeepEqual(c.keySpecs, ref.keySpecs) || !reflect.DeepEqual(c.flags, ref.flags) {
			t.Errorf("%s: COMMAND INFO metadata changed by the overlay", name)
		}
	}
	for name, n := range redis8Commands {
		c := tab.byName[name]
		switch {
		case c == nil:
			t.Errorf("%s: not in the command table", name)
		case redisMeta[name] != nil:
			t.Errorf("%s: the reference knows it now; drop it from the overlay or check it", name)
		case c.eng.Spec().Arity != c.arity:
			t.Errorf("%s: arity changed", name)
		case c.since != n.since || c.summary != n.summary || !reflect.DeepEqual(c.keySpecs, n.meta.keySpecs) || len(c.args) == 0:
			t.Errorf("%s: overlay not applied: %+v", name, c)
		case !reflect.DeepEqual(c.acl, aclCategories(c)):
			t.Errorf("%s: ACL categories %v, derived from the flags %v", name, c.acl, aclCategories(c))
		}
	}
}
