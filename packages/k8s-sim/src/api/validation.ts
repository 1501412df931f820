import type { K8sObject } from "../store.ts";
import type { JsonObject } from "./json.ts";
import { isObject, objectAt, objectsAt, stringAt } from "./json.ts";
import type { FieldError } from "./status.ts";
import { pathSegmentNameErrors, validateRbacObject, validateRbacUpdate } from "../auth/rbac-validation.ts";

// Messages and limits are the real API server's (k8s.io/apimachinery validation), so clients and
// tests see the same text a cluster would send.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[numkKMGTPE])?$/;

const DNS1123_LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_LABEL_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const ENV_VAR_NAME_MESSAGE =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

const maxLength = (n: number) => `must be no more than ${n} characters`;

const RBAC_RESOURCES = new Set(["roles", "clusterroles", "rolebindings", "clusterrolebindings"]);

export function dns1123LabelErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLength(63));
  if (!DNS1123_LABEL.test(value)) errors.push(DNS1123_LABEL_MESSAGE);
  return errors;
}

/** Service names: they become DNS labels and environment variable names. */
function dns1035LabelErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLength(63));
  if (!DNS1035_LABEL.test(value)) errors.push(DNS1035_LABEL_MESSAGE);
  return errors;
}

export function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 253) errors.push(maxLength(253));
  if (!DNS1123_SUBDOMAIN.test(value)) errors.push(DNS1123_SUBDOMAIN_MESSAGE);
  return errors;
}

/** A label or annotation key: optional DNS-subdomain prefix and `/`, then a name part of ≤ 63. */
export function labelKeyErrors(key: string): string[] {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const errors: string[] = [];
  if (prefix !== undefined) {
    if (prefix.length === 0) errors.push("prefix part must be non-empty");
    else errors.push(...dns1123SubdomainErrors(prefix).map((e) => `prefix part ${e}`));
  }
  if (name.length === 0) errors.push("name part must be non-empty");
  else {
    if (name.length > 63) errors.push(`name part ${maxLength(63)}`);
    if (!QUALIFIED_NAME_PART.test(name)) errors.push(QUALIFIED_NAME_MESSAGE);
  }
  return errors;
}

export function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLength(63));
  if (!LABEL_VALUE.test(value)) errors.push(LABEL_VALUE_MESSAGE);
  return errors;
}

export function isValidQuantity(value: unknown): boolean {
  return (typeof value === "string" && QUANTITY.test(value)) || (typeof value === "number" && Number.isFinite(value));
}

// Field error constructors, rendered as `field.Error` renders them.
const show = (value: unknown) => (typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? "null");

export function fieldInvalid(field: string, value: unknown, detail: string): FieldError {
  return { field, reason: "FieldValueInvalid", message: `Invalid value: ${show(value)}: ${detail}` };
}
export function fieldRequired(field: string, detail = ""): FieldError {
  return { field, reason: "FieldValueRequired", message: detail ? `Required value: ${detail}` : "Required value" };
}
export function fieldNotSupported(field: string, value: unknown, supported: string[]): FieldError {
  const values = supported.map((s) => JSON.stringify(s)).join(", ");
  return { field, reason: "FieldValueNotSupported", message: `Unsupported value: ${show(value)}: supported values: ${values}` };
}
export function fieldDuplicate(field: string, value: unknown): FieldError {
  return { field, reason: "FieldValueDuplicate", message: `Duplicate value: ${show(value)}` };
}
export function fieldTooLong(field: string, max: number): FieldError {
  return { field, reason: "FieldValueTooLong", message: `Too long: must have at most ${max} bytes` };
}
export function fieldForbidden(field: string, detail: string): FieldError {
  return { field, reason: "FieldValueForbidden", message: `Forbidden: ${detail}` };
}
export function fieldNotFound(field: string, value: unknown): FieldError {
  return { field, reason: "FieldValueNotFound", message: `Not found: ${show(value)}` };
}

function each(field: string, value: string, problems: string[]): FieldError[] {
  return problems.map((p) => fieldInvalid(field, value, p));
}

function validateLabels(labels: unknown, field: string): FieldError[] {
  if (!isObject(labels)) return [];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    errors.push(...each(field, key, labelKeyErrors(key)));
    if (typeof value !== "string") errors.push(fieldInvalid(field, value, "label values must be strings"));
    else errors.push(...each(field, value, labelValueErrors(value)));
  }
  return errors;
}

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  if (!isObject(annotations)) return [];
  const errors: FieldError[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    errors.push(...each(field, key, labelKeyErrors(key).map((e) => e)));
    size += Buffer.byteLength(key) + Buffer.byteLength(typeof value === "string" ? value : "");
  }
  if (size > ANNOTATIONS_MAX_BYTES) errors.push(fieldTooLong(field, ANNOTATIONS_MAX_BYTES));
  return errors;
}

function validateMetadata(resource: string, object: K8sObject): FieldError[] {
  const meta = object.metadata;
  const errors: FieldError[] = [];
  const name = meta.name ?? "";
  if (!name) errors.push(fieldRequired("metadata.name", "name or generateName is required"));
  else {
    const problems =
      resource === "namespaces"
        ? dns1123LabelErrors(name)
        : resource === "services"
          ? dns1035LabelErrors(name)
          : RBAC_RESOURCES.has(resource)
            ? pathSegmentNameErrors(name)
            : dns1123SubdomainErrors(name);
    errors.push(...each("metadata.name", name, problems));
  }
  errors.push(...validateLabels(meta.labels, "metadata.labels"));
  errors.push(...validateAnnotations(meta.annotations, "metadata.annotations"));
  (meta.ownerReferences ?? []).forEach((ref, i) => {
    const field = `metadata.ownerReferences[${i}]`;
    for (const key of ["apiVersion", "kind", "name", "uid"] as const) {
      if (!ref[key]) errors.push(fieldRequired(`${field}.${key}`));
    }
  });
  if ((meta.ownerReferences ?? []).filter((ref) => ref.controller === true).length > 1) {
    errors.push(fieldInvalid("metadata.ownerReferences", "", "Only one reference can have Controller set to true"));
  }
  (meta.finalizers ?? []).forEach((finalizer) => {
    errors.push(...each("metadata.finalizers", finalizer, labelKeyErrors(finalizer)));
  });
  return errors;
}

const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"];
const VOLUME_SOURCES = [
  "emptyDir", "secret", "configMap", "persistentVolumeClaim", "hostPath", "projected", "downwardAPI", "ephemeral", "csi", "nfs",
];

function validateKeyToPaths(items: JsonObject[], field: string): FieldError[] {
  const errors: FieldError[] = [];
  items.forEach((item, i) => {
    if (!stringAt(item, "key")) errors.push(fieldRequired(`${field}[${i}].key`));
    const path = stringAt(item, "path");
    if (!path) errors.push(fieldRequired(`${field}[${i}].path`));
    else if (path.startsWith("/")) errors.push(fieldInvalid(`${field}[${i}].path`, path, "must be a relative path"));
    else if (path.split("/").includes("..")) errors.push(fieldInvalid(`${field}[${i}].path`, path, "must not contain '..'"));
  });
  return errors;
}

function validateVolumes(volumes: JsonObject[], field: string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  volumes.forEach((volume, i) => {
    const name = stringAt(volume, "name") ?? "";
    if (!name) errors.push(fieldRequired(`${field}[${i}].name`));
    else errors.push(...each(`${field}[${i}].name`, name, dns1123LabelErrors(name)));
    if (name && seen.has(name)) errors.push(fieldDuplicate(`${field}[${i}].name`, name));
    seen.add(name);
    const sources = VOLUME_SOURCES.filter((source) => volume[source] !== undefined);
    if (sources.length === 0) errors.push(fieldRequired(`${field}[${i}]`, "must specify a volume type"));
    if (sources.length > 1) errors.push(fieldForbidden(`${field}[${i}].${sources[1]}`, "may not specify more than 1 volume type"));
    const secret = objectAt(volume, "secret");
    if (secret) {
      if (!stringAt(secret, "secretName")) errors.push(fieldRequired(`${field}[${i}].secret.secretName`));
      errors.push(...validateKeyToPaths(objectsAt(secret, "items"), `${field}[${i}].secret.items`));
    }
    const configMap = objectAt(volume, "configMap");
    if (configMap) {
      if (!stringAt(configMap, "name")) errors.push(fieldRequired(`${field}[${i}].configMap.name`));
      errors.push(...validateKeyToPaths(objectsAt(configMap, "items"), `${field}[${i}].configMap.items`));
    }
    const claim = objectAt(volume, "persistentVolumeClaim");
    if (claim && !stringAt(claim, "claimName")) errors.push(fieldRequired(`${field}[${i}].persistentVolumeClaim.claimName`));
  });
  return errors;
}

function validateResources(resources: JsonObject | undefined, field: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const kind of ["requests", "limits"]) {
    for (const [name, quantity] of Object.entries(objectAt(resources, kind) ?? {})) {
      if (!isValidQuantity(quantity)) {
        errors.push(fieldInvalid(`${field}.${kind}[${name}]`, quantity, "must be a valid quantity, e.g. '500m', '1Gi' or '2'"));
      }
    }
  }
  return errors;
}

function validateEnv(container: JsonObject, field: string): FieldError[] {
  const errors: FieldError[] = [];
  objectsAt(container, "env").forEach((env, i) => {
    const name = stringAt(env, "name") ?? "";
    if (!name) errors.push(fieldRequired(`${field}.env[${i}].name`));
    else if (!ENV_VAR_NAME.test(name)) errors.push(fieldInvalid(`${field}.env[${i}].name`, name, ENV_VAR_NAME_MESSAGE));
    const valueFrom = objectAt(env, "valueFrom");
    if (valueFrom) {
      if (stringAt(env, "value")) {
        errors.push(fieldInvalid(`${field}.env[${i}].valueFrom`, "", "may not be specified when `value` is not empty"));
      }
      const sources = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"].filter((s) => valueFrom[s] !== undefined);
      if (sources.length !== 1) {
        errors.push(fieldInvalid(`${field}.env[${i}].valueFrom`, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
      }
      for (const ref of ["configMapKeyRef", "secretKeyRef"]) {
        const keyRef = objectAt(valueFrom, ref);
        if (keyRef && !stringAt(keyRef, "key")) errors.push(fieldRequired(`${field}.env[${i}].valueFrom.${ref}.key`));
      }
    }
  });
  objectsAt(container, "envFrom").forEach((source, i) => {
    const prefix = stringAt(source, "prefix");
    if (prefix && !ENV_VAR_NAME.test(prefix)) errors.push(fieldInvalid(`${field}.envFrom[${i}].prefix`, prefix, ENV_VAR_NAME_MESSAGE));
    if (!objectAt(source, "secretRef") && !objectAt(source, "configMapRef")) {
      errors.push(fieldInvalid(`${field}.envFrom[${i}]`, "", "must specify one of: `configMapRef` or `secretRef`"));
    }
  });
  return errors;
}

function validateContainers(spec: JsonObject, field: string, volumeNames: Set<string>): FieldError[] {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  const containers = objectsAt(spec, "containers");
  if (containers.length === 0) errors.push(fieldRequired(`${field}.containers`));
  for (const [listName, list] of [["initContainers", objectsAt(spec, "initContainers")], ["containers", containers]] as const) {
    list.forEach((container, i) => {
      const at = `${field}.${listName}[${i}]`;
      const name = stringAt(container, "name") ?? "";
      if (!name) errors.push(fieldRequired(`${at}.name`));
      else errors.push(...each(`${at}.name`, name, dns1123LabelErrors(name)));
      if (name && names.has(name)) errors.push(fieldDuplicate(`${at}.name`, name));
      names.add(name);
      if (!stringAt(container, "image")) errors.push(fieldRequired(`${at}.image`));
      const pullPolicy = stringAt(container, "imagePullPolicy");
      if (pullPolicy && !PULL_POLICIES.includes(pullPolicy)) errors.push(fieldNotSupported(`${at}.imagePullPolicy`, pullPolicy, PULL_POLICIES));
      const messagePolicy = stringAt(container, "terminationMessagePolicy");
      if (messagePolicy && !MESSAGE_POLICIES.includes(messagePolicy)) {
        errors.push(fieldNotSupported(`${at}.terminationMessagePolicy`, messagePolicy, MESSAGE_POLICIES));
      }
      errors.push(...validateEnv(container, at));
      errors.push(...validateResources(objectAt(container, "resources"), `${at}.resources`));
      for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) errors.push(...validateProbe(container, probe, at));
      objectsAt(container, "volumeMounts").forEach((mount, j) => {
        const mountName = stringAt(mount, "name") ?? "";
        if (!mountName) errors.push(fieldRequired(`${at}.volumeMounts[${j}].name`));
        else if (!volumeNames.has(mountName)) errors.push(fieldNotFound(`${at}.volumeMounts[${j}].name`, mountName));
        if (!stringAt(mount, "mountPath")) errors.push(fieldRequired(`${at}.volumeMounts[${j}].mountPath`));
        const subPath = stringAt(mount, "subPath");
        if (subPath && (subPath.startsWith("/") || subPath.split("/").includes(".."))) {
          errors.push(fieldInvalid(`${at}.volumeMounts[${j}].subPath`, subPath, "must be a relative path without '..'"));
        }
      });
      for (const idField of ["runAsUser", "runAsGroup"]) {
        const id = objectAt(container, "securityContext")?.[idField];
        if (id !== undefined && (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 2147483647)) {
          errors.push(fieldInvalid(`${at}.securityContext.${idField}`, id, "must be between 0 and 2147483647, inclusive"));
        }
      }
    });
  }
  return errors;
}

const PROBE_HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"];

/** One handler per probe; liveness and startup probes succeed on the first success. */
function validateProbe(container: JsonObject, name: string, field: string): FieldError[] {
  const probe = objectAt(container, name);
  if (!probe) return [];
  const at = `${field}.${name}`;
  const handlers = PROBE_HANDLERS.filter((handler) => probe[handler] !== undefined && probe[handler] !== null);
  const errors: FieldError[] = [];
  if (handlers.length === 0) errors.push(fieldRequired(at, "must specify a handler type"));
  if (handlers.length > 1) errors.push(fieldForbidden(`${at}.${handlers[1] ?? ""}`, "may not specify more than 1 handler type"));
  for (const key of ["periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"]) errors.push(...nonNegative(probe, key, at, 1));
  errors.push(...nonNegative(probe, "initialDelaySeconds", at));
  if (name !== "readinessProbe" && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    errors.push(fieldInvalid(`${at}.successThreshold`, probe.successThreshold, "must be 1"));
  }
  return errors;
}

const TOLERATION_OPERATORS = ["Equal", "Exists"];
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

function validateTolerations(spec: JsonObject, field: string): FieldError[] {
  const errors: FieldError[] = [];
  objectsAt(spec, "tolerations").forEach((toleration, i) => {
    const at = `${field}.tolerations[${i}]`;
    const key = stringAt(toleration, "key") ?? "";
    if (key) errors.push(...each(`${at}.key`, key, labelKeyErrors(key)));
    const operator = stringAt(toleration, "operator") ?? "Equal";
    if (!TOLERATION_OPERATORS.includes(operator)) errors.push(fieldNotSupported(`${at}.operator`, operator, TOLERATION_OPERATORS));
    if (operator === "Exists" && stringAt(toleration, "value")) {
      errors.push(fieldInvalid(`${at}.operator`, toleration.value, "value must be empty when `operator` is 'Exists'"));
    }
    if (!key && operator !== "Exists") errors.push(fieldInvalid(`${at}.operator`, operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
    const effect = stringAt(toleration, "effect");
    if (effect && !TAINT_EFFECTS.includes(effect)) errors.push(fieldNotSupported(`${at}.effect`, effect, TAINT_EFFECTS));
  });
  return errors;
}

function nonNegative(spec: JsonObject, key: string, field: string, minimum = 0): FieldError[] {
  const value = spec[key];
  if (value === undefined || value === null) return [];
  if (typeof value !== "number" || !Number.isInteger(value) || value < minimum) {
    return [fieldInvalid(`${field}.${key}`, value, `must be greater than or equal to ${minimum}`)];
  }
  return [];
}

export function validatePodSpec(spec: JsonObject, field: string): FieldError[] {
  const volumes = objectsAt(spec, "volumes");
  const volumeNames = new Set(volumes.map((v) => stringAt(v, "name") ?? ""));
  const errors = [
    ...validateVolumes(volumes, `${field}.volumes`),
    ...validateContainers(spec, field, volumeNames),
    ...validateTolerations(spec, field),
    ...validateLabels(spec.nodeSelector, `${field}.nodeSelector`),
    ...nonNegative(spec, "terminationGracePeriodSeconds", field),
    ...nonNegative(spec, "activeDeadlineSeconds", field, 1),
  ];
  const restartPolicy = stringAt(spec, "restartPolicy");
  if (restartPolicy && !RESTART_POLICIES.includes(restartPolicy)) {
    errors.push(fieldNotSupported(`${field}.restartPolicy`, restartPolicy, RESTART_POLICIES));
  }
  return errors;
}

const JOB_RESTART_POLICIES = ["OnFailure", "Never"];

function validateJob(job: K8sObject): FieldError[] {
  const spec = objectAt(job, "spec") ?? {};
  const template = objectAt(spec, "template");
  if (!template) return [fieldRequired("spec.template")];
  const templateMeta = objectAt(template, "metadata");
  const podSpec = objectAt(template, "spec") ?? {};
  const errors = [
    ...validateLabels(templateMeta?.labels, "spec.template.labels"),
    ...validateAnnotations(templateMeta?.annotations, "spec.template.annotations"),
    ...validatePodSpec(podSpec, "spec.template.spec"),
  ];
  const restartPolicy = stringAt(podSpec, "restartPolicy");
  if (restartPolicy === undefined) errors.push(fieldRequired("spec.template.spec.restartPolicy", 'valid values: "OnFailure", "Never"'));
  else if (!JOB_RESTART_POLICIES.includes(restartPolicy)) {
    errors.push(fieldNotSupported("spec.template.spec.restartPolicy", restartPolicy, JOB_RESTART_POLICIES));
  }
  for (const key of ["parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"]) errors.push(...nonNegative(spec, key, "spec"));
  errors.push(...nonNegative(spec, "activeDeadlineSeconds", "spec", 1));
  if (spec.manualSelector === true) {
    const matchLabels = objectAt(objectAt(spec, "selector"), "matchLabels") ?? {};
    const labels = objectAt(templateMeta, "labels") ?? {};
    if (Object.entries(matchLabels).some(([k, v]) => labels[k] !== v)) {
      errors.push(fieldInvalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"));
    }
  }
  return errors;
}

/** Deployments and ReplicaSets: a selector that selects the template's labels, and a template that runs forever. */
function validateWorkload(workload: K8sObject): FieldError[] {
  const spec = objectAt(workload, "spec") ?? {};
  const errors = nonNegative(spec, "replicas", "spec");
  const selector = objectAt(spec, "selector");
  const template = objectAt(spec, "template");
  if (!selector) errors.push(fieldRequired("spec.selector"));
  if (!template) return [...errors, fieldRequired("spec.template")];
  const templateMeta = objectAt(template, "metadata");
  const labels = objectAt(templateMeta, "labels") ?? {};
  const matchLabels = objectAt(selector, "matchLabels") ?? {};
  if (selector && Object.keys(matchLabels).length === 0 && objectsAt(selector, "matchExpressions").length === 0) {
    errors.push(fieldInvalid("spec.selector", selector, "empty selector is invalid for deployment"));
  } else if (Object.entries(matchLabels).some(([key, value]) => labels[key] !== value)) {
    errors.push(fieldInvalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"));
  }
  errors.push(
    ...validateLabels(templateMeta?.labels, "spec.template.metadata.labels"),
    ...validatePodSpec(objectAt(template, "spec") ?? {}, "spec.template.spec"),
  );
  const restartPolicy = stringAt(objectAt(template, "spec"), "restartPolicy");
  if (restartPolicy !== undefined && restartPolicy !== "Always") {
    errors.push(fieldNotSupported("spec.template.spec.restartPolicy", restartPolicy, ["Always"]));
  }
  const strategy = stringAt(objectAt(spec, "strategy"), "type");
  if (workload.kind === "Deployment" && strategy !== undefined && !["Recreate", "RollingUpdate"].includes(strategy)) {
    errors.push(fieldNotSupported("spec.strategy.type", strategy, ["Recreate", "RollingUpdate"]));
  }
  if (strategy === "Recreate" && objectAt(objectAt(spec, "strategy"), "rollingUpdate")) {
    errors.push(fieldForbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
  }
  return errors;
}

const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];

function validateService(service: K8sObject): FieldError[] {
  const spec = objectAt(service, "spec") ?? {};
  const errors: FieldError[] = [];
  const type = stringAt(spec, "type") ?? "ClusterIP";
  if (!SERVICE_TYPES.includes(type)) errors.push(fieldNotSupported("spec.type", type, SERVICE_TYPES));
  const ports = objectsAt(spec, "ports");
  if (ports.length === 0 && type !== "ExternalName" && spec.clusterIP !== "None") errors.push(fieldRequired("spec.ports"));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const at = `spec.ports[${i}]`;
    const name = stringAt(port, "name") ?? "";
    if (ports.length > 1 && name === "") errors.push(fieldRequired(`${at}.name`));
    if (name !== "" && names.has(name)) errors.push(fieldDuplicate(`${at}.name`, name));
    names.add(name);
    const number = port.port;
    if (typeof number !== "number" || !Number.isInteger(number) || number < 1 || number > 65535) {
      errors.push(fieldInvalid(`${at}.port`, number ?? null, "must be between 1 and 65535, inclusive"));
    }
    const target = port.targetPort;
    if (typeof target === "number" && (!Number.isInteger(target) || target < 1 || target > 65535)) {
      errors.push(fieldInvalid(`${at}.targetPort`, target, "must be between 1 and 65535, inclusive"));
    }
    const protocol = stringAt(port, "protocol") ?? "TCP";
    if (!["TCP", "UDP", "SCTP"].includes(protocol)) errors.push(fieldNotSupported(`${at}.protocol`, protocol, ["SCTP", "TCP", "UDP"]));
  });
  errors.push(...validateLabels(spec.selector, "spec.selector"));
  return errors;
}

const DATA_MAX_BYTES = 1024 * 1024;

function validateDataKeys(data: JsonObject | undefined, field: string): { errors: FieldError[]; size: number } {
  const errors: FieldError[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(data ?? {})) {
    if (key.length > 253) errors.push(fieldInvalid(`${field}[${key}]`, key, maxLength(253)));
    if (!CONFIG_KEY.test(key)) errors.push(fieldInvalid(`${field}[${key}]`, key, CONFIG_KEY_MESSAGE));
    size += typeof value === "string" ? Buffer.byteLength(value) : 0;
  }
  return { errors, size };
}

function validateSecret(secret: K8sObject): FieldError[] {
  const { errors, size } = validateDataKeys(objectAt(secret, "data"), "data");
  // Stored values are base64; the limit applies to the decoded bytes.
  if ((size * 3) / 4 > DATA_MAX_BYTES) errors.push(fieldTooLong("data", DATA_MAX_BYTES));
  return errors;
}

function validateConfigMap(configMap: K8sObject): FieldError[] {
  const data = validateDataKeys(objectAt(configMap, "data"), "data");
  const binary = validateDataKeys(objectAt(configMap, "binaryData"), "binaryData");
  const errors = [...data.errors, ...binary.errors];
  for (const key of Object.keys(objectAt(configMap, "binaryData") ?? {})) {
    if (objectAt(configMap, "data")?.[key] !== undefined) errors.push(fieldInvalid(`data[${key}]`, key, "duplicate of key present in binaryData"));
  }
  if (data.size + binary.size > DATA_MAX_BYTES) errors.push(fieldTooLong("", DATA_MAX_BYTES));
  return errors;
}

const ACCESS_MODES = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"];

function validateClaim(claim: K8sObject): FieldError[] {
  const spec = objectAt(claim, "spec") ?? {};
  const errors: FieldError[] = [];
  const modes = Array.isArray(spec.accessModes) ? spec.accessModes : [];
  if (modes.length === 0) errors.push(fieldRequired("spec.accessModes", "at least 1 access mode is required"));
  for (const mode of modes) if (!ACCESS_MODES.includes(String(mode))) errors.push(fieldNotSupported("spec.accessModes", mode, ACCESS_MODES));
  const storage = objectAt(objectAt(spec, "resources"), "requests")?.storage;
  if (storage === undefined) errors.push(fieldRequired("spec.resources[storage]"));
  else if (!isValidQuantity(storage)) errors.push(fieldInvalid("spec.resources[storage]", storage, "must be a valid quantity"));
  return errors;
}

/** Every field problem of an object about to be stored (after defaulting). */
export function validateObject(resource: string, object: K8sObject): FieldError[] {
  const errors = validateMetadata(resource, object);
  switch (resource) {
    case "roles":
    case "clusterroles":
    case "rolebindings":
    case "clusterrolebindings":
      errors.push(...validateRbacObject(resource, object));
      break;
    case "pods":
      errors.push(...validatePodSpec(objectAt(object, "spec") ?? {}, "spec"));
      break;
    case "jobs":
      errors.push(...validateJob(object));
      break;
    case "secrets":
      errors.push(...validateSecret(object));
      break;
    case "configmaps":
      errors.push(...validateConfigMap(object));
      break;
    case "persistentvolumeclaims":
      errors.push(...validateClaim(object));
      break;
    case "deployments":
    case "replicasets":
      errors.push(...validateWorkload(object));
      break;
    case "services":
      errors.push(...validateService(object));
      break;
  }
  return errors;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The parts of a pod spec an update may change: container images, deadlines, tolerations. */
function podSpecWithoutMutableFields(spec: JsonObject | undefined): unknown {
  if (!spec) return undefined;
  const copy = structuredClone(spec);
  for (const key of ["containers", "initContainers"]) {
    for (const container of objectsAt(copy, key)) delete container.image;
  }
  delete copy.activeDeadlineSeconds;
  delete copy.tolerations;
  delete copy.terminationGracePeriodSeconds;
  return copy;
}

/** Immutable-field checks for an update of the main resource. */
export function validateUpdate(resource: string, current: K8sObject, next: K8sObject): FieldError[] {
  const errors: FieldError[] = [];
  const before = objectAt(current, "spec");
  const after = objectAt(next, "spec");
  errors.push(...validateRbacUpdate(resource, current, next));
  switch (resource) {
    case "jobs":
      for (const key of ["template", "selector", "completionMode"]) {
        if (!same(before?.[key], after?.[key])) errors.push(fieldInvalid(`spec.${key}`, after?.[key] ?? null, "field is immutable"));
      }
      break;
    case "deployments":
    case "replicasets":
      if (!same(before?.selector, after?.selector)) errors.push(fieldInvalid("spec.selector", after?.selector ?? null, "field is immutable"));
      break;
    case "services":
      if (!same(before?.clusterIP, after?.clusterIP)) errors.push(fieldInvalid("spec.clusterIPs[0]", after?.clusterIP ?? null, "may not change once set"));
      break;
    case "pods":
      if (!same(podSpecWithoutMutableFields(before), podSpecWithoutMutableFields(after))) {
        errors.push(
          fieldForbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
          ),
        );
      }
      break;
    case "secrets":
    case "configmaps":
      if (current.immutable === true && (!same(current.data, next.data) || !same(current.binaryData, next.binaryData))) {
        errors.push(fieldForbidden("data", "field is immutable when `immutable` is set"));
      }
      break;
    case "persistentvolumeclaims": {
      const strip = (spec: JsonObject | undefined) => {
        const copy = structuredClone(spec ?? {});
        delete copy.resources;
        return copy;
      };
      if (!same(strip(before), strip(after))) {
        errors.push(fieldForbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
      }
      break;
    }
  }
  return errors;
}
