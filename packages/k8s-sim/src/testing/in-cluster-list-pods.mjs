// Runs inside a simulated pod: client-node's in-cluster config, unmodified, lists the pods of the
// pod's own namespace and prints their names (or the API's answer when refused).
import { readFileSync } from "node:fs";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

const kubeConfig = new KubeConfig();
kubeConfig.loadFromCluster();
const namespace = readFileSync("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "utf8");
try {
  const pods = await kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
  console.log(`server ${kubeConfig.getCurrentCluster()?.server}`);
  console.log(`pods ${pods.items.map((pod) => pod.metadata?.name).join(",")}`);
} catch (error) {
  console.log(`refused ${error.code} ${typeof error.body === "string" ? JSON.parse(error.body).message : ""}`);
  process.exitCode = 3;
}
