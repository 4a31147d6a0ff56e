#!/usr/bin/env bash
# CI's proof of the image build steps without Docker: runs build-app.sh cpu on a copy of the
# working tree (as `COPY . .` gives the Dockerfiles, less .dockerignore's build outputs), then runs
# the staged router and worker as the images would (plain node on compiled JavaScript, from the
# staged tree only, the built-in model) against a private redis-server and asks for a completion.
#
#   deploy/docker/check-build.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== copy the build context"
mkdir -p "$work/src"
(cd "$repo" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$work/src"
(cd "$work/src" && deploy/docker/build-app.sh cpu "$work/out")

echo "== run the staged router and worker"
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
redis_port=$(free_port) http_port=$(free_port) grpc_port=$(free_port) worker_port=$(free_port) metrics_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
export CHUNKMESH_REDIS_URL="redis://127.0.0.1:$redis_port" CHUNKMESH_MODEL="$work/out/models/stories260K"
cd "$work/out/app"
CHUNKMESH_DEVICE=cpu CHUNKMESH_PORT=$worker_port CHUNKMESH_METRICS_PORT=$metrics_port CHUNKMESH_THREADS=1 \
  node services/worker/dist/main.js >"$work/worker.log" 2>&1 &
pids+=($!)
CHUNKMESH_HOST=127.0.0.1 CHUNKMESH_HTTP_PORT=$http_port CHUNKMESH_GRPC_PORT=$grpc_port \
  node services/router/dist/main.js >"$work/router.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null && break
  sleep 0.2
done
reply=$(curl -sf "http://127.0.0.1:$http_port/v1/completions" -H 'content-type: application/json' \
  -d '{"model": "stories260K", "prompt": "Once upon a time", "max_tokens": 8}') || {
  echo "no completion from the staged build"; tail -20 "$work/worker.log" "$work/router.log"; exit 1
}
echo "$reply" | node -e '
  const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (!(r.usage?.completion_tokens > 0)) { console.error("bad completion:", r); process.exit(1); }
  console.log(`staged build completes: ${r.usage.completion_tokens} tokens, ${JSON.stringify(r.choices[0].text)}`);'
