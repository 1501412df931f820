import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CONTAINER_RUNTIME_DIR } from "./container-process.ts";
import { KubeletFixture, stateOf, status } from "./test-fixture.ts";
import { pvcHostPath } from "./volumes.ts";

let sim: KubeletFixture;
beforeEach(() => {
  sim = new KubeletFixture();
});
afterEach(async () => {
  await sim.close();
});

const b64 = (text: string) => Buffer.from(text).toString("base64");

function secret(name: string, data: Record<string, string>) {
  sim.store.create("secrets", {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "default" },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  });
}

function configMap(name: string, data: Record<string, string>) {
  sim.store.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data });
}

describe("Kubelet: environment", () => {
  it("gives the process exactly the spec's env: values, secrets, configmaps, fieldRefs, envFrom", async () => {
    secret("creds", { token: "s3cret", other: "x" });
    configMap("settings", { mode: "fast", level: "9" });
    sim.createPod(
      "env",
      {
        serviceAccountName: "agent",
        containers: [
          {
            name: "main",
            image: "busybox",
            command: ["/usr/bin/env"],
            envFrom: [{ configMapRef: { name: "settings" }, prefix: "CFG_" }, { secretRef: { name: "creds" } }],
            env: [
              { name: "PLAIN", value: "v" },
              { name: "COMPOSED", value: "$(PLAIN)-$(CFG_mode)-$(UNDEFINED)-$$(PLAIN)" },
              { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
              { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } },
              { name: "MISSING_OK", valueFrom: { secretKeyRef: { name: "nope", key: "k", optional: true } } },
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "POD_NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
              { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
              { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
              { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            ],
          },
        ],
      },
      { labels: { app: "agent" } },
    );
    const pod = await sim.waitForCompletion("env");
    const env = Object.fromEntries(
      sim.logText(pod, "main").trimEnd().split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    expect(env).toEqual({
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOSTNAME: "env",
      CFG_mode: "fast",
      CFG_level: "9",
      token: "s3cret",
      other: "x",
      PLAIN: "v",
      COMPOSED: "v-fast-$(UNDEFINED)-$(PLAIN)",
      TOKEN: "s3cret",
      MODE: "fast",
      POD_NAME: "env",
      POD_NS: "default",
      APP: "agent",
      SA: "agent",
      NODE: "sim-node-1",
      IP: status(pod).podIP,
    });
  });

  it("waits in CreateContainerConfigError until the missing secret appears", async () => {
    sim.createPod("config", {
      containers: [
        {
          name: "main",
          image: "busybox",
          command: ["sh", "-c", "echo $TOKEN"],
          env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "late", key: "token" } } }],
        },
      ],
    });
    const waiting = await sim.waitFor("CreateContainerConfigError", () => {
      const pod = sim.pod("config");
      return pod && stateOf(pod, "waiting")?.reason === "CreateContainerConfigError" ? pod : undefined;
    });
    expect(stateOf(waiting, "waiting")?.message).toBe('secret "late" not found');
    expect(status(waiting).phase).toBe("Pending");
    secret("late", { wrong: "x" });
    await sim.waitFor("missing key message", () => {
      const pod = sim.pod("config");
      return pod && stateOf(pod, "waiting")?.message === "couldn't find key token in Secret default/late";
    });
    sim.store.mutate("secrets", "default", "late", (object) => {
      object.data = { token: b64("finally") };
    });
    const pod = await sim.waitForCompletion("config");
    expect(sim.logText(pod, "main")).toBe("finally\n");
  });
});

describe("Kubelet: volumes", () => {
  it("shares an emptyDir between containers and projects a secret with items and defaultMode", async () => {
    secret("files", { "a.txt": "alpha", "b.txt": "beta" });
    const shared = `${sim.rootDir}/mnt/shared`;
    const secretDir = `${sim.rootDir}/mnt/secret`;
    sim.createPod("vols", {
      volumes: [
        { name: "scratch", emptyDir: {} },
        { name: "creds", secret: { secretName: "files", items: [{ key: "a.txt", path: "nested/first" }], defaultMode: 0o400 } },
      ],
      containers: [
        {
          name: "writer",
          image: "busybox",
          command: ["sh", "-c", `echo shared > ${shared}/note`],
          volumeMounts: [{ name: "scratch", mountPath: shared }],
          securityContext: { runAsUser: 1000 },
        },
        {
          name: "reader",
          image: "busybox",
          command: ["sh", "-c", `while [ ! -e ${shared}/note ]; do sleep 0.02; done; cat ${shared}/note; cat ${secretDir}/nested/first; echo; ls ${secretDir}; stat -c %a ${secretDir}/nested/first`],
          volumeMounts: [
            { name: "scratch", mountPath: shared },
            { name: "creds", mountPath: secretDir },
          ],
        },
      ],
    });
    const pod = await sim.waitForCompletion("vols");
    expect(status(pod).phase).toBe("Succeeded");
    expect(sim.logText(pod, "reader")).toBe("shared\nalpha\nnested\n400\n");
  });

  it("mounts a PVC directory (shared on the host), a subPath, and readOnly mounts", async () => {
    const data = `${sim.rootDir}/mnt/data`;
    const sub = `${sim.rootDir}/mnt/sub`;
    const ro = `${sim.rootDir}/mnt/ro`;
    sim.createPod("pvc", {
      volumes: [{ name: "work", persistentVolumeClaim: { claimName: "shared-claim" } }],
      containers: [
        {
          name: "main",
          image: "busybox",
          command: ["sh", "-c", `echo from-pod > ${data}/file; echo in-sub > ${sub}/x; touch ${ro}/y || echo read-only`],
          volumeMounts: [
            { name: "work", mountPath: data },
            { name: "work", mountPath: sub, subPath: "runs/one" },
            { name: "work", mountPath: ro, readOnly: true },
          ],
        },
      ],
    });
    const pod = await sim.waitForCompletion("pvc");
    const hostDir = pvcHostPath(sim.rootDir, "default", "shared-claim");
    expect(readFileSync(`${hostDir}/file`, "utf8")).toBe("from-pod\n");
    expect(readFileSync(`${hostDir}/runs/one/x`, "utf8")).toBe("in-sub\n");
    expect(existsSync(`${hostDir}/y`)).toBe(false);
    expect(sim.logText(pod, "main")).toContain("read-only");
    expect(sim.logText(pod, "main")).toContain("Read-only file system");
  });

  it("keeps mounts private to the container's mount namespace", async () => {
    const target = `${sim.rootDir}/mnt/private`;
    sim.createPod("private", {
      volumes: [{ name: "scratch", emptyDir: {} }],
      containers: [
        {
          name: "main",
          image: "busybox",
          command: ["sh", "-c", `grep -c ' ${target} ' /proc/self/mountinfo; sleep 30`],
          volumeMounts: [{ name: "scratch", mountPath: target }],
        },
      ],
    });
    const pod = await sim.waitFor("mount seen inside", () => {
      const current = sim.pod("private");
      return current && existsSync(`${sim.rootDir}/logs`) && sim.logText(current, "main") === "1\n" ? current : undefined;
    });
    expect(stateOf(pod, "running")).toBeDefined();
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(target);
  });

  it("mounts volumes whose sources and targets lie under an emptyDir at /tmp, parents first, with the image's directory still on PATH", async () => {
    // The point of the test: every host path involved lives below the emptyDir's target.
    expect(sim.rootDir.startsWith("/tmp/")).toBe(true);
    secret("creds", { token: "s3cret" });
    const bin = `${sim.rootDir}/image-bin`;
    mkdirSync(bin);
    chmodSync(bin, 0o755);
    writeFileSync(
      `${bin}/agent-write`,
      '#!/bin/sh\nset -e\necho "$PATH" | cut -d: -f1\ncat /tmp/creds/token > "$1/from-pod"\necho scratch > "/tmp/$2"\ncat "/tmp/$2"\nid -u\nprintf done > /dev/termination-log\n',
    );
    chmodSync(`${bin}/agent-write`, 0o755);
    sim.kubelet.registerImage("docker.io/library/agent:1.0", [bin]);
    const claimDir = pvcHostPath(sim.rootDir, "default", "shared");
    const scratchName = `kubelet-shadow-test-${process.pid}-${Date.now()}`;
    try {
      sim.createPod("shadow", {
        volumes: [
          { name: "scratch", emptyDir: {} },
          { name: "data", persistentVolumeClaim: { claimName: "shared" } },
          { name: "creds", secret: { secretName: "creds" } },
        ],
        containers: [
          {
            name: "agent",
            image: "agent:1.0",
            command: ["agent-write", claimDir, scratchName],
            // Deepest first, to show the order comes from the paths, not the spec.
            volumeMounts: [
              { name: "data", mountPath: claimDir },
              { name: "creds", mountPath: "/tmp/creds" },
              { name: "scratch", mountPath: "/tmp" },
            ],
            securityContext: { runAsUser: 1000 },
          },
        ],
      });
      const pod = await sim.waitForCompletion("shadow");
      expect(stateOf(pod, "terminated")).toMatchObject({ exitCode: 0, reason: "Completed", message: "done" });
      expect(status(pod).phase).toBe("Succeeded");
      expect(sim.logText(pod, "agent")).toBe(`${CONTAINER_RUNTIME_DIR}/image/0\nscratch\n1000\n`);
      expect(readFileSync(`${claimDir}/from-pod`, "utf8")).toBe("s3cret");
      expect(existsSync(`/tmp/${scratchName}`)).toBe(false);
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(CONTAINER_RUNTIME_DIR);
      expect(readdirSync(CONTAINER_RUNTIME_DIR)).toEqual([]);
    } finally {
      rmSync(`/tmp/${scratchName}`, { force: true });
    }
  });
});
