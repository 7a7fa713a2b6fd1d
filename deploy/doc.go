// Package deploy holds raftstream's deployment files and the tests that
// prove they work; it has no code of its own.
//
//   - Dockerfile, build-image.sh: the image. A static binary (CGO off)
//     FROM scratch, because the machines this must build on reach no
//     image registry, and because a single binary needs nothing else: it
//     also answers the container probes itself (`raftstream health`), so
//     there is no shell to add. Runs as UID 65532, data in the /data
//     volume, configured by RAFTSTREAM_* environment variables.
//   - compose/docker-compose.yml: three nodes founded with --peers by
//     service name, host ports overridable; node4 (profile "scale")
//     shows joining with --join.
//   - kubernetes/: a StatefulSet whose pods find each other through the
//     headless Service's SRV records (--bootstrap-expect 3
//     --discover-dns), identified by pod name and stable DNS name.
//   - kubernetes-monitoring/: a kustomize overlay of kubernetes/ that
//     turns on --metrics-listen and adds a metrics Service and a
//     Prometheus Operator ServiceMonitor; grafana/: a dashboard of the
//     metrics. A sibling, not a subfolder: kustomize refuses an overlay
//     inside its base, and TestKubernetesManifests reads kubernetes/ only.
//   - raftstream.conf: an example --config file in redis.conf syntax
//     (docs/operations.md, Config file); cmd/raftstream's tests load it.
//   - compose/k8s-sim.yml: the StatefulSet's exact arguments run in
//     containers, with network aliases standing in for its DNS names, so
//     the Kubernetes discovery path is tested without Kubernetes; a
//     fourth pod (profile "scale") is the one a scale-up adds.
//
// Why the tests drive Docker rather than processes: the failure modes
// that matter for a deployment (a container's IP changing on restart, a
// node cut off by the network, DNS names that appear and disappear, a
// volume's ownership, health checks run by the engine) only exist there.
// The price is time (about a minute to build the image cold, a few more
// for the scenarios) and a dependency on a Docker daemon; the tests skip,
// saying why, where docker, docker-compose or redis-cli is missing or the
// daemon is unreachable, and in -short mode. The manifests themselves are
// checked offline, strictly decoded into the Kubernetes API types, on
// every run.
//
// Trade-offs: the compose cluster advertises host ports (127.0.0.1:6379...)
// as client addresses, which suits clients on the host and not clients
// inside the Docker network; the simulation cannot serve SRV records, so
// it exercises discovery's A-record fallback (same names, same code path
// after the lookup); and Kubernetes itself (scheduling, PVCs, probes run by
// the kubelet) is not exercised here.
package deploy
