import { child } from "../api/json.ts";
import { recordEvent } from "../events.ts";
import type { ObjectStore, SharedObject } from "../store.ts";
import { attachedVolumeName, singleNodeVolumesOf, volumesAttachedTo } from "../volume-attachment.ts";
import { isPodTerminal, podNodeName } from "./pods.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop } from "./reconcile-loop.ts";

const COMPONENT = "attachdetach-controller";
/** The controller reconciles the whole cluster's attachments at once (one queue key). */
const ALL = "all";

/** Pods (in creation order) that want a volume, by volume name and then by node. */
type Demand = Map<string, Map<string, SharedObject[]>>;

/**
 * The attach/detach controller for single-node (ReadWriteOnce) volumes: a volume wanted by a pod
 * bound to a node is attached there (listed in the node's `status.volumesAttached`, which the
 * kubelet waits for) unless it is attached to another node, in which case the pod gets the real
 * `FailedAttachVolume` "Multi-Attach error" event and waits. A volume no pod on its node wants any
 * more (pods deleted or finished) is detached, which lets a waiting pod elsewhere attach it.
 */
export class AttachDetachController {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;
  /** Pod uid → the Multi-Attach message last reported for it (one event per distinct message). */
  private readonly reported = new Map<string, string>();

  constructor(store: ObjectStore, options: { onError?: ReconcileErrorHandler } = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: COMPONENT, reconcile: () => this.sync(), onError: options.onError });
  }

  start(): void {
    for (const resource of ["persistentvolumeclaims", "nodes"]) this.loop.listen(this.store, resource, () => this.loop.enqueue(ALL));
    // Only pods that mount a single-node claim can change what must be attached where.
    this.loop.listen(this.store, "pods", (event) => {
      if (singleNodeVolumesOf(this.store, event.object).length > 0) this.loop.enqueue(ALL);
    });
    this.loop.enqueue(ALL);
  }

  async stop(): Promise<void> {
    this.loop.stop();
    this.reported.clear();
  }

  private sync(): void {
    const demand = this.demand();
    const nodes = this.store.scan("nodes");
    const attached = new Map<string, Set<string>>();
    for (const node of nodes) attached.set(node.metadata.name ?? "", volumesAttachedTo(node));
    // Detach first: what no pod on the node wants any more.
    for (const [nodeName, names] of attached) {
      const wanted = new Set([...demand].filter(([, byNode]) => byNode.has(nodeName)).map(([volume]) => attachedVolumeName(volume)));
      const stale = [...names].filter((name) => !wanted.has(name));
      if (stale.length > 0) this.setAttached(nodeName, [...names].filter((name) => wanted.has(name)));
      for (const name of stale) names.delete(name);
    }
    const liveUids = new Set<string>();
    for (const [volume, byNode] of demand) {
      const unique = attachedVolumeName(volume);
      for (const [nodeName, pods] of byNode) {
        for (const pod of pods) liveUids.add(pod.metadata.uid ?? "");
        const names = attached.get(nodeName);
        if (!names || names.has(unique)) continue;
        const holders = [...attached].filter(([other, otherNames]) => other !== nodeName && otherNames.has(unique)).map(([other]) => other);
        if (holders.length > 0) {
          this.reportMultiAttach(volume, pods, holders.flatMap((holder) => byNode.get(holder) ?? []));
          continue;
        }
        names.add(unique);
        this.setAttached(nodeName, [...names]);
        for (const pod of pods) {
          this.reported.delete(pod.metadata.uid ?? "");
          recordEvent(this.store, pod, "Normal", "SuccessfulAttachVolume", `AttachVolume.Attach succeeded for volume "${volume}"`, COMPONENT);
        }
      }
    }
    for (const uid of this.reported.keys()) if (!liveUids.has(uid)) this.reported.delete(uid);
  }

  /** Volume → node → pods, for every unfinished pod bound to a node that mounts a single-node claim. */
  private demand(): Demand {
    const demand: Demand = new Map();
    const pods = this.store.scan("pods", { filter: (pod) => podNodeName(pod) !== undefined && !isPodTerminal(pod) });
    pods.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
    for (const pod of pods) {
      for (const { volumeName } of singleNodeVolumesOf(this.store, pod)) {
        const byNode = demand.get(volumeName) ?? new Map<string, SharedObject[]>();
        const nodeName = podNodeName(pod) ?? "";
        byNode.set(nodeName, [...(byNode.get(nodeName) ?? []), pod]);
        demand.set(volumeName, byNode);
      }
    }
    return demand;
  }

  private setAttached(nodeName: string, names: string[]): void {
    this.store.mutate("nodes", undefined, nodeName, (node) => {
      const status = child(node, "status");
      if (names.length === 0) delete status.volumesAttached;
      else status.volumesAttached = names.sort().map((name) => ({ name, devicePath: "" }));
    });
  }

  /**
   * The event the real controller writes on each waiting pod: the pods holding the volume by name
   * when they are in the pod's namespace, only counted when they are not.
   */
  private reportMultiAttach(volume: string, waiting: SharedObject[], holders: SharedObject[]): void {
    for (const pod of waiting) {
      const local = holders.filter((holder) => holder.metadata.namespace === pod.metadata.namespace).map((holder) => holder.metadata.name ?? "");
      const elsewhere = holders.length - local.length;
      let detail: string;
      if (holders.length === 0) detail = "Volume is already exclusively attached to one node and can't be attached to another";
      else if (local.length === 0) detail = `Volume is already used by ${elsewhere} pod(s) in different namespaces`;
      else detail = `Volume is already used by pod(s) ${local.join(", ")}${elsewhere > 0 ? ` and ${elsewhere} pod(s) in different namespaces` : ""}`;
      const message = `Multi-Attach error for volume "${volume}" ${detail}`;
      const uid = pod.metadata.uid ?? "";
      if (this.reported.get(uid) === message) continue;
      this.reported.set(uid, message);
      recordEvent(this.store, pod, "Warning", "FailedAttachVolume", message, COMPONENT);
    }
  }
}
