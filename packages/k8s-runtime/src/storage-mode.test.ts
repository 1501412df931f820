import { describe, expect, it } from "vitest";
import { pinnedToNode, storageMode } from "./storage-mode.ts";

describe("storageMode", () => {
  it("ReadWriteMany: agent pods run on any node", () => {
    expect(storageMode("data", ["ReadWriteMany"], "node-a")).toEqual({ agentNode: null, usable: true, explanation: "Claim data is ReadWriteMany: agent pods run on any node" });
  });

  it("ReadWriteOnce with Paperclip in a pod: agent pods run on that pod's node", () => {
    expect(storageMode("data", ["ReadWriteOnce"], "node-a")).toEqual({
      agentNode: "node-a",
      usable: true,
      explanation: "Claim data is not ReadWriteMany (ReadWriteOnce): it attaches to one node, so agent pods run on the Paperclip pod's node node-a",
    });
  });

  it("ReadWriteOnce with Paperclip outside the cluster: not usable, and says why", () => {
    expect(storageMode("data", ["ReadWriteOnce"], undefined)).toMatchObject({ agentNode: null, usable: false });
    expect(storageMode("data", [], undefined).explanation).toBe("Claim data is not ReadWriteMany (none) and Paperclip does not run in a pod whose node could host the agent pods");
  });
});

describe("pinnedToNode", () => {
  it("is required node affinity on the node's name, which needs no access to Node objects", () => {
    expect(pinnedToNode("node-a")).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["node-a"] }] }] },
      },
    });
  });
});
