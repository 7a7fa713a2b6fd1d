package main

import (
	"fmt"
	"net"

	"github.com/raftstream/raftstream/cluster"
)

// The Raft configuration stores each member's address, and peers dial it
// for as long as the member exists. With --raft-advertise naming a DNS
// name (a StatefulSet pod's stable name, a compose service), that name
// must be what is stored: pod and container IPs change whenever a pod is
// rescheduled or a container restarts, so a resolved IP would leave the
// cluster dialing an address nobody has any more. cluster.Open resolves
// Config.RaftAdvertise once at start, but advertises a Config.Listener's
// own Addr unchanged, and its transport resolves addresses at every dial.
// So run binds the Raft port itself and hands the node a listener whose
// Addr is the advertised name. (It also means a node can start before its
// own DNS record exists, which on Kubernetes it may.)

// namedAddr is a TCP address given by host name.
type namedAddr string

func (a namedAddr) Network() string { return "tcp" }
func (a namedAddr) String() string  { return string(a) }

// advertisedListener is a listener that reports the advertised address.
type advertisedListener struct {
	net.Listener
	addr namedAddr
}

func (l advertisedListener) Addr() net.Addr { return l.addr }

// listenAdvertised binds c.RaftAddr and moves c.RaftAdvertise onto the
// listener (see above). Without --raft-advertise it leaves c alone. The
// returned listener is owned by the node once cluster.Open succeeds.
func listenAdvertised(c *cluster.Config) (net.Listener, error) {
	if c.RaftAdvertise == "" || c.Listener != nil {
		return nil, nil
	}
	if _, _, err := net.SplitHostPort(c.RaftAdvertise); err != nil {
		return nil, fmt.Errorf("--raft-advertise %q: %w", c.RaftAdvertise, err)
	}
	ln, err := net.Listen("tcp", c.RaftAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for raft on %s: %w", c.RaftAddr, err)
	}
	c.Listener = advertisedListener{Listener: ln, addr: namedAddr(c.RaftAdvertise)}
	c.RaftAdvertise = ""
	return ln, nil
}
