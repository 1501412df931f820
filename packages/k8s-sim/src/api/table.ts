import type { K8sObject } from "../store.ts";
import type { JsonObject } from "./json.ts";
import { objectAt, objectsAt, stringAt } from "./json.ts";

/** What `kubectl get` asks for (`Accept: application/json;as=Table;...`): server-side printing. */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? "").split(",").some((part) => part.includes("as=Table"));
}

interface Column {
  name: string;
  type: "string" | "integer" | "date";
  format?: string;
  priority?: number;
  cell: (object: K8sObject) => string | number;
}

/** Kubernetes' HumanDuration (what the Age column shows). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 192) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  return `${days}d`;
}

const since = (timestamp: string | undefined, until = Date.now()) =>
  timestamp ? humanDuration(until - Date.parse(timestamp)) : "<unknown>";

const nameColumn: Column = { name: "Name", type: "string", format: "name", cell: (o) => o.metadata.name ?? "" };
const ageColumn: Column = { name: "Age", type: "string", cell: (o) => since(o.metadata.creationTimestamp) };

function conditionTrue(status: JsonObject | undefined, type: string): boolean {
  return objectsAt(status, "conditions").some((c) => c.type === type && c.status === "True");
}

/** The STATUS column of `kubectl get pods`, following kubectl's printer rules. */
export function podStatusText(pod: K8sObject): string {
  const status = objectAt(pod, "status");
  let reason = stringAt(status, "reason") || stringAt(status, "phase") || "Pending";
  const initStatuses = objectsAt(status, "initContainerStatuses");
  let initializing = false;
  for (const [index, container] of initStatuses.entries()) {
    const terminated = objectAt(objectAt(container, "state"), "terminated");
    const waiting = objectAt(objectAt(container, "state"), "waiting");
    if (terminated && terminated.exitCode === 0) continue;
    initializing = true;
    if (terminated) reason = `Init:${stringAt(terminated, "reason") || `ExitCode:${String(terminated.exitCode)}`}`;
    else if (waiting && stringAt(waiting, "reason") && waiting.reason !== "PodInitializing") reason = `Init:${String(waiting.reason)}`;
    else reason = `Init:${index}/${initStatuses.length}`;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    for (const container of [...objectsAt(status, "containerStatuses")].reverse()) {
      const state = objectAt(container, "state");
      const waiting = objectAt(state, "waiting");
      const terminated = objectAt(state, "terminated");
      if (waiting && stringAt(waiting, "reason")) reason = String(waiting.reason);
      else if (terminated && stringAt(terminated, "reason")) reason = String(terminated.reason);
      else if (terminated) reason = `ExitCode:${String(terminated.exitCode)}`;
      else if (objectAt(state, "running") && container.ready === true) hasRunning = true;
    }
    if (reason === "Completed" && hasRunning) reason = conditionTrue(status, "Ready") ? "Running" : "NotReady";
  }
  if (pod.metadata.deletionTimestamp) reason = "Terminating";
  return reason;
}

function jobStatusText(job: K8sObject): string {
  const status = objectAt(job, "status");
  for (const type of ["Failed", "Complete", "Suspended", "FailureTarget", "SuccessCriteriaMet"]) {
    if (conditionTrue(status, type)) return type;
  }
  return job.metadata.deletionTimestamp ? "Terminating" : "Running";
}

/** A counter in `status` (omitted when zero in the real API). */
function count(object: K8sObject, field: string): number {
  return Number(objectAt(object, "status")?.[field] ?? 0);
}

const ACCESS_MODE_SHORT: Record<string, string> = { ReadWriteOnce: "RWO", ReadOnlyMany: "ROX", ReadWriteMany: "RWX", ReadWriteOncePod: "RWOP" };

/** The subjects of a binding of one kind, as `kubectl get rolebindings -o wide` lists them. */
function subjectsOf(binding: K8sObject, kind: string): string {
  return objectsAt(binding, "subjects")
    .filter((subject) => subject.kind === kind)
    .map((subject) => (kind === "ServiceAccount" ? `${stringAt(subject, "namespace") ?? ""}/${stringAt(subject, "name") ?? ""}` : (stringAt(subject, "name") ?? "")))
    .join(", ");
}

const createdAtColumn: Column = { name: "Created At", type: "date", cell: (o) => o.metadata.creationTimestamp ?? "" };
const bindingColumns: Column[] = [
  nameColumn,
  { name: "Role", type: "string", cell: (b) => `${stringAt(objectAt(b, "roleRef"), "kind") ?? ""}/${stringAt(objectAt(b, "roleRef"), "name") ?? ""}` },
  ageColumn,
  { name: "Users", type: "string", priority: 1, cell: (b) => subjectsOf(b, "User") },
  { name: "Groups", type: "string", priority: 1, cell: (b) => subjectsOf(b, "Group") },
  { name: "ServiceAccounts", type: "string", priority: 1, cell: (b) => subjectsOf(b, "ServiceAccount") },
];

const RBAC_COLUMNS: Record<string, Column[]> = {
  serviceaccounts: [nameColumn, { name: "Secrets", type: "integer", cell: (a) => objectsAt(a, "secrets").length }, ageColumn],
  roles: [nameColumn, createdAtColumn],
  clusterroles: [nameColumn, createdAtColumn],
  rolebindings: bindingColumns,
  clusterrolebindings: bindingColumns,
};

const COLUMNS: Record<string, Column[]> = {
  pods: [
    nameColumn,
    {
      name: "Ready", type: "string",
      cell: (pod) => {
        const statuses = objectsAt(objectAt(pod, "status"), "containerStatuses");
        const total = objectsAt(objectAt(pod, "spec"), "containers").length;
        return `${statuses.filter((s) => s.ready === true).length}/${total}`;
      },
    },
    { name: "Status", type: "string", cell: podStatusText },
    {
      name: "Restarts", type: "string",
      cell: (pod) => String(objectsAt(objectAt(pod, "status"), "containerStatuses").reduce((n, s) => n + Number(s.restartCount ?? 0), 0)),
    },
    ageColumn,
    { name: "IP", type: "string", priority: 1, cell: (pod) => stringAt(objectAt(pod, "status"), "podIP") ?? "<none>" },
    { name: "Node", type: "string", priority: 1, cell: (pod) => stringAt(objectAt(pod, "spec"), "nodeName") ?? "<none>" },
  ],
  jobs: [
    nameColumn,
    { name: "Status", type: "string", cell: jobStatusText },
    {
      name: "Completions", type: "string",
      cell: (job) => `${Number(objectAt(job, "status")?.succeeded ?? 0)}/${Number(objectAt(job, "spec")?.completions ?? 1)}`,
    },
    {
      name: "Duration", type: "string",
      cell: (job) => {
        const status = objectAt(job, "status");
        const start = stringAt(status, "startTime");
        if (!start) return "";
        const end = stringAt(status, "completionTime");
        return since(start, end ? Date.parse(end) : Date.now());
      },
    },
    ageColumn,
  ],
  nodes: [
    nameColumn,
    { name: "Status", type: "string", cell: (node) => (conditionTrue(objectAt(node, "status"), "Ready") ? "Ready" : "NotReady") },
    { name: "Roles", type: "string", cell: () => "<none>" },
    ageColumn,
    { name: "Version", type: "string", cell: (node) => stringAt(objectAt(objectAt(node, "status"), "nodeInfo"), "kubeletVersion") ?? "" },
  ],
  namespaces: [nameColumn, { name: "Status", type: "string", cell: (ns) => stringAt(objectAt(ns, "status"), "phase") ?? "" }, ageColumn],
  secrets: [
    nameColumn,
    { name: "Type", type: "string", cell: (s) => stringAt(s, "type") ?? "" },
    { name: "Data", type: "integer", cell: (s) => Object.keys(objectAt(s, "data") ?? {}).length },
    ageColumn,
  ],
  configmaps: [
    nameColumn,
    { name: "Data", type: "integer", cell: (c) => Object.keys(objectAt(c, "data") ?? {}).length + Object.keys(objectAt(c, "binaryData") ?? {}).length },
    ageColumn,
  ],
  persistentvolumeclaims: [
    nameColumn,
    { name: "Status", type: "string", cell: (c) => stringAt(objectAt(c, "status"), "phase") ?? "" },
    { name: "Volume", type: "string", cell: (c) => stringAt(objectAt(c, "spec"), "volumeName") ?? "" },
    { name: "Capacity", type: "string", cell: (c) => String(objectAt(objectAt(c, "status"), "capacity")?.storage ?? "") },
    {
      name: "Access Modes", type: "string",
      cell: (c) => {
        const modes = objectAt(c, "status")?.accessModes;
        return Array.isArray(modes) ? modes.map((m) => ACCESS_MODE_SHORT[String(m)] ?? String(m)).join(",") : "";
      },
    },
    { name: "StorageClass", type: "string", cell: (c) => stringAt(objectAt(c, "spec"), "storageClassName") ?? "" },
    ageColumn,
  ],
  deployments: [
    nameColumn,
    { name: "Ready", type: "string", cell: (d) => `${count(d, "readyReplicas")}/${Number(objectAt(d, "spec")?.replicas ?? 0)}` },
    { name: "Up-to-date", type: "integer", cell: (d) => count(d, "updatedReplicas") },
    { name: "Available", type: "integer", cell: (d) => count(d, "availableReplicas") },
    ageColumn,
  ],
  replicasets: [
    nameColumn,
    { name: "Desired", type: "integer", cell: (r) => Number(objectAt(r, "spec")?.replicas ?? 0) },
    { name: "Current", type: "integer", cell: (r) => count(r, "replicas") },
    { name: "Ready", type: "integer", cell: (r) => count(r, "readyReplicas") },
    ageColumn,
  ],
  services: [
    nameColumn,
    { name: "Type", type: "string", cell: (svc) => stringAt(objectAt(svc, "spec"), "type") ?? "" },
    { name: "Cluster-IP", type: "string", cell: (svc) => stringAt(objectAt(svc, "spec"), "clusterIP") || "<none>" },
    { name: "External-IP", type: "string", cell: () => "<none>" },
    {
      name: "Port(s)", type: "string",
      cell: (svc) => {
        const ports = objectsAt(objectAt(svc, "spec"), "ports");
        return ports.length === 0 ? "<none>" : ports.map((p) => `${String(p.port)}/${String(p.protocol ?? "TCP")}`).join(",");
      },
    },
    ageColumn,
  ],
  endpointslices: [
    nameColumn,
    { name: "AddressType", type: "string", cell: (slice) => stringAt(slice, "addressType") ?? "" },
    {
      name: "Ports", type: "string",
      cell: (slice) => objectsAt(slice, "ports").map((p) => String(p.port)).join(",") || "<unset>",
    },
    {
      name: "Endpoints", type: "string",
      cell: (slice) => objectsAt(slice, "endpoints").flatMap((e) => (Array.isArray(e.addresses) ? e.addresses.map(String) : [])).join(",") || "<unset>",
    },
    ageColumn,
  ],
  poddisruptionbudgets: [
    nameColumn,
    { name: "Min Available", type: "string", cell: (p) => String(objectAt(p, "spec")?.minAvailable ?? "N/A") },
    { name: "Max Unavailable", type: "string", cell: (p) => String(objectAt(p, "spec")?.maxUnavailable ?? "N/A") },
    { name: "Allowed Disruptions", type: "integer", cell: (p) => count(p, "disruptionsAllowed") },
    ageColumn,
  ],
  events: [
    { name: "Last Seen", type: "string", cell: (e) => since(stringAt(e, "lastTimestamp") ?? e.metadata.creationTimestamp) },
    { name: "Type", type: "string", cell: (e) => stringAt(e, "type") ?? "" },
    { name: "Reason", type: "string", cell: (e) => stringAt(e, "reason") ?? "" },
    {
      name: "Object", type: "string",
      cell: (e) => {
        const involved = objectAt(e, "involvedObject");
        return `${(stringAt(involved, "kind") ?? "").toLowerCase()}/${stringAt(involved, "name") ?? ""}`;
      },
    },
    { name: "Message", type: "string", cell: (e) => stringAt(e, "message") ?? "" },
  ],
  ...RBAC_COLUMNS,
};

function columnsFor(resource: string): Column[] {
  return COLUMNS[resource] ?? [nameColumn, ageColumn];
}

function rowObject(object: K8sObject, includeObject: string | null): unknown {
  if (includeObject === "None") return undefined;
  if (includeObject === "Object") return object;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata };
}

/** A `meta.k8s.io/v1 Table` of objects; `withHeaders: false` leaves out column definitions (watch events after the first). */
export function toTable(
  resource: string,
  objects: K8sObject[],
  listMetadata: JsonObject,
  includeObject: string | null,
  withHeaders = true,
): JsonObject {
  const columns = columnsFor(resource);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMetadata,
    columnDefinitions: withHeaders
      ? columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? "", description: c.name, priority: c.priority ?? 0 }))
      : null,
    rows: objects.map((object) => ({ cells: columns.map((c) => c.cell(object)), object: rowObject(object, includeObject) })),
  };
}
