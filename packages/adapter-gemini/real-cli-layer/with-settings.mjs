// Test support (an image layer of the real-CLI tests, not published): runs the Gemini CLI script given as the first
// argument with the settings the test passed in SCRIPTED_GEMINI_SETTINGS, written to a file in the pod's /tmp and
// named by GEMINI_CLI_SYSTEM_SETTINGS_PATH, since a simulated pod sees no host file the test could write them to.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const settingsFile = path.join(tmpdir(), `gemini-settings-${process.pid}.json`);
writeFileSync(settingsFile, process.env.SCRIPTED_GEMINI_SETTINGS ?? "{}");
process.env.GEMINI_CLI_SYSTEM_SETTINGS_PATH = settingsFile;
const [script] = process.argv.splice(2, 1);
await import(pathToFileURL(script).href);
