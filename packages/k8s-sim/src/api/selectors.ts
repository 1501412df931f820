import type { K8sObject } from "../store.ts";
import { badRequest } from "./status.ts";
import { labelKeyErrors, labelValueErrors } from "./validation.ts";

export type ObjectFilter = (object: K8sObject) => boolean;

type LabelOperator = "=" | "!=" | "in" | "notin" | "exists" | "!" | ">" | "<";

interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

function selectorError(detail: string): Error {
  return badRequest(`unable to parse requirement: ${detail}`);
}

/** Splits a label selector into tokens: words, operators, parentheses and commas. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] ?? "";
    if (/\s/.test(char)) {
      i++;
    } else if (text.startsWith("!=", i) || text.startsWith("==", i)) {
      tokens.push(text.slice(i, i + 2));
      i += 2;
    } else if ("=!(),<>".includes(char)) {
      tokens.push(char);
      i++;
    } else {
      const word = /^[^\s=!(),<>]+/.exec(text.slice(i))?.[0] ?? char;
      tokens.push(word);
      i += word.length;
    }
  }
  return tokens;
}

const OPERATOR_WORDS = new Set(["=", "==", "!=", "in", "notin", ">", "<", "!", "(", ")", ","]);

/** Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k` (the label selector grammar); throws 400 when malformed. */
export function parseLabelSelectorRequirements(text: string): LabelRequirement[] {
  const tokens = tokenize(text);
  const requirements: LabelRequirement[] = [];
  let at = 0;
  const next = () => tokens[at++];
  const peek = () => tokens[at];
  const expectWord = (what: string): string => {
    const token = next();
    if (token === undefined || OPERATOR_WORDS.has(token)) throw selectorError(`found '${token ?? ""}', expected: ${what}`);
    return token;
  };
  while (at < tokens.length) {
    let requirement: LabelRequirement;
    if (peek() === "!") {
      next();
      requirement = { key: expectWord("identifier"), operator: "!", values: [] };
    } else {
      const key = expectWord("identifier");
      const operator = peek();
      if (operator === undefined || operator === ",") {
        requirement = { key, operator: "exists", values: [] };
      } else if (operator === "=" || operator === "==" || operator === "!=") {
        next();
        const value = peek() === undefined || peek() === "," ? "" : expectWord("identifier");
        requirement = { key, operator: operator === "!=" ? "!=" : "=", values: [value] };
      } else if (operator === ">" || operator === "<") {
        next();
        const value = expectWord("identifier");
        if (!/^-?\d+$/.test(value)) throw selectorError(`for '${operator}' operator, the value must be an integer`);
        requirement = { key, operator, values: [value] };
      } else if (operator === "in" || operator === "notin") {
        next();
        if (next() !== "(") throw selectorError("found end of selector, expected: '(' after in/notin");
        const values: string[] = [];
        for (;;) {
          const token = peek();
          if (token === ")" ) {
            next();
            break;
          }
          if (token === ",") {
            next();
            continue;
          }
          values.push(expectWord("identifier or ')'"));
        }
        if (values.length === 0) throw selectorError(`for 'in', 'notin' operators, values set can't be empty`);
        requirement = { key, operator, values };
      } else {
        throw selectorError(`found '${operator}', expected: '=', '!=', '==', 'in', notin'`);
      }
    }
    const keyProblems = labelKeyErrors(requirement.key);
    if (keyProblems[0]) throw selectorError(`key: Invalid value: "${requirement.key}": ${keyProblems[0]}`);
    requirement.values.forEach((value, index) => {
      const problem = labelValueErrors(value)[0];
      if (problem && requirement.operator !== ">" && requirement.operator !== "<") {
        throw selectorError(`values[${index}][${requirement.key}]: Invalid value: "${value}": ${problem}`);
      }
    });
    requirements.push(requirement);
    const separator = next();
    if (separator !== undefined && separator !== ",") throw selectorError(`found '${separator}', expected: ',' or 'end of string'`);
  }
  return requirements;
}

function requirementMatches(requirement: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case "exists":
      return has;
    case "!":
      return !has;
    case "=":
    case "in":
      return has && requirement.values.includes(value ?? "");
    case "!=":
    case "notin":
      return !has || !requirement.values.includes(value ?? "");
    case ">":
    case "<": {
      if (!has || !/^-?\d+$/.test(value ?? "")) return false;
      const actual = Number(value);
      const bound = Number(requirement.values[0]);
      return requirement.operator === ">" ? actual > bound : actual < bound;
    }
  }
}

export function parseLabelSelector(text: string): ObjectFilter {
  const requirements = parseLabelSelectorRequirements(text);
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((r) => requirementMatches(r, labels));
  };
}

function fieldAt(object: unknown, path: string): unknown {
  let current = object;
  for (const part of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function asFieldValue(value: unknown, fallback = ""): string {
  if (value === undefined || value === null) return fallback;
  return typeof value === "string" ? value : JSON.stringify(value);
}

type FieldGetter = (object: K8sObject) => string;

const byPath = (path: string, fallback = ""): FieldGetter => (object) => asFieldValue(fieldAt(object, path), fallback);

/** Fields each resource can be selected by, as the real registries declare them. */
const SELECTABLE_FIELDS: Record<string, Record<string, FieldGetter>> = {
  pods: {
    "spec.nodeName": byPath("spec.nodeName"),
    "spec.restartPolicy": byPath("spec.restartPolicy"),
    "spec.schedulerName": byPath("spec.schedulerName"),
    "spec.serviceAccountName": byPath("spec.serviceAccountName"),
    "spec.hostNetwork": byPath("spec.hostNetwork", "false"),
    "status.phase": byPath("status.phase"),
    "status.podIP": byPath("status.podIP"),
    "status.nominatedNodeName": byPath("status.nominatedNodeName"),
  },
  events: {
    "involvedObject.kind": byPath("involvedObject.kind"),
    "involvedObject.namespace": byPath("involvedObject.namespace"),
    "involvedObject.name": byPath("involvedObject.name"),
    "involvedObject.uid": byPath("involvedObject.uid"),
    "involvedObject.apiVersion": byPath("involvedObject.apiVersion"),
    "involvedObject.resourceVersion": byPath("involvedObject.resourceVersion"),
    "involvedObject.fieldPath": byPath("involvedObject.fieldPath"),
    reason: byPath("reason"),
    reportingComponent: byPath("reportingComponent"),
    source: byPath("source.component"),
    type: byPath("type"),
  },
  jobs: { "status.successful": byPath("status.succeeded", "0") },
  secrets: { type: byPath("type") },
  namespaces: { "status.phase": byPath("status.phase") },
  nodes: { "spec.unschedulable": byPath("spec.unschedulable", "false") },
};

/** Splits on an unescaped separator (field selector values escape `\,` `\=` `\\`). */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? "";
    if (char === "\\" && i + 1 < text.length) {
      current += char + (text[i + 1] ?? "");
      i++;
    } else if (char === separator) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

const unescapeFieldValue = (value: string) => value.replace(/\\(.)/g, "$1");

/** Parses `metadata.name=x,status.phase!=Running`; throws 400 for unsupported fields or syntax. */
export function parseFieldSelector(resource: string, text: string): ObjectFilter {
  const tests: ObjectFilter[] = [];
  for (const term of splitUnescaped(text, ",").map((t) => t.trim()).filter(Boolean)) {
    const match = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/s.exec(term);
    if (!match) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, field = "", operator, rawValue = ""] = match;
    const value = unescapeFieldValue(rawValue);
    let getter: FieldGetter | undefined;
    if (field === "metadata.name") getter = (o) => o.metadata.name ?? "";
    else if (field === "metadata.namespace") getter = (o) => o.metadata.namespace ?? "";
    else getter = SELECTABLE_FIELDS[resource]?.[field];
    if (!getter) throw badRequest(`field label not supported: ${field}`);
    const read = getter;
    tests.push(operator === "!=" ? (o) => read(o) !== value : (o) => read(o) === value);
  }
  return (object) => tests.every((test) => test(object));
}

/** Both selectors of a list or watch request combined (either may be absent). */
export function selectorFilter(resource: string, labelSelector: string | null, fieldSelector: string | null): ObjectFilter | undefined {
  const filters: ObjectFilter[] = [];
  if (labelSelector) filters.push(parseLabelSelector(labelSelector));
  if (fieldSelector) filters.push(parseFieldSelector(resource, fieldSelector));
  if (filters.length === 0) return undefined;
  return (object) => filters.every((f) => f(object));
}
