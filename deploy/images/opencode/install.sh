#!/bin/sh
# Installs OpenCode, pinned to the version the repo's tests run (packages/adapter-opencode devDependency
# opencode-ai), as <prefix>/bin/opencode. The Dockerfile and the deployment kit's tests run this.
set -eu
if [ $# -ne 1 ]; then
  echo "usage: install.sh <prefix>" >&2
  exit 2
fi
OPENCODE_VERSION=1.18.33
exec sh "$(dirname "$0")/../install-cli.sh" opencode-ai "$OPENCODE_VERSION" opencode "$1"
