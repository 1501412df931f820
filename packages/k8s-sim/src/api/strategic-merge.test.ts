import { describe, expect, it } from "vitest";
import { applyStrategicMerge } from "./strategic-merge.ts";

const pod = {
  metadata: { finalizers: ["a"], labels: { app: "x" } },
  spec: {
    containers: [
      { name: "main", image: "busybox", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }], ports: [{ containerPort: 80, name: "http" }] },
      { name: "side", image: "busybox" },
    ],
    tolerations: [{ key: "t", operator: "Exists" }],
  },
};

describe("strategic merge patch", () => {
  it("merges keyed lists element by element, replaces unkeyed ones, unions finalizers", () => {
    const patched = applyStrategicMerge(pod, {
      metadata: { finalizers: ["b"] },
      spec: {
        containers: [{ name: "main", env: [{ name: "B", value: "two" }, { name: "C", value: "3" }] }],
        tolerations: [{ key: "u", operator: "Exists" }],
      },
    });
    expect(patched).toEqual({
      metadata: { finalizers: ["a", "b"], labels: { app: "x" } },
      spec: {
        containers: [
          { name: "main", image: "busybox", env: [{ name: "A", value: "1" }, { name: "B", value: "two" }, { name: "C", value: "3" }], ports: [{ containerPort: 80, name: "http" }] },
          { name: "side", image: "busybox" },
        ],
        tolerations: [{ key: "u", operator: "Exists" }],
      },
    });
  });

  it("honours $patch delete / replace, $setElementOrder, $deleteFromPrimitiveList and $retainKeys", () => {
    const patched = applyStrategicMerge(pod, {
      metadata: { "$deleteFromPrimitiveList/finalizers": ["a"], labels: { $patch: "replace", team: "y" } },
      spec: {
        "$setElementOrder/containers": [{ name: "side" }, { name: "main" }],
        containers: [{ name: "main", $retainKeys: ["name", "image"], image: "busybox:2" }, { name: "side", $patch: "delete" }, { name: "new", image: "n" }],
      },
    });
    expect(patched).toEqual({
      metadata: { finalizers: [], labels: { team: "y" } },
      spec: { containers: [{ name: "main", image: "busybox:2" }, { name: "new", image: "n" }], tolerations: [{ key: "t", operator: "Exists" }] },
    });
  });

  it("keys Service ports by port and container ports by containerPort", () => {
    const service = { spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }, { name: "metrics", port: 9090 }] } };
    expect(applyStrategicMerge(service, { spec: { ports: [{ port: 80, targetPort: 8081 }] } })).toEqual({
      spec: { ports: [{ name: "http", port: 80, targetPort: 8081 }, { name: "metrics", port: 9090 }] },
    });
  });
});
