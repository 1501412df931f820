import type { RequestSnapshot, Verb } from "paperclip-k8s-sim";

/** Requests of one verb, over all resources (or one), counted in a sim request snapshot. */
export function countRequests(snapshot: RequestSnapshot, verb: Verb, resource?: string): number {
  return Object.entries(snapshot.byResource)
    .filter(([name]) => resource === undefined || name === resource)
    .reduce((sum, [, verbs]) => sum + (verbs[verb] ?? 0), 0);
}
