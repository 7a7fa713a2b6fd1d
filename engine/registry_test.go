package engine

import "testing"

// Each registry has its own entries: IDs are dense and the registry's,
// host commands win a clash, engine entries keep their spec, check and
// exec, and a host command's hook is stored as given.
func TestRegistry(t *testing.T) {
	type hook struct{ name string }
	ping := NewHostCommand(CommandInfo{Name: "ping", Arity: -1}, &hook{"ping"})
	clash := NewHostCommand(CommandInfo{Name: "xlen", Arity: 2}, &hook{"xlen"})
	cont := NewHostCommand(CommandInfo{Name: "client", Arity: -2}, nil,
		NewHostCommand(CommandInfo{Name: "client|list", Arity: -2}, &hook{"list"}),
		NewHostCommand(CommandInfo{Name: "client|count-failure-reports", Arity: 2}, &hook{"long"}))
	r1 := NewRegistry(ping, clash, cont)
	r2 := NewRegistry()
	for id := 0; id < r1.Len(); id++ {
		if c := r1.ByID(id); c == nil || c.ID() != id || r1.Get(c.Name()) != c {
			t.Fatalf("ID %d: %v", id, c)
		}
	}
	if h, _ := r1.Lookup([]byte("XLEN")).Hook().(*hook); h == nil || h.name != "xlen" {
		t.Errorf("host command does not win the clash")
	}
	if c := r1.Lookup([]byte("Client")).Sub([]byte("COUNT-FAILURE-REPORTS")); c == nil || c.Parent() != cont {
		t.Errorf("long subcommand name not found, or no parent")
	}
	a, b := r1.Lookup([]byte("xadd")), r2.Lookup([]byte("xadd"))
	if a == nil || b == nil || a == b || a.Spec() != b.Spec() || a.Info() != b.Info() {
		t.Errorf("engine entries must be per registry and share spec and metadata")
	}
	if a.Hook() != nil || !a.Write() || a.Check(argvOf("XADD s * f v")) != "" || a.Check(argvOf("XADD s x f v")) == "" {
		t.Errorf("engine entry lost its behaviour")
	}
	g := r2.Lookup([]byte("xgroup")).Sub([]byte("create"))
	if g == nil || g.Parent() == nil || g.Parent().Name() != "xgroup" || g.Name() != "xgroup|create" {
		t.Errorf("engine subcommand: %v", g)
	}
	if r2.Lookup([]byte("ping")) != nil {
		t.Errorf("a registry without host commands has ping")
	}
}
