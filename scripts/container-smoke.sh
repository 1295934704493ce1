#!/usr/bin/env bash
# Builds the switchyard image and checks that a container of it starts, answers /healthz,
# proxies requests to backends on this machine and drains on SIGTERM; prints a short summary.
#
# Engine: Docker where a Docker engine answers, otherwise buildah (installed with apt-get when
# missing; chroot isolation, vfs storage, so the container shares the host's network and every
# port is on 127.0.0.1). Where the base image cannot be pulled, set PREPARE_BASE_IMAGE to a
# command that puts node:24-bookworm-slim into buildah's storage; it runs before the build.
#
# Exit codes: 0 every check passed, 1 a check failed, 77 cannot run on this machine (no
# container engine, no base image); the reason is printed either way.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${SMOKE_IMAGE:-switchyard:smoke}
BASE_IMAGE=docker.io/library/node:24-bookworm-slim
BUILD_TIMEOUT_S=1200
READY_TIMEOUT_S=30
# drainDelay + drainTimeout of config/container.yaml, plus a margin for a slow machine.
DRAIN_LIMIT_S=$((5 + 30 + 5))
SKIP=77

say() { printf 'container-smoke: %s\n' "$*"; }
fail() {
  say "FAIL: $*"
  exit 1
}
skip() {
  say "SKIPPED: $*"
  exit "$SKIP"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds() { printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); }

NODE=node_modules/.bin/node
[ -x "$NODE" ] || NODE=$(command -v node || true)
[ -n "$NODE" ] || skip "no node to run the test backends with (run npm ci first)"

WORK=$(mktemp -d /tmp/switchyard-smoke.XXXXXX)
ENGINE=""
ENGINE_NAME=""
BUILDAH=()
base_size=""
CONTAINER=""
RUN_PID=""
BACKEND_PID=""
cleanup() {
  set +e
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    for pid in $(descendants "$RUN_PID"); do kill -KILL "$pid" 2>/dev/null; done
    kill -KILL "$RUN_PID" 2>/dev/null
    wait "$RUN_PID" 2>/dev/null
  fi
  if [ -n "$CONTAINER" ]; then
    if [ "$ENGINE" = docker ]; then
      timeout 30 docker rm -f "$CONTAINER" >/dev/null 2>&1
    else
      timeout 60 "${BUILDAH[@]}" rm "$CONTAINER" >/dev/null 2>&1
    fi
  fi
  if [ -n "$BACKEND_PID" ]; then
    kill "$BACKEND_PID" 2>/dev/null
    wait "$BACKEND_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every process below PID, children first listed before their own children.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

# One HTTP/1.1 request to 127.0.0.1:PORT over bash's /dev/tcp; prints the whole response.
# The Host is 127.0.0.1 unless given (the admin API refuses names it does not know).
CRLF=$'\r\n'
http_get() { # PORT PATH [HEADER_LINE] [HOST]
  # shellcheck disable=SC2016 # the inner shell expands its own arguments
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n" "$2" "$4" "$3" >&3 && cat <&3' \
    _ "$1" "$2" "${3:+$3$CRLF}" "${4:-127.0.0.1}" 2>/dev/null || true
}
http_status() { http_get "$@" | head -1 | cut -d' ' -f2; }

# ---- engine ------------------------------------------------------------------------------
if command -v docker >/dev/null 2>&1 && timeout 15 docker info >/dev/null 2>&1; then
  ENGINE=docker
  ENGINE_NAME="docker $(docker version -f '{{.Server.Version}}' 2>/dev/null || true)"
else
  if ! command -v buildah >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || skip "no Docker engine, and buildah is missing (apt-get install buildah as root)"
    say "no Docker engine answers; installing buildah with apt-get..."
    { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq buildah; } \
      >"$WORK/apt.log" 2>&1 || { tail -5 "$WORK/apt.log"; skip "buildah could not be installed"; }
  fi
  [ "$(id -u)" = 0 ] || skip "buildah with chroot isolation needs root here"
  ENGINE=buildah
  BUILDAH=(buildah --storage-driver vfs)
  ENGINE_NAME="$(buildah --version | cut -d' ' -f1-3) (chroot isolation, vfs storage)"
fi
say "engine: $ENGINE_NAME"

# ---- base image --------------------------------------------------------------------------
if [ "$ENGINE" = buildah ]; then
  if [ -n "${PREPARE_BASE_IMAGE:-}" ]; then
    say "preparing the base image: $PREPARE_BASE_IMAGE"
    if [ -f "$PREPARE_BASE_IMAGE" ]; then
      timeout 900 bash "$PREPARE_BASE_IMAGE" || skip "PREPARE_BASE_IMAGE failed"
    else
      timeout 900 bash -c "$PREPARE_BASE_IMAGE" || skip "PREPARE_BASE_IMAGE failed"
    fi
  elif ! "${BUILDAH[@]}" inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
    say "pulling $BASE_IMAGE..."
    timeout 600 "${BUILDAH[@]}" pull -q "$BASE_IMAGE" >/dev/null \
      || skip "$BASE_IMAGE cannot be pulled; set PREPARE_BASE_IMAGE to a command that provides it"
  fi
fi

# ---- build -------------------------------------------------------------------------------
say "building $IMAGE..."
build_start=$(now_ms)
if [ "$ENGINE" = docker ]; then
  timeout "$BUILD_TIMEOUT_S" docker build -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
    || { tail -30 "$WORK/build.log"; fail "docker build failed"; }
  image_size=$(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1000000 }')
  docker image inspect -f '{{json .Config}}' "$IMAGE" >"$WORK/config.json"
else
  old_id=$("${BUILDAH[@]}" images -q "$IMAGE" 2>/dev/null || true)
  # --format docker keeps HEALTHCHECK, which the OCI image format has no field for.
  timeout "$BUILD_TIMEOUT_S" "${BUILDAH[@]}" bud --isolation chroot --pull=never --format docker \
    -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
    || { tail -30 "$WORK/build.log"; fail "buildah bud failed"; }
  new_id=$("${BUILDAH[@]}" images -q "$IMAGE")
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then "${BUILDAH[@]}" rmi "$old_id" >/dev/null 2>&1 || true; fi
  image_size=$("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE" | head -1)
  base_size=$("${BUILDAH[@]}" images --format '{{.Size}}' "$BASE_IMAGE" 2>/dev/null | head -1 || true)
  "${BUILDAH[@]}" inspect --type image "$IMAGE" \
    | "$NODE" -e 'let s="";process.stdin.on("data",(d)=>{s+=d}).on("end",()=>{const j=JSON.parse(s);process.stdout.write(JSON.stringify({...j.OCIv1.config,Healthcheck:j.Docker.config.Healthcheck}))})' \
      >"$WORK/config.json"
fi
build_ms=$(($(now_ms) - build_start))
say "built in $(seconds "$build_ms") s; image size $image_size${base_size:+ (base image $base_size)}"

# The image's configuration: user, command, ports, HEALTHCHECK. Prints the command, one word a line.
"$NODE" - "$WORK/config.json" >"$WORK/command" <<'EOF' || fail "the image's configuration is wrong (above)"
const c = JSON.parse(require("node:fs").readFileSync(process.argv[2], "utf8"));
const lower = Object.fromEntries(Object.entries(c).map(([k, v]) => [k.toLowerCase(), v]));
const problems = [];
if (lower.user !== "node") problems.push(`USER is ${JSON.stringify(lower.user)}, not node`);
const ports = Object.keys(lower.exposedports ?? {}).sort().join(" ");
if (ports !== "8080/tcp 9901/tcp") problems.push(`EXPOSE is "${ports}"`);
const command = [...(lower.entrypoint ?? []), ...(lower.cmd ?? [])];
if (!command.join(" ").endsWith("switchyard serve --config /etc/switchyard/switchyard.yaml"))
  problems.push(`the command is ${JSON.stringify(command)}`);
const test = lower.healthcheck?.Test ?? lower.healthcheck?.test;
if (!Array.isArray(test) || test[0] !== "CMD" || test[1] !== "node") problems.push("no HEALTHCHECK on node");
for (const p of problems) console.error(`container-smoke: ${p}`);
if (problems.length > 0) process.exit(1);
console.log([...command, "", ...test.slice(1)].join("\n"));
EOF
mapfile -t words <"$WORK/command"
split=0
while [ "${words[$split]}" != "" ]; do split=$((split + 1)); done
COMMAND=("${words[@]:0:$split}")
HEALTHCHECK=("${words[@]:$((split + 1))}")

# ---- backends and ports on the host --------------------------------------------------------
# shellcheck disable=SC2016 # JavaScript template literals
"$NODE" -e '
const http = require("node:http");
const fs = require("node:fs");
const ports = [];
for (const name of ["stable", "canary"]) {
  const server = http.createServer((req, res) => {
    fs.appendFileSync(process.argv[1] + "/requests", `${name} ${req.url}\n`);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ backend: name, path: req.url }));
  });
  server.listen(0, "127.0.0.1", () => {
    ports.push(`${name}=${server.address().port}`);
    if (ports.length === 2) fs.writeFileSync(process.argv[1] + "/backends", ports.join("\n") + "\n");
  });
}
setTimeout(() => process.exit(0), 600_000); // never outlives a forgotten cleanup for long
' "$WORK" &
BACKEND_PID=$!
for _ in $(seq 50); do [ -s "$WORK/backends" ] && break; sleep 0.1; done
[ -s "$WORK/backends" ] || fail "the test backends did not start"
STABLE_PORT=$(sed -n 's/^stable=//p' "$WORK/backends")
CANARY_PORT=$(sed -n 's/^canary=//p' "$WORK/backends")
read -r PROXY_PORT ADMIN_PORT < <("$NODE" -e '
const net = require("node:net");
const a = net.createServer().listen(0, "127.0.0.1", () => {
  const b = net.createServer().listen(0, "127.0.0.1", () => {
    console.log(a.address().port, b.address().port);
    a.close(); b.close();
  });
});')
ENV_ARGS=(
  -e "SWITCHYARD_PROXY_LISTEN=127.0.0.1:$PROXY_PORT"
  -e "SWITCHYARD_ADMIN_LISTEN=127.0.0.1:$ADMIN_PORT"
  -e "SWITCHYARD_STABLE_URL=http://127.0.0.1:$STABLE_PORT"
  -e "SWITCHYARD_CANARY_URL=http://127.0.0.1:$CANARY_PORT"
)

# ---- start -------------------------------------------------------------------------------
if [ "$ENGINE" = docker ]; then
  CONTAINER=switchyard-smoke-$$
  start=$(now_ms)
  timeout 60 docker run -d --name "$CONTAINER" --network host "${ENV_ARGS[@]}" "$IMAGE" >/dev/null \
    || fail "docker run failed"
else
  CONTAINER=$(timeout 120 "${BUILDAH[@]}" from --pull=never --name "switchyard-smoke-$$" "$IMAGE") \
    || fail "buildah from failed"
  start=$(now_ms)
  "${BUILDAH[@]}" run --isolation chroot "${ENV_ARGS[@]}" "$CONTAINER" -- "${COMMAND[@]}" \
    >"$WORK/container.log" 2>&1 &
  RUN_PID=$!
fi
container_log() {
  if [ "$ENGINE" = docker ]; then timeout 10 docker logs "$CONTAINER" 2>&1 | tail -20; else tail -20 "$WORK/container.log"; fi
}
ready=""
deadline=$(($(now_ms) + READY_TIMEOUT_S * 1000))
while [ "$(now_ms)" -lt "$deadline" ]; do
  if [ "$(http_status "$ADMIN_PORT" /readyz)" = 200 ]; then
    ready=$(($(now_ms) - start))
    break
  fi
  if [ -n "$RUN_PID" ] && ! kill -0 "$RUN_PID" 2>/dev/null; then break; fi
  sleep 0.05
done
[ -n "$ready" ] || { container_log; fail "/readyz did not answer 200 within $READY_TIMEOUT_S s"; }
say "ready (/readyz 200) $(seconds "$ready") s after start"

# ---- checks while it serves ----------------------------------------------------------------
[ "$(http_status "$ADMIN_PORT" /healthz)" = 200 ] || fail "/healthz did not answer 200"
say "/healthz 200"

response=$(http_get "$PROXY_PORT" /smoke/default)
case "$response" in
  "HTTP/1.1 200"*'"backend":"stable"'*) ;;
  *) fail "GET /smoke/default through the proxy: $(echo "$response" | head -1)" ;;
esac
grep -qi '^via: 1.1 switchyard' <<<"$response" || fail "the proxied answer carries no Via: 1.1 switchyard"
grep -qx 'stable /smoke/default' "$WORK/requests" || fail "the stable backend did not see GET /smoke/default"
response=$(http_get "$PROXY_PORT" /smoke/canary "x-canary: always")
case "$response" in
  "HTTP/1.1 200"*'"backend":"canary"'*) ;;
  *) fail "GET /smoke/canary with x-canary: always: $(echo "$response" | head -1)" ;;
esac
say "proxied: GET /smoke/default -> stable backend 200, x-canary: always -> canary backend 200"

# Without SWITCHYARD_ADMIN_TOKEN the admin API takes no write call from anyone.
status=$(http_get "$ADMIN_PORT" /api/v1/status "Authorization: Bearer placeholder-admin-token-change-me" | head -1 | cut -d' ' -f2)
[ "$status" = 401 ] || fail "GET /api/v1/status with a guessed token answered $status, not 401"
# A web page that rebinds its own name to the admin port is refused for its Host.
status=$(http_get "$ADMIN_PORT" /healthz "" "rebinding.example:$ADMIN_PORT" | head -1 | cut -d' ' -f2)
[ "$status" = 403 ] || fail "GET /healthz with Host rebinding.example answered $status, not 403"

if [ "$ENGINE" = docker ]; then
  timeout 20 docker exec "$CONTAINER" "${HEALTHCHECK[@]}" || fail "the HEALTHCHECK command failed"
  uid=$(timeout 20 docker exec "$CONTAINER" sh -c "sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' /proc/1/status")
else
  timeout 60 "${BUILDAH[@]}" run --isolation chroot -e "SWITCHYARD_ADMIN_LISTEN=127.0.0.1:$ADMIN_PORT" \
    "$CONTAINER" -- "${HEALTHCHECK[@]}" || fail "the HEALTHCHECK command failed"
  NODE_PID=""
  for pid in $(descendants "$RUN_PID"); do
    # comm is not reliable (Node names its main thread); the command line's first word is.
    argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -1 || true)
    if [ "${argv0##*/}" = node ]; then NODE_PID=$pid; fi
  done
  [ -n "$NODE_PID" ] || fail "no node process below buildah run"
  uid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$NODE_PID/status")
fi
[ "$uid" = 1000 ] || fail "switchyard runs as uid $uid, not the node user (1000)"
say "HEALTHCHECK passes; runs as uid 1000 (node); admin API refuses a guessed token and a foreign Host"

# ---- drain -----------------------------------------------------------------------------------
term=$(now_ms)
if [ "$ENGINE" = docker ]; then
  timeout 20 docker kill --signal TERM "$CONTAINER" >/dev/null || fail "docker kill failed"
else
  kill -TERM "$NODE_PID"
fi
not_ready=""
for _ in $(seq 40); do
  if [ "$(http_status "$ADMIN_PORT" /readyz)" = 503 ]; then
    not_ready=$(($(now_ms) - term))
    break
  fi
  sleep 0.05
done
[ -n "$not_ready" ] || fail "/readyz did not turn 503 within 2 s of SIGTERM"
response=$(http_get "$PROXY_PORT" /smoke/draining)
case "$response" in
  "HTTP/1.1 200"*'"backend":"stable"'*) ;;
  *) fail "a request during drainDelay was not served: $(echo "$response" | head -1)" ;;
esac
exit_code=""
if [ "$ENGINE" = docker ]; then
  exit_code=$(timeout "$DRAIN_LIMIT_S" docker wait "$CONTAINER" 2>/dev/null || true)
else
  deadline=$((term + DRAIN_LIMIT_S * 1000))
  while kill -0 "$RUN_PID" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
  if ! kill -0 "$RUN_PID" 2>/dev/null; then
    exit_code=0
    wait "$RUN_PID" || exit_code=$?
    RUN_PID=""
  fi
fi
drained=$(($(now_ms) - term))
[ -n "$exit_code" ] || { container_log; fail "still running $DRAIN_LIMIT_S s after SIGTERM"; }
[ "$exit_code" = 0 ] || { container_log; fail "exited $exit_code after SIGTERM, not 0"; }
say "drained: /readyz 503 $(seconds "$not_ready") s after SIGTERM, served during drainDelay, exited 0 after $(seconds "$drained") s"

echo
echo "container smoke test: PASS"
echo "  engine           $ENGINE_NAME"
echo "  image            $IMAGE, $image_size${base_size:+ (base image $base_size)}, built in $(seconds "$build_ms") s"
echo "  start to ready   $(seconds "$ready") s"
echo "  proxy            /healthz 200; requests reach the stable and canary backends on the host"
echo "  drain            /readyz 503 after $(seconds "$not_ready") s, exit 0 after $(seconds "$drained") s (limit $DRAIN_LIMIT_S s)"
