# Sourced by the project's scripts: shared caches so warm runs (and CI on a fresh clone
# of the same machine) reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudvault/target}"
export GOPATH="${GOPATH:-$HOME/go}"
export GOCACHE="${GOCACHE:-$HOME/.cache/go-build}"
export GOFLAGS="${GOFLAGS:--mod=mod}"
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$GOPATH/bin:$PATH"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
