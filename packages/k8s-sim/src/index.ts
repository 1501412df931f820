export { ObjectStore, StoreError, randomNameSuffix } from "./store.ts";
export type { K8sObject, ObjectMeta, OwnerReference, StoreEvent } from "./store.ts";
export { FaultRules } from "./faults.ts";
export type { ApiFaultRule, FaultResponse, RequestMatch, Verb, WatchCutRule } from "./faults.ts";
