package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// rawFdatasync bypasses the scheduler, not the kernel: it must report what
// unix.Fdatasync reports.
func TestRawFdatasync(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "seg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("entry")); err != nil {
		t.Fatal(err)
	}
	if err := rawFdatasync(int(f.Fd())); err != nil {
		t.Fatalf("flush of an open file: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fd   int
	}{
		{"closed file", int(f.Fd())}, // -1 once closed
		{"pipe", int(w.Fd())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := unix.Fdatasync(tc.fd)
			got := rawFdatasync(tc.fd)
			if !errors.Is(got, want) || (got == nil) != (want == nil) {
				t.Fatalf("rawFdatasync = %v, unix.Fdatasync = %v", got, want)
			}
		})
	}
}
