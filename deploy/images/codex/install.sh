#!/bin/sh
# Installs OpenAI Codex, pinned to the version the repo's tests run (packages/adapter-codex devDependency
# @openai/codex), as <prefix>/bin/codex. The Dockerfile and the deployment kit's tests run this.
set -eu
if [ $# -ne 1 ]; then
  echo "usage: install.sh <prefix>" >&2
  exit 2
fi
CODEX_VERSION=0.171.0
exec sh "$(dirname "$0")/../install-cli.sh" @openai/codex "$CODEX_VERSION" codex "$1"
