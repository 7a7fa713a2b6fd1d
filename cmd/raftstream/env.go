package main

import (
	"flag"
	"fmt"
	"net"
	"strings"
)

// envPrefix names the environment variables that stand in for flags:
// --leader-wait is RAFTSTREAM_LEADER_WAIT. Containers are configured
// this way (a Kubernetes ConfigMap or Secret becomes environment
// variables), which also keeps secrets such as --requirepass out of the
// process's argument list.
const envPrefix = "RAFTSTREAM_"

// envName is the environment variable for flag name.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets every flag of fs that the command line left alone from its
// environment variable, if that is set. The command line wins, so a
// value can always be overridden for one run. Variables that match no
// flag are ignored: the prefix is shared with test and tooling settings.
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	if lookup == nil {
		return nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		name := envName(f.Name)
		v, ok := lookup(name)
		if !ok {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("%s=%q: %w", name, v, serr)
		}
	})
	return err
}

// localAddr turns a listen address into one a process on the same host
// can dial: a wildcard or empty host becomes the loopback address.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if ip != nil && ip.To4() == nil {
			host = "::1"
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, port)
}
