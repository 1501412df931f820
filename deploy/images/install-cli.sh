#!/bin/sh
# Installs one agent CLI, pinned, as a single executable: <prefix>/bin/<executable>.
#
#   install-cli.sh <npm-package> <version> <executable> <prefix>
#
# The CLIs ship a self-contained native binary in a per-platform npm package (an optional dependency of the
# main package), at its root, in bin/, or (Codex) in vendor/<target triple>/bin/; claude and opencode's postinstall
# step would copy it into place. npm may skip install scripts, so this script picks the platform package npm
# installed itself, in the order the main package lists them.
# Needs node and npm (at build time only; the image itself needs neither).
set -eu

if [ $# -ne 4 ]; then
  echo "usage: install-cli.sh <npm-package> <version> <executable> <prefix>" >&2
  exit 2
fi
package=$1
version=$2
executable=$3
prefix=$4

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
printf '{ "name": "agent-cli-staging", "private": true }\n' >"$staging/package.json"
(cd "$staging" && npm install --no-audit --no-fund --loglevel=error --ignore-scripts "$package@$version" >&2)

binary=$(node -e '
  const { existsSync, readdirSync, readFileSync } = require("node:fs");
  const path = require("node:path");
  const [modules, name, executable] = process.argv.slice(1);
  const manifest = JSON.parse(readFileSync(path.join(modules, name, "package.json"), "utf8"));
  for (const platformPackage of Object.keys(manifest.optionalDependencies ?? {})) {
    const vendor = path.join(modules, platformPackage, "vendor");
    const triples = existsSync(vendor) ? readdirSync(vendor) : [];
    for (const candidate of [executable, path.join("bin", executable), ...triples.map((triple) => path.join("vendor", triple, "bin", executable))]) {
      const file = path.join(modules, platformPackage, candidate);
      if (existsSync(file)) { process.stdout.write(file); process.exit(0); }
    }
  }
  console.error(`no platform package of ${name} with a ${executable} binary was installed for ${process.platform}-${process.arch}`);
  process.exit(1);
' "$staging/node_modules" "$package" "$executable")

mkdir -p "$prefix/bin"
cp "$binary" "$prefix/bin/$executable"
chmod 0755 "$prefix" "$prefix/bin" "$prefix/bin/$executable"
echo "$prefix/bin/$executable"
