import { runtimeConfigurationDoc } from "./config-doc.ts";
import { errorCatalogueMarkdown } from "./errors.ts";
import { RUNTIME_PERMISSIONS } from "./permissions.ts";

/** The RBAC Role granting exactly what the runtime uses (RUNTIME_PERMISSIONS), as YAML. */
export function rbacRoleYaml(namespace = "paperclip-agents"): string {
  const rules = RUNTIME_PERMISSIONS.map(
    (permission) =>
      `  - apiGroups: ["${permission.group}"]\n    resources: ["${permission.resource}"]\n    verbs: [${permission.verbs.map((verb) => `"${verb}"`).join(", ")}]`,
  );
  return [
    "apiVersion: rbac.authorization.k8s.io/v1",
    "kind: Role",
    "metadata:",
    "  name: paperclip-agent-jobs",
    `  namespace: ${namespace}`,
    "rules:",
    ...rules,
  ].join("\n");
}

/** The generated sections of the runtime README; a test keeps the README in step with the code. */
export function generatedReadmeSections(): Record<string, string> {
  return {
    config: runtimeConfigurationDoc,
    errors: errorCatalogueMarkdown(),
    rbac: ["```yaml", rbacRoleYaml(), "```"].join("\n"),
  };
}
