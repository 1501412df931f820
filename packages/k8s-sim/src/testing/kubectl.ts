import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs the real kubectl against a kubeconfig; a failing command resolves with its exit code and output. */
export async function kubectlWith(kubeconfigPath: string, args: readonly string[], input?: string): Promise<KubectlResult> {
  try {
    const child = run("kubectl", ["--kubeconfig", kubeconfigPath, ...args], { timeout: 60_000 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    const { stdout, stderr } = await child;
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: failure.stdout ?? "", stderr: failure.stderr ?? "", code: typeof failure.code === "number" ? failure.code : 1 };
  }
}
