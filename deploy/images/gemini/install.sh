#!/bin/sh
# Installs Gemini CLI, pinned to the version the repo's tests run (packages/adapter-gemini devDependency
# @google/gemini-cli), under <prefix> with <prefix>/bin/gemini as its command. The Dockerfile and the deployment
# kit's tests run this.
#
# Unlike the other CLIs, Gemini CLI is a Node script (bin bundle/gemini.js) with no native build: the package is
# installed as npm lays it out, and bin/gemini is a wrapper that runs it with the `node` on PATH (a file, not
# npm's relative symlink, so bin/ works wherever it is mounted). Install scripts are skipped: the only packages
# that have them are the optional keytar (a keychain, unused with API keys) and node-pty (its prebuilt
# @lydell/node-pty-<platform> build is installed anyway). Needs node and npm, at build time and (node) at run time.
set -eu
if [ $# -ne 1 ]; then
  echo "usage: install.sh <prefix>" >&2
  exit 2
fi
GEMINI_CLI_VERSION=0.61.0

mkdir -p "$1/bin"
prefix=$(cd "$1" && pwd)
case $prefix in
  *"'"*) echo "install.sh: the prefix must not contain a single quote: $prefix" >&2; exit 2 ;;
esac
printf '{ "name": "gemini-cli-install", "private": true }\n' >"$prefix/package.json"
(cd "$prefix" && npm install --no-audit --no-fund --loglevel=error --ignore-scripts "@google/gemini-cli@$GEMINI_CLI_VERSION" >&2)

script="$prefix/node_modules/@google/gemini-cli/bundle/gemini.js"
if [ ! -f "$script" ]; then
  echo "install.sh: $script is missing after installing @google/gemini-cli@$GEMINI_CLI_VERSION" >&2
  exit 1
fi
printf '#!/bin/sh\nexec node %s "$@"\n' "'$script'" >"$prefix/bin/gemini"
chmod -R a+rX "$prefix"
chmod 0755 "$prefix/bin/gemini"
echo "$prefix/bin/gemini"
