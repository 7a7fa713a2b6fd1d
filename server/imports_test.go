package server

import (
	"go/build"
	"testing"
)

// TestImportsOnlyCluster keeps the boundary between the front end and the
// replication layer: server reaches Raft and the state machine only
// through package cluster, whose types and errors say what server needs
// (cluster/command.go, cluster/errors.go). Importing fsm or raft directly
// brings back error checks whose order depends on raft's internals.
func TestImportsOnlyCluster(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := map[string]bool{
		"github.com/raftstream/raftstream/fsm": true,
		"github.com/hashicorp/raft":            true,
	}
	for _, imp := range pkg.Imports { // non-test files only
		if forbidden[imp] {
			t.Errorf("package server imports %s; use package cluster instead", imp)
		}
	}
}
