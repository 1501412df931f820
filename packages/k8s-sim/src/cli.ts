import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { SimNodeSpec } from "./cluster.ts";
import { CliUsageError, FAULT_USAGE } from "./fault-args.ts";
import { DEFAULT_KUBECONFIG, REQUESTS_USAGE, runFaultCommand, runRequestsCommand } from "./sim-control.ts";

const USAGE = `Usage: paperclip-k8s-sim [options]
       paperclip-k8s-sim fault [--kubeconfig <path>] <action> ...   (see: fault --help)
       paperclip-k8s-sim requests [--kubeconfig <path>] [--reset]

Starts a simulated Kubernetes cluster in the foreground and writes a kubeconfig for it.

  --port <n>                 API server port on 127.0.0.1 (default: a free port)
  --root-dir <dir>           where logs and volumes live (default: a temp dir, removed on exit)
  --kubeconfig <path>        kubeconfig to write (default: ./sim-kubeconfig.json; plain HTTP)
  --https-kubeconfig <path>  also write a kubeconfig for the HTTPS listener, with the cluster CA
  --image <ref>=<dir>[:dir]  an image and the host directories standing in for it (repeatable)
  --accept-any-image         run unregistered images with the host PATH
  --node <name>[:k=v,...]    a node with labels (repeatable; default: one node sim-node-1)
  --help                     this text`;

function fail(message: string): never {
  console.error(`paperclip-k8s-sim: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseImage(text: string): [string, string[]] {
  const equals = text.indexOf("=");
  if (equals <= 0 || equals === text.length - 1) fail(`--image needs <ref>=<dir>, got "${text}"`);
  return [text.slice(0, equals), text.slice(equals + 1).split(path.delimiter).map((dir) => path.resolve(dir))];
}

function parseNode(text: string): SimNodeSpec {
  const [name = "", labelText] = text.split(/:(.*)/s);
  if (!name) fail(`--node needs a name, got "${text}"`);
  const labels: Record<string, string> = {};
  for (const pair of (labelText ?? "").split(",").filter(Boolean)) {
    const equals = pair.indexOf("=");
    if (equals <= 0) fail(`--node labels are key=value, got "${pair}"`);
    labels[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return { name, labels };
}

async function serve(args: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: "string" },
        "root-dir": { type: "string" },
        kubeconfig: { type: "string", default: DEFAULT_KUBECONFIG },
        "https-kubeconfig": { type: "string" },
        image: { type: "string", multiple: true, default: [] },
        "accept-any-image": { type: "boolean", default: false },
        node: { type: "string", multiple: true, default: [] },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) fail(`--port must be 0-65535, got "${values.port}"`);
  const nodes = values.node.map(parseNode);
  const kubeconfigPath = path.resolve(values.kubeconfig);
  // Loaded here so that `fault` and `requests` start quickly without the whole cluster.
  const { startSimCluster } = await import("./cluster.ts");
  const cluster = await startSimCluster({
    port,
    rootDir: values["root-dir"] === undefined ? undefined : path.resolve(values["root-dir"]),
    kubeconfigPath,
    images: Object.fromEntries(values.image.map(parseImage)),
    acceptAnyImage: values["accept-any-image"],
    nodes: nodes.length > 0 ? nodes : undefined,
  });
  console.log(`Simulated cluster listening on ${cluster.url}`);
  console.log(`HTTPS (cluster CA) on ${cluster.httpsUrl}`);
  console.log(`Kubeconfig: ${cluster.kubeconfigPath}`);
  const httpsKubeconfig = values["https-kubeconfig"];
  if (httpsKubeconfig !== undefined) {
    writeFileSync(path.resolve(httpsKubeconfig), `${JSON.stringify(cluster.httpsKubeconfig, null, 2)}\n`, { mode: 0o600 });
    console.log(`HTTPS kubeconfig: ${path.resolve(httpsKubeconfig)}`);
  }
  console.log(`  export KUBECONFIG=${cluster.kubeconfigPath}`);
  console.log("Press Ctrl-C to stop.");

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the cluster...`);
    cluster.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** `fault` and `requests` talk to a sim that is already running; anything else starts one. */
const SUBCOMMANDS = new Map<string, { usage: string; run: (args: string[]) => Promise<string> }>([
  ["fault", { usage: FAULT_USAGE, run: runFaultCommand }],
  ["requests", { usage: REQUESTS_USAGE, run: runRequestsCommand }],
]);

const [first = "", ...rest] = process.argv.slice(2);
const subcommand = SUBCOMMANDS.get(first);
if (!subcommand) {
  await serve(process.argv.slice(2));
} else if (rest.includes("--help")) {
  console.log(subcommand.usage);
} else {
  try {
    console.log(await subcommand.run(rest));
  } catch (error) {
    const usage = error instanceof CliUsageError ? `\n\n${subcommand.usage}` : "";
    console.error(`paperclip-k8s-sim ${first}: ${error instanceof Error ? error.message : String(error)}${usage}`);
    process.exitCode = error instanceof CliUsageError ? 2 : 1;
  }
}
