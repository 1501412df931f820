#!/bin/sh
# Installs the Paperclip server (paperclipai 2026.916.1) with the Kubernetes adapters preinstalled and
# registered, as Paperclip itself records adapters it installed:
#   <prefix>/bin/paperclip-server   starts the server          <prefix>/bin/paperclipai   Paperclip's CLI
#   <paperclip-home>/adapter-plugins/          the npm directory Paperclip installs adapters into
#   <paperclip-home>/adapter-plugins.json      the adapters Paperclip loads at start
#
#   install.sh <prefix> <paperclip-home> [adapter-spec ...]
#
# adapter-spec: anything `npm install` takes (name@version, a tarball from `npm pack`); default: the four adapters
# (claude_k8s, opencode_k8s, codex_k8s, gemini_k8s) from the registry. Packages among them that are not adapters (e.g. a packed paperclip-k8s-runtime the
# adapters depend on) are installed but not registered.
# The server itself is installed by scripts/install-paperclip.sh into $PAPERCLIP_CACHE (default: that script's
# cache, which the end-to-end tests share; a complete install there is reused). Needs node >= 24.11 and npm.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: install.sh <prefix> <paperclip-home> [adapter-spec ...]" >&2
  exit 2
fi
prefix=$1
home=$2
shift 2
if [ $# -eq 0 ]; then
  set -- paperclip-adapter-claude-k8s@0.1.0 paperclip-adapter-opencode-k8s@0.1.0 paperclip-adapter-codex-k8s@0.1.0 paperclip-adapter-gemini-k8s@0.1.0
fi
here=$(cd "$(dirname "$0")" && pwd)

server=$(bash "$here/../../../scripts/install-paperclip.sh" | tail -n 1)
entry="$server/node_modules/@paperclipai/server/dist/index.js"
cli="$server/node_modules/paperclipai/dist/index.js"
for file in "$entry" "$cli"; do
  if [ ! -f "$file" ]; then
    echo "install.sh: $file is missing after installing Paperclip into $server" >&2
    exit 1
  fi
done

# `node` is taken from the PATH of the container, so one install serves any Node >= 24.11 the image has.
mkdir -p "$prefix/bin"
printf '#!/bin/sh\nexec node %s "$@"\n' "'$entry'" >"$prefix/bin/paperclip-server"
printf '#!/bin/sh\nexec node %s "$@"\n' "'$cli'" >"$prefix/bin/paperclipai"
chmod 0755 "$prefix" "$prefix/bin" "$prefix/bin/paperclip-server" "$prefix/bin/paperclipai"

# The adapters are dependencies in adapter-plugins/package.json (not --no-save): Paperclip installs further
# adapters with `npm install --no-save`, which prunes whatever package.json does not list.
plugins="$home/adapter-plugins"
mkdir -p "$plugins"
if [ ! -f "$plugins/package.json" ]; then
  printf '{\n  "name": "paperclip-adapter-plugins",\n  "version": "0.0.0",\n  "private": true\n}\n' >"$plugins/package.json"
fi
(cd "$plugins" && npm install --no-audit --no-fund --loglevel=error "$@" >&2)
node "$here/register-adapters.mjs" "$home"
