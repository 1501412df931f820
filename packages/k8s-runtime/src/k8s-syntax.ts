/**
 * Kubernetes' syntax rules for names, label keys and values, env names and resource quantities,
 * so bad config is refused before the API server answers 422.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// <signedNumber><suffix> with suffix one of binarySI, decimalSI or a decimal exponent; negative values are refused
// because no resource may be negative.
const QUANTITY = /^\+?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** Namespaces, Job names: at most 63 characters. */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** Secret, service-account and claim names: at most 253 characters. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** Why `key` is not a valid label key (`[prefix/]name`), or null when it is. */
export function labelKeyProblem(key: string): string | null {
  const slash = key.lastIndexOf("/");
  const prefix = slash === -1 ? null : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== null && !isDns1123Subdomain(prefix)) {
    return `prefix ${JSON.stringify(prefix)} must be a DNS subdomain (lower case letters, digits, '-' and '.')`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `name ${JSON.stringify(name)} must be 1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`;
  }
  return null;
}

/** A portable environment variable name (the C identifier rule every shell accepts). */
export function isEnvName(value: string): boolean {
  return ENV_NAME.test(value);
}

const SUFFIX_MULTIPLIERS: Readonly<Record<string, number>> = {
  "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * The value of a non-negative Kubernetes quantity ("500m", "1.5", "2Gi", "1e3"), or null when `text` is not one.
 * A float: precise enough to compare requests with limits.
 */
export function parseQuantity(text: string): number | null {
  const match = QUANTITY.exec(text);
  if (match === null) return null;
  const number = Number(match[1]);
  const suffix = match[3] ?? "";
  const multiplier = SUFFIX_MULTIPLIERS[suffix] ?? 10 ** Number(suffix.slice(1));
  return number * multiplier;
}
