/**
 * client-node model objects (`V1Pod`, `V1Job`) from an object's JSON, for the shared watches' cache: every watch event
 * becomes one (hundreds of runs make thousands a minute). client-node's `ObjectSerializer.deserialize` interprets its
 * type maps afresh for every value and builds a class instance per nested object, which made it the runtime's largest
 * cost per event after `JSON.parse`. Here client-node's own attribute type maps are read once per model into a plan of
 * what the JSON lacks: its `Date` fields (RFC 3339 strings in JSON). The JSON is fixed up in place; every other value
 * already has its model's type. Models this does not handle (polymorphic ones, attributes named otherwise in JSON such
 * as `$ref`, models that contain themselves: none of them inside a Pod or a Job) are refused when planned.
 *
 * The JSON must be the caller's own (freshly parsed): it is changed. Fields the model does not declare are kept.
 */
import * as clientNode from "@kubernetes/client-node";
import type { V1Job, V1Pod } from "@kubernetes/client-node";

export interface JsonModels {
  V1Job: V1Job;
  V1Pod: V1Pod;
}

/** Turns a value of some type's JSON into that type's model value (in place for objects and arrays). */
type Conversion = (value: unknown) => unknown;

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
}

/** An attribute whose JSON value needs converting. */
interface Step {
  name: string;
  convert: Conversion;
}

/** The types `ObjectSerializer` passes through as they are. */
const LEAF_TYPES = new Set(["string", "boolean", "double", "integer", "long", "float", "number", "any"]);
const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

/** Conversions by type name: null when the JSON already has the model's shape. */
const conversions = new Map<string, Conversion | null>();
/** Models being planned, to refuse one that contains itself. */
const planning = new Set<string>();

/** `json` as the model `name`; see the module comment. */
export function modelFromJson<N extends keyof JsonModels>(json: Record<string, unknown>, name: N): JsonModels[N] {
  const convert = conversionFor(name);
  // The conversion was planned from this model's own type map: the result has the model's shape.
  return (convert ? convert(json) : json) as JsonModels[N];
}

function conversionFor(type: string): Conversion | null {
  const known = conversions.get(type);
  if (known !== undefined) return known;
  const planned = plan(type);
  conversions.set(type, planned);
  return planned;
}

function plan(type: string): Conversion | null {
  const bare = type.replace(/ \| (null|undefined)$/, "");
  if (bare !== type) return conversionFor(bare);
  if (bare === "Date") return toDate;
  const element = ARRAY.exec(bare)?.[1];
  if (element !== undefined) return eachOf(conversionFor(element));
  const value = MAP.exec(bare)?.[1];
  if (value !== undefined) return eachValueOf(conversionFor(value));
  if (LEAF_TYPES.has(bare.toLowerCase())) return null;
  const attributes = attributeTypesOf(bare);
  // Not a model (an enum, a type client-node does not know): its JSON is its value, as for `ObjectSerializer`.
  if (attributes === undefined) return null;
  if (planning.has(bare)) throw new Error(`json-models: ${bare} contains itself, which this conversion does not handle`);
  planning.add(bare);
  try {
    const steps = attributes.flatMap(({ name, baseName, type }): Step[] => {
      if (name !== baseName) throw new Error(`json-models: ${bare}.${name} is "${baseName}" in JSON, which this conversion does not handle`);
      const convert = conversionFor(type);
      return convert === null ? [] : [{ name, convert }];
    });
    return steps.length === 0 ? null : (json) => applySteps(json, steps);
  } finally {
    planning.delete(bare);
  }
}

function applySteps(json: unknown, steps: Step[]): unknown {
  if (typeof json !== "object" || json === null) return json;
  for (const { name, convert } of steps) {
    const value: unknown = Reflect.get(json, name);
    if (value === undefined || value === null) continue;
    const converted = convert(value);
    // Arrays and objects are converted in place; a date is a new value.
    if (converted !== value) Reflect.set(json, name, converted);
  }
  return json;
}

function toDate(value: unknown): unknown {
  return typeof value === "string" || typeof value === "number" ? new Date(value) : value;
}

function eachOf(convert: Conversion | null): Conversion | null {
  if (convert === null) return null;
  return (json) => {
    if (Array.isArray(json)) for (let index = 0; index < json.length; index++) json[index] = convert(json[index]);
    return json;
  };
}

function eachValueOf(convert: Conversion | null): Conversion | null {
  if (convert === null) return null;
  return (json) => {
    if (typeof json === "object" && json !== null) for (const key of Object.keys(json)) Reflect.set(json, key, convert(Reflect.get(json, key)));
    return json;
  };
}

/** A client-node model's attribute types, read from the class the package exports under that name. */
function attributeTypesOf(model: string): AttributeType[] | undefined {
  const exported: unknown = Reflect.get(clientNode, model);
  if (typeof exported !== "function" || !("getAttributeTypeMap" in exported) || typeof exported.getAttributeTypeMap !== "function") return undefined;
  if ("discriminator" in exported && exported.discriminator != null) {
    throw new Error(`json-models: ${model} is polymorphic (discriminator ${String(exported.discriminator)}), which this conversion does not handle`);
  }
  const map: unknown = exported.getAttributeTypeMap();
  if (!Array.isArray(map)) throw new Error(`json-models: ${model}.getAttributeTypeMap() is not a list`);
  return map.map((entry: unknown) => {
    if (typeof entry !== "object" || entry === null) throw new Error(`json-models: ${model} has an attribute type that is not an object`);
    const name: unknown = Reflect.get(entry, "name");
    const baseName: unknown = Reflect.get(entry, "baseName");
    const type: unknown = Reflect.get(entry, "type");
    if (typeof name !== "string" || typeof baseName !== "string" || typeof type !== "string") {
      throw new Error(`json-models: ${model} has an attribute type without name, baseName and type`);
    }
    return { name, baseName, type };
  });
}
