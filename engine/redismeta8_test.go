package engine

import (
	"reflect"
	"slices"
	"testing"
)

// infoByName indexes every command's and subcommand's Info.
func infoByName() map[string]*Command {
	out := map[string]*Command{}
	for _, c := range Commands() {
		out[c.Info().Name] = c
		for _, s := range c.Subcommands() {
			out[s.Info().Name] = s
		}
	}
	return out
}

// TestRedis8Overlay: the commands Redis 8 extended keep every argument
// and history entry of the generated reference and gain exactly the
// overlay's, in place; the commands it added take the overlay's metadata
// whole (the reference knows none of them).
func TestRedis8Overlay(t *testing.T) {
	tab := infoByName()
	for name, o := range redis8Options {
		ref := redisMeta[name]
		if tab[name] == nil || ref == nil {
			t.Fatalf("%s: missing from the table or the reference", name)
		}
		c := tab[name].Info()
		rest := slices.DeleteFunc(slices.Clone(c.Args), func(a DocArg) bool {
			return slices.ContainsFunc(o.Args, func(ins argInsert) bool { return reflect.DeepEqual(ins.Arg, a) })
		})
		if !reflect.DeepEqual(rest, ref.Args) {
			t.Errorf("%s: without the Redis 8 arguments the list differs from the reference:\n%+v\n%+v", name, rest, ref.Args)
		}
		if len(c.Args) != len(ref.Args)+len(o.Args) {
			t.Errorf("%s: %d arguments, want %d", name, len(c.Args), len(ref.Args)+len(o.Args))
		}
		for _, ins := range o.Args {
			i := slices.IndexFunc(c.Args, func(a DocArg) bool { return reflect.DeepEqual(a, ins.Arg) })
			if i < 1 || c.Args[i-1].Name != ins.After {
				t.Errorf("%s: %s not right after %s", name, ins.Arg.Name, ins.After)
			}
		}
		if want := append(slices.Clone(ref.History), o.History...); !reflect.DeepEqual(c.History, want) {
			t.Errorf("%s: history %v, want %v", name, c.History, want)
		}
		if !reflect.DeepEqual(c.KeySpecs, ref.KeySpecs) || !reflect.DeepEqual(c.Flags, ref.Flags) {
			t.Errorf("%s: COMMAND INFO metadata changed by the overlay", name)
		}
	}
	for name, n := range redis8Commands {
		ec := tab[name]
		if ec == nil {
			t.Errorf("%s: not in the command table", name)
			continue
		}
		c := ec.Info()
		switch {
		case redisMeta[name] != nil:
			t.Errorf("%s: the reference knows it now; drop it from the overlay or check it", name)
		case ec.Spec().Arity != c.Arity:
			t.Errorf("%s: arity changed", name)
		case c.Since != n.Since || c.Summary != n.Summary || !reflect.DeepEqual(c.KeySpecs, n.Meta.KeySpecs) || len(c.Args) == 0:
			t.Errorf("%s: overlay not applied: %+v", name, c)
		case !reflect.DeepEqual(c.ACL, aclCategories(c)):
			t.Errorf("%s: ACL categories %v, derived from the flags %v", name, c.ACL, aclCategories(c))
		}
	}
}
