import { execFile } from "node:child_process";

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs the real kubectl against a kubeconfig; never throws for a non-zero exit (the result says). */
export function kubectl(kubeconfigPath: string, args: readonly string[], stdin?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile("kubectl", ["--kubeconfig", kubeconfigPath, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}
