package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/raftstream/raftstream/cluster"
)

// Defaults, as in Redis.
const (
	DefaultMaxBulkLen             = 512 << 20   // proto-max-bulk-len
	DefaultMaxMultibulkLen        = 1024 * 1024 // see Config.MaxMultibulkLen
	DefaultClientQueryBufferLimit = 1 << 30     // client-query-buffer-limit
	DefaultMaxClients             = 10000       // maxclients
	DefaultRedisVersion           = "8.0.0"
	DefaultCommandTimeout         = 10 * time.Second
)

// Config configures the client-facing RESP server.
type Config struct {
	// Addr is the TCP address clients connect to, e.g. ":6379"; ":0"
	// picks a free port (see Server.Addr).
	Addr string
	// RequirePass, if set, makes clients authenticate (AUTH or HELLO AUTH)
	// before running other commands, like Redis's requirepass.
	RequirePass string
	// MaxBulkLen is the largest bulk argument accepted (proto-max-bulk-len).
	MaxBulkLen int64
	// MaxMultibulkLen is the largest argument count accepted in a "*N"
	// header. Redis 7+ allows up to INT_MAX (Redis 6 allowed 1024*1024,
	// the default here): redcon's parser spends time proportional to the
	// announced count on every attempt to parse an incomplete request, so
	// a huge count costs seconds of CPU per read. At most math.MaxInt32.
	MaxMultibulkLen int64
	// ClientQueryBufferLimit caps the bytes of a single request; a client
	// going past it is disconnected without a reply, as in Redis.
	ClientQueryBufferLimit int64
	// TLSAddr, if set, is a second client address served over TLS with
	// the TLS configuration (Redis's tls-port); the plain Addr stays.
	TLSAddr string
	TLS     *tls.Config
	// MaxClients caps concurrent client connections (maxclients).
	MaxClients int
	// NoProtectedMode turns Redis's protected mode off (protected-mode
	// no). With it on (the default), while no password is set, clients
	// that do not connect over the loopback interface get Redis's DENIED
	// error and are disconnected.
	NoProtectedMode bool
	// ClientOutputBufferLimit is client-output-buffer-limit in Redis's
	// syntax ("normal <hard> <soft> <soft-seconds> ..."); classes not
	// named keep Redis's defaults (normal 0 0 0: no limit).
	ClientOutputBufferLimit string
	// MaxMemoryClients caps the unsent reply bytes of all clients
	// together (maxmemory-clients); past it the clients holding the most
	// are disconnected. Zero means no limit.
	MaxMemoryClients int64
	// Shutdown, if set, is called when a client sends SHUTDOWN; the caller
	// then stops the process gracefully, as on SIGTERM. Nil refuses SHUTDOWN.
	Shutdown func()
	// Version is raftstream's own version, shown in INFO server.
	Version string
	// RedisVersion is the Redis version reported to clients (HELLO and INFO
	// redis_version). Client libraries gate features on it, so it names
	// the Redis release whose behaviour the server follows.
	RedisVersion string
	// Loading, if set, is the node's loading progress: until it is done,
	// commands that need the dataset get -LOADING, as in Redis while it
	// loads, and INFO persistence shows loading:1 and the progress.
	Loading *cluster.LoadProgress
	// CommandTimeout bounds how long a command waits for Raft (a write's
	// commit, a read's barrier). Zero means DefaultCommandTimeout.
	CommandTimeout time.Duration
	// SentinelMasterName is the master name SENTINEL answers for (the
	// service name failover clients are given). Default
	// DefaultSentinelMasterName.
	SentinelMasterName string
	// ConfigFile is the absolute path of the config file the node was
	// started with, which CONFIG REWRITE rewrites and INFO server shows.
	// Empty: CONFIG REWRITE answers that there is none, as Redis does.
	ConfigFile string
	// SlowlogSlowerThan and SlowlogMaxLen are slowlog-log-slower-than and
	// slowlog-max-len; nil takes Redis's defaults.
	SlowlogSlowerThan *int64
	SlowlogMaxLen     *int64
	// AutoIdempotent turns automatic idempotency on for every new
	// connection (--auto-idempotent; RS.IDEMPOTENT changes it per
	// connection): an XADD with an auto-generated ID and no IDMP of its
	// own is proposed as "XADD key IDMP <client name> <digest> ...", so
	// the same XADD resent after a reconnect is stored once. Connections
	// without a client name are not affected. Off by default: two XADDs
	// with the same arguments from the same client name within the
	// stream's IDMP window become one entry (docs/operations.md).
	AutoIdempotent bool
}

// DefaultSentinelMasterName is the SENTINEL master name when
// Config.SentinelMasterName is empty.
const DefaultSentinelMasterName = "raftstream"

// withDefaults returns cfg with zero fields set to their defaults, or an
// error for values that make no sense.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.SlowlogMaxLen != nil && *cfg.SlowlogMaxLen < 0 {
		return cfg, errors.New("server config: slowlog-max-len must not be negative")
	}
	if cfg.MaxBulkLen < 0 || cfg.MaxMemoryClients < 0 || cfg.MaxMultibulkLen < 0 || cfg.ClientQueryBufferLimit < 0 || cfg.MaxClients < 0 || cfg.CommandTimeout < 0 {
		return cfg, errors.New("server config: limits must not be negative")
	}
	if err := ParseClientOutputBufferLimit(cfg.ClientOutputBufferLimit); err != nil {
		return cfg, fmt.Errorf("server config: client-output-buffer-limit %q: %w", cfg.ClientOutputBufferLimit, err)
	}
	if cfg.MaxBulkLen == 0 {
		cfg.MaxBulkLen = DefaultMaxBulkLen
	}
	if cfg.MaxMultibulkLen == 0 {
		cfg.MaxMultibulkLen = DefaultMaxMultibulkLen
	}
	if cfg.MaxMultibulkLen > math.MaxInt32 {
		return cfg, fmt.Errorf("server config: MaxMultibulkLen %d is above %d", cfg.MaxMultibulkLen, math.MaxInt32)
	}
	if cfg.ClientQueryBufferLimit == 0 {
		cfg.ClientQueryBufferLimit = DefaultClientQueryBufferLimit
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.RedisVersion == "" {
		cfg.RedisVersion = DefaultRedisVersion
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	if cfg.SentinelMasterName == "" {
		cfg.SentinelMasterName = DefaultSentinelMasterName
	}
	return cfg, nil
}
