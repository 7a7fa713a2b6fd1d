package engine

import "testing"

func TestArityOK(t *testing.T) {
	for _, tc := range []struct {
		arity, argc int
		want        bool
	}{
		{2, 2, true}, {2, 1, false}, {2, 3, false},
		{-2, 1, false}, {-2, 2, true}, {-2, 5, true},
		{0, 0, true}, {0, 7, true}, // no constraint, as in Redis
	} {
		if got := ArityOK(tc.arity, tc.argc); got != tc.want {
			t.Errorf("ArityOK(%d, %d) = %v, want %v", tc.arity, tc.argc, got, tc.want)
		}
	}
}
