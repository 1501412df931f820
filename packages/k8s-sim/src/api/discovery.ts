import { RESOURCES, groupVersions } from "./resources.ts";

/** The Kubernetes version the sim claims to be (kubectl 1.32 is what the machines have). */
export const SIM_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-sim",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.0",
  compiler: "gc",
  platform: "linux/amd64",
};

function groupEntry(group: string) {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${gv.group}/${gv.version}`, version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

const namedGroups = () => [...new Set(groupVersions().map((gv) => gv.group))].filter(Boolean);

/** The discovery document for a path, or undefined when the path is not a discovery path. */
export function discoveryDocument(path: string, serverAddress: string): unknown {
  if (path === "/api") {
    return {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
    };
  }
  if (path === "/apis") {
    return { kind: "APIGroupList", apiVersion: "v1", groups: namedGroups().map(groupEntry) };
  }
  const groupMatch = /^\/apis\/([^/]+)$/.exec(path);
  if (groupMatch?.[1] && namedGroups().includes(groupMatch[1])) {
    return { kind: "APIGroup", apiVersion: "v1", ...groupEntry(groupMatch[1]) };
  }
  const versionMatch = /^\/api\/(v1)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(path);
  if (versionMatch?.[1]) {
    const groupVersion = versionMatch[1];
    const served = RESOURCES.filter((r) => (r.group ? `${r.group}/${r.version}` : r.version) === groupVersion);
    if (served.length === 0) return undefined;
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion,
      resources: served.flatMap((r) => [
        {
          name: r.plural,
          singularName: r.singular,
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: r.verbs,
          ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
          ...(r.categories ? { categories: r.categories } : {}),
        },
        ...r.subresources.map((sub) => ({
          name: `${r.plural}/${sub.name}`,
          singularName: "",
          namespaced: r.namespaced,
          kind: sub.kind,
          verbs: sub.verbs,
          ...(sub.group === undefined ? {} : { group: sub.group, version: sub.version }),
        })),
      ]),
    };
  }
  return undefined;
}
