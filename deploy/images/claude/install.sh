#!/bin/sh
# Installs Claude Code, pinned to the version the repo's tests run (packages/adapter-claude devDependency
# @anthropic-ai/claude-code), as <prefix>/bin/claude. The Dockerfile and the deployment kit's tests run this.
set -eu
if [ $# -ne 1 ]; then
  echo "usage: install.sh <prefix>" >&2
  exit 2
fi
CLAUDE_CODE_VERSION=2.1.197
exec sh "$(dirname "$0")/../install-cli.sh" @anthropic-ai/claude-code "$CLAUDE_CODE_VERSION" claude "$1"
