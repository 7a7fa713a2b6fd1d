#!/usr/bin/env bash
# Builds the raftstream container image from the repository alone: a
# static binary from the local Go toolchain (CGO off), wrapped FROM
# scratch by deploy/Dockerfile. Nothing is pulled from a registry.
#
# Usage: deploy/build-image.sh [tag]        (default tag: raftstream:dev)
# Environment: VERSION (default: git describe, else "dev"), GOARCH (default:
# the host's; set it to build for another architecture).
set -euo pipefail
tag=${1:-raftstream:dev}
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v docker >/dev/null || { echo "build-image.sh: docker not found" >&2; exit 1; }
version=${VERSION:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo dev)}

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
CGO_ENABLED=0 go build -C "$root" -buildvcs=false \
	-ldflags="-s -w -X main.version=${version}" -o "$ctx/raftstream" ./cmd/raftstream
mkdir -p "$ctx/data"
echo 'nonroot:x:65532:65532:raftstream:/data:/sbin/nologin' >"$ctx/passwd"
echo 'nonroot:x:65532:' >"$ctx/group"
# The legacy builder: BuildKit may be missing from the engine, and this
# Dockerfile needs nothing it adds.
DOCKER_BUILDKIT=0 docker build -q --build-arg "VERSION=${version}" \
	-f "$root/deploy/Dockerfile" -t "$tag" "$ctx" >/dev/null
echo "built $tag (raftstream ${version})"
