package engine

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// aclExec runs one ACL command line and returns the raw reply.
func aclExec(s *State, line string) string {
	w := respWriter(2)
	s.Exec(&Ctx{Now: testNow, W: w}, argvOf(line))
	return string(w.Buf)
}

func TestACLSetUserRules(t *testing.T) {
	pw := HashPassword("p1")
	pw2 := HashPassword("p2")
	for _, tc := range []struct {
		ops   string // SETUSER ops, applied to a fresh user "u"
		reply string // "" for +OK
		want  string // Describe() afterwards
	}{
		{"", "", "off resetchannels -@all"},
		{"on", "", "on resetchannels -@all"},
		{"on >p1", "", "on #" + pw + " resetchannels -@all"},
		{">p1 >p2 <p1", "", "off #" + pw2 + " resetchannels -@all"},
		{">p1 >p1", "", "off #" + pw + " resetchannels -@all"},
		{"#" + pw + " !" + pw, "", "off resetchannels -@all"},
		{">p1 nopass", "", "off nopass resetchannels -@all"},
		{"nopass >p1", "", "off #" + pw + " resetchannels -@all"},
		{">p1 resetpass", "", "off resetchannels -@all"},
		{"~orders:* %R~ro:* %W~wo:*", "", "off ~orders:* %R~ro:* %W~wo:* resetchannels -@all"},
		{"%R~a %W~a", "", "off ~a resetchannels -@all"},
		{"%rw~a", "", "off ~a resetchannels -@all"},
		{"~a allkeys", "", "off ~* resetchannels -@all"},
		{"~a ~*", "", "off ~* resetchannels -@all"},
		{"%R~*", "", "off %R~* resetchannels -@all"},
		{"allkeys resetkeys ~b", "", "off ~b resetchannels -@all"},
		{"&ch* &ch*", "", "off resetchannels &ch* -@all"},
		{"allchannels", "", "off &* -@all"},
		{"&* resetchannels", "", "off resetchannels -@all"},
		{"+@all", "", "off resetchannels +@all"},
		{"allcommands -flushall", "", "off resetchannels +@all -flushall"},
		{"+@read -xrange +XADD +@stream", "", "off resetchannels -@all +@read -xrange +xadd +@stream"},
		{"+xadd -xadd", "", "off resetchannels -@all -xadd"},
		{"+config|get +config", "", "off resetchannels -@all +config"},
		{"+config +config|get", "", "off resetchannels -@all +config +config|get"},
		{"+@stream nocommands", "", "off resetchannels -@all"},
		{"on >p1 ~* +@all reset", "", "off sanitize-payload resetchannels -@all"},
		{"skip-sanitize-payload", "", "off resetchannels -@all"},
		{"clearselectors", "", "off resetchannels -@all"},
		// Errors leave the user as it was (a fresh user is not created).
		{"on foo", "-ERR Error in ACL SETUSER modifier 'foo': Syntax error\r\n", ""},
		{"#abc", "-ERR Error in ACL SETUSER modifier '#abc': " + aclErrBadHash + "\r\n", ""},
		{"#" + strings.ToUpper(pw), "-ERR Error in ACL SETUSER modifier '#" + strings.ToUpper(pw) + "': " + aclErrBadHash + "\r\n", ""},
		{"<nopw", "-ERR Error in ACL SETUSER modifier '<nopw': " + aclErrNoPass + "\r\n", ""},
		{"allkeys ~a", "-ERR Error in ACL SETUSER modifier '~a': " + aclErrAllKeys + "\r\n", ""},
		{"allkeys %R~a", "-ERR Error in ACL SETUSER modifier '%R~a': " + aclErrAllKeys + "\r\n", ""},
		{"%X~a", "-ERR Error in ACL SETUSER modifier '%X~a': Syntax error\r\n", ""},
		{"%~a", "-ERR Error in ACL SETUSER modifier '%~a': Syntax error\r\n", ""},
		{"%R", "-ERR Error in ACL SETUSER modifier '%R': Syntax error\r\n", ""},
		{"allchannels &x", "-ERR Error in ACL SETUSER modifier '&x': " + aclErrAllChans + "\r\n", ""},
		{"+config|get|x", "-ERR Error in ACL SETUSER modifier '+config|get|x': " + aclErrFirstArg + "\r\n", ""},
		{"+", "-ERR Error in ACL SETUSER modifier '+': Syntax error\r\n", ""},
		{"+@", "-ERR Error in ACL SETUSER modifier '+@': Syntax error\r\n", ""},
		{"(+xadd ~x)", "-ERR Error in ACL SETUSER modifier '(+xadd': Syntax error\r\n", ""},
	} {
		s := NewState()
		got := aclExec(s, strings.TrimSpace("ACL SETUSER u "+tc.ops))
		wantReply := tc.reply
		if wantReply == "" {
			wantReply = "+OK\r\n"
		}
		if got != wantReply {
			t.Errorf("%q: reply %q, want %q", tc.ops, got, wantReply)
			continue
		}
		u := s.ACL().User("u")
		if tc.want == "" {
			if u != nil {
				t.Errorf("%q: failed SETUSER created the user: %s", tc.ops, u.Describe())
			}
			continue
		}
		if u == nil {
			t.Errorf("%q: no user", tc.ops)
			continue
		}
		if d := u.Describe(); d != tc.want {
			t.Errorf("%q: %q, want %q", tc.ops, d, tc.want)
		}
		// Check must agree with Exec on syntax (everything but state).
		if msg := Check(argvOf(strings.TrimSpace("ACL SETUSER u " + tc.ops))); msg != "" {
			t.Errorf("%q: Check %q for an op Exec accepted", tc.ops, msg)
		}
	}
}

func TestACLSetUserAtomicAndDelUser(t *testing.T) {
	s := NewState()
	if r := aclExec(s, "ACL SETUSER u on >p1 ~a +xadd"); r != "+OK\r\n" {
		t.Fatal(r)
	}
	before := s.ACL().User("u").Describe()
	if r := aclExec(s, "ACL SETUSER u off ~b bogus"); !strings.HasPrefix(r, "-ERR Error in ACL SETUSER modifier 'bogus'") {
		t.Fatal(r)
	}
	if got := s.ACL().User("u").Describe(); got != before {
		t.Fatalf("failed SETUSER changed the user: %q, was %q", got, before)
	}
	if !s.ACL().User("u").CheckPassword([]byte("p1")) || s.ACL().User("u").CheckPassword([]byte("p2")) {
		t.Fatal("password check")
	}
	// In sequence: the DELUSERs depend on the users left.
	for _, c := range [][2]string{
		{"ACL SETUSER a b", "-ERR Error in ACL SETUSER modifier 'b': Syntax error\r\n"},
		{"ACL DELUSER x default", "-ERR The 'default' user cannot be removed\r\n"},
		{"ACL DELUSER", "-ERR wrong number of arguments for 'acl|deluser' command\r\n"},
		{"ACL SETUSER", "-ERR wrong number of arguments for 'acl|setuser' command\r\n"},
		{"ACL FOO", "-ERR unknown subcommand 'FOO'. Try ACL HELP.\r\n"},
		{"ACL DELUSER nosuch u", ":1\r\n"},
		{"ACL DELUSER u", ":0\r\n"},
	} {
		if got := aclExec(s, c[0]); got != c[1] {
			t.Errorf("%s: %q, want %q", c[0], got, c[1])
		}
		if msg := Check(argvOf(c[0])); c[1][0] == '-' && "-"+msg+"\r\n" != c[1] {
			t.Errorf("%s: Check %q, want %q", c[0], msg, c[1])
		}
	}
	w := respWriter(2)
	s.Exec(&Ctx{Now: testNow, W: w}, [][]byte{[]byte("ACL"), []byte("SETUSER"), []byte("a b")})
	if string(w.Buf) != "-ERR Usernames can't contain spaces or null characters\r\n" {
		t.Errorf("space in name: %q", w.Buf)
	}
	if s.ACL().User("u") != nil || len(s.ACL().Users()) != 0 {
		t.Fatalf("users left: %v", s.ACL().Users())
	}
}

// The default user changed through the log starts from Redis's default
// ("on nopass ~* &* +@all"), not from a fresh user.
func TestACLDefaultUser(t *testing.T) {
	if got := DefaultUser("").Describe(); got != "on nopass ~* &* +@all" {
		t.Fatal(got)
	}
	if got := DefaultUser("pw").Describe(); got != "on #"+HashPassword("pw")+" ~* &* +@all" {
		t.Fatal(got)
	}
	s := NewState()
	aclExec(s, "ACL SETUSER default -flushall")
	if got := s.ACL().User("default").Describe(); got != "on nopass ~* &* +@all -flushall" {
		t.Fatal(got)
	}
}

func TestACLSnapshot(t *testing.T) {
	s := NewState()
	for _, l := range []string{
		"XADD s 1-1 f v",
		"ACL SETUSER zed on >pw ~orders:* %R~ro:* &ch +@read -xrange",
		"ACL SETUSER alice on nopass allkeys allchannels +@all -@dangerous",
		"ACL SETUSER default resetpass >secret",
		"ACL SETUSER bob reset",
	} {
		if r := aclExec(s, l); strings.HasPrefix(r, "-") {
			t.Fatalf("%s: %s", l, r)
		}
	}
	b := snapshotBytes(t, s)
	r, err := ReadSnapshot(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, r), b) {
		t.Fatal("snapshot does not round-trip")
	}
	if !bytes.Equal(snapshotBytes(t, s.Clone()), b) {
		t.Fatal("clone differs")
	}
	var names []string
	for _, u := range r.ACL().Users() {
		names = append(names, u.Name+": "+u.Describe())
		if want := s.ACL().User(u.Name).Describe(); u.Describe() != want {
			t.Errorf("%s: %q, want %q", u.Name, u.Describe(), want)
		}
	}
	if len(names) != 4 {
		t.Fatalf("users %v", names)
	}
	// Two states built by the same commands in the same order give the
	// same bytes whatever the map iteration order (users are sorted).
	s2 := NewState()
	for _, l := range []string{
		"XADD s 1-1 f v",
		"ACL SETUSER zed on >pw ~orders:* %R~ro:* &ch +@read -xrange",
		"ACL SETUSER alice on nopass allkeys allchannels +@all -@dangerous",
		"ACL SETUSER default resetpass >secret",
		"ACL SETUSER bob reset",
	} {
		aclExec(s2, l)
	}
	if !bytes.Equal(snapshotBytes(t, s2), b) {
		t.Fatal("same commands, different snapshot")
	}
	for i := len(b) - 40; i < len(b)-4; i++ {
		if _, err := ReadSnapshot(bytes.NewReader(flip(b, i))); err == nil {
			t.Fatalf("corrupt byte %d accepted", i)
		}
	}
}

// A snapshot written by the code before ACL users existed (version 3,
// testdata/snapshot-v3.bin) still restores, with no users.
func TestACLSnapshotV3Restores(t *testing.T) {
	data, err := os.ReadFile("testdata/snapshot-v3.bin")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSnapshot(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.ACL().Users()); n != 0 {
		t.Fatalf("%d users from a v3 snapshot", n)
	}
	if r := aclExec(s, "XLEN s"); r != ":1\r\n" {
		t.Fatalf("XLEN %q", r)
	}
	if v, _ := s.ConfigGet("stream-node-max-entries"); v != "50" {
		t.Fatalf("config %q", v)
	}
}
