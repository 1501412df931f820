// Test support (an image layer of the real-CLI tests, not published): runs the Gemini CLI script given as the first
// argument after writing the settings the test passed in SCRIPTED_GEMINI_SETTINGS to the agent's
// ~/.gemini/settings.json, since a simulated pod sees no host file the test could write them to (and the CLI
// ignores a system settings file the agent user owns).
import { mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const settingsDir = path.join(homedir(), ".gemini");
mkdirSync(settingsDir, { recursive: true });
writeFileSync(path.join(settingsDir, "settings.json"), process.env.SCRIPTED_GEMINI_SETTINGS ?? "{}");
const [script] = process.argv.splice(2, 1);
await import(pathToFileURL(script).href);
