package cluster

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/raft-wal/metadb"
)

// copyDir copies a data dir (files and subdirectories) to a new temp dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o750)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// flip inverts n bytes of path at off.
func flip(t *testing.T, path string, off int64, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := off; i < off+int64(n) && i < int64(len(data)); i++ {
		data[i] ^= 0xff
	}
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
}

// boltLayout reads the page size and root page of a bbolt file.
func boltLayout(t *testing.T, path string) (pageSize int64, root uint64, pages uint64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := boltChecker{r: f}
	m, err := c.readMeta(0)
	if err != nil {
		t.Fatal(err)
	}
	if m1, err := c.readMeta(int64(m.pageSize)); err == nil && m1.txid > m.txid {
		m = m1
	}
	return int64(m.pageSize), m.root, m.pgid
}

// wantDamageError checks err is one line naming file and the repair.
func wantDamageError(t *testing.T, what string, err error, file string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded on a damaged %s", what, file)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, file) || !strings.Contains(msg, "wipe the data dir") {
		t.Fatalf("%s: %q; want one line naming %s and the repair", what, msg, file)
	}
}

// TestDamagedBoltFilesStopStartup damages the wal data dir's two bbolt
// files, stable.db (term, vote, incarnation) and wal/wal-meta.db (the
// segment list), and requires the node to refuse to start, and `raftstream
// check` to fail, with one line naming the file and the repair; bbolt on
// its own crashed on them (SIGBUS or a panic in its freelist goroutine).
func TestDamagedBoltFilesStopStartup(t *testing.T) {
	tmpl := fillNode(t, testConfig(t, "n1", t.TempDir()), 40, 100).DataDir
	for _, file := range []string{walStableFile, filepath.Join(walDir, metadb.FileName)} {
		path := filepath.Join(tmpl, file)
		ps, root, pages := boltLayout(t, path)
		t.Logf("%s: %d pages of %d bytes, root page %d", file, pages, ps, root)
		cases := []struct {
			name   string
			damage func(t *testing.T, p string)
			errHas string
		}{
			{"truncated into used pages", func(t *testing.T, p string) {
				if err := os.Truncate(p, ps*int64(pages)-ps/2); err != nil {
					t.Fatal(err)
				}
			}, "truncated"},
			{"truncated to 100 bytes", func(t *testing.T, p string) {
				if err := os.Truncate(p, 100); err != nil {
					t.Fatal(err)
				}
			}, "truncated"},
			{"both meta pages flipped", func(t *testing.T, p string) {
				flip(t, p, 16+40, 8)
				flip(t, p, ps+16+40, 8)
			}, "meta pages"},
			{"root page header flipped", func(t *testing.T, p string) {
				flip(t, p, int64(root)*ps+8, 8)
			}, "page"},
			{"root page elements flipped", func(t *testing.T, p string) {
				flip(t, p, int64(root)*ps+16, 64)
			}, "page"},
			{"first key made the largest", func(t *testing.T, p string) {
				// Keys out of order: bbolt's freelist rebuild (stable.db
				// keeps no freelist) reports it in a goroutine that panics.
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				el := int64(root)*ps + 16
				pos := int64(binary.LittleEndian.Uint32(data[el+4:]))
				data[el+pos] = 0xff
				if err := os.WriteFile(p, data, 0o640); err != nil {
					t.Fatal(err)
				}
			}, "out of order"},
		}
		for _, tc := range cases {
			t.Run(file+"/"+tc.name, func(t *testing.T) {
				cfg := testConfig(t, "n1", copyDir(t, tmpl))
				tc.damage(t, filepath.Join(cfg.DataDir, file))
				_, err := Open(cfg)
				wantDamageError(t, "Open", err, filepath.Base(file))
				if !strings.Contains(err.Error(), tc.errHas) {
					t.Errorf("Open: %q; want it to say %q", err, tc.errHas)
				}
				_, err = CheckDataDir(cfg.DataDir, testLogger())
				wantDamageError(t, "CheckDataDir", err, filepath.Base(file))
			})
		}
	}

	// bbolt keeps two meta pages for this: one damaged, it uses the other.
	t.Run("one meta page flipped", func(t *testing.T) {
		cfg := testConfig(t, "n1", copyDir(t, tmpl))
		flip(t, filepath.Join(cfg.DataDir, walStableFile), 16+40, 8)
		n := openNode(t, cfg)
		waitLeader(t, n)
		if got := linearRead(t, n, "XLEN", "s"); got != ":40\r\n" {
			t.Errorf("XLEN after a meta page was damaged: %q", got)
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDamagedBoltFileNeverCrashes flips bytes all over stable.db and
// wal-meta.db, one place at a time, and opens each result the way a start
// does: whatever the damage, the open either works (bbolt has no checksums
// on its pages, so a changed value can go unnoticed) or fails with one line
// naming the file; it never panics or faults (which would end this test
// binary).
func TestDamagedBoltFileNeverCrashes(t *testing.T) {
	tmpl := fillNode(t, testConfig(t, "n1", t.TempDir()), 20, 50).DataDir
	opened, refused := 0, 0
	for _, file := range []string{walStableFile, filepath.Join(walDir, metadb.FileName)} {
		src := filepath.Join(tmpl, file)
		orig, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		path := filepath.Join(dir, filepath.Base(file))
		for off := 0; off < len(orig); off += 24 {
			data := append([]byte(nil), orig...)
			for i := off; i < off+4 && i < len(data); i++ {
				data[i] ^= 0x5a
			}
			if err := os.WriteFile(path, data, 0o640); err != nil {
				t.Fatal(err)
			}
			var openErr error
			if file == walStableFile {
				s, err := openBolt(path, false)
				if openErr = err; err == nil {
					_, _ = s.GetUint64([]byte("CurrentTerm"))
					_, _ = s.Get(incarnationKey)
					_ = s.Close()
				}
			} else {
				if openErr = checkBoltFile(path); openErr == nil {
					m := &metadb.BoltMetaDB{}
					_, openErr = loadWALMeta(dir, m)
					_ = m.Close()
				}
			}
			if openErr != nil {
				refused++
				if strings.Contains(openErr.Error(), "\n") || !strings.Contains(openErr.Error(), filepath.Base(file)) {
					t.Fatalf("offset %d of %s: %q; want one line naming the file", off, file, openErr)
				}
			} else {
				opened++
			}
		}
	}
	t.Logf("%d damaged copies refused, %d opened", refused, opened)
	// The check must not refuse the intact files either.
	for _, file := range []string{walStableFile, filepath.Join(walDir, metadb.FileName)} {
		if err := checkBoltFile(filepath.Join(tmpl, file)); err != nil {
			t.Errorf("intact %s: %v", file, err)
		}
	}
}

// TestDamagedBoltLogStopsStartup truncates a boltdb data dir's raft.db
// (log and stable store in one file) into its used pages, which crashed
// the node with SIGBUS (issue 12): Open and CheckDataDir name the file.
func TestDamagedBoltLogStopsStartup(t *testing.T) {
	cfg := testConfig(t, "n1", t.TempDir())
	cfg.LogStore = LogStoreBoltDB
	fillNode(t, cfg, 100, 200)
	path := filepath.Join(cfg.DataDir, boltLogFile)
	ps, _, pages := boltLayout(t, path)
	if err := os.Truncate(path, ps*int64(pages)/2); err != nil {
		t.Fatal(err)
	}
	_, err := Open(cfg)
	wantDamageError(t, "Open", err, boltLogFile)
	if !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Open: %q; want it to say truncated", err)
	}
	_, err = CheckDataDir(cfg.DataDir, testLogger())
	wantDamageError(t, "CheckDataDir", err, boltLogFile)
}
