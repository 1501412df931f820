// `npm test` and `npm run demo` must run on the repo's pinned Node (the `node` devDependency),
// whatever Node the machine has: npm puts node_modules/.bin first on PATH for scripts.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 24 || (major === 24 && minor < 11)) {
  console.error(`Node ${process.versions.node} is running; this repo needs Node >= 24.11. Run it through npm (npm test, npm run demo), which uses the pinned node devDependency.`);
  process.exit(1);
}
console.log(`node ${process.versions.node}`);
