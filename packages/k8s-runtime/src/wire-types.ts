import type { V1Job, V1Pod } from "@kubernetes/client-node";

/**
 * An API object as the server sends it in JSON: client-node's model type with every `Date`
 * replaced by the RFC 3339 string on the wire. The shared watch keeps objects in this form
 * because client-node's `Watch` hands over raw JSON and offers no public deserializer, so the
 * typed (`Date`-bearing) list results could not be mixed with watch events honestly.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends readonly (infer Item)[]
    ? Wire<Item>[]
    : T extends object
      ? { [Key in keyof T]: Wire<T[Key]> }
      : T;

export type JobObject = Wire<V1Job>;
export type PodObject = Wire<V1Pod>;
