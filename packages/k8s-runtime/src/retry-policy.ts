/**
 * The one retry policy every Kubernetes API call goes through (DESIGN §3 step 2): retry 429
 * (honouring Retry-After), 5xx and connection errors with capped jittered exponential backoff;
 * never retry any other 4xx. Errors that escape are `KubernetesApiError`s whose message names the
 * HTTP code and the server's Status message.
 */

/** A `meta/v1 Status` as the API server sends it in error bodies (only what we read). */
export interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; group?: string; retryAfterSeconds?: number };
}

/** How an error should be treated by a retry loop. */
export type ErrorDisposition =
  | { retry: "rate-limited"; retryAfterMs: number | undefined }
  | { retry: "server-error" }
  | { retry: "connection" }
  | { retry: "never" };

/**
 * Error codes (on the error or anywhere in its `cause` chain) of transient network failures.
 * client-node 2.x uses undici's fetch: a refused or reset connection surfaces as
 * `TypeError: fetch failed` (request) or `TypeError: terminated` (body) with the system or
 * undici error as `cause`.
 */
const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

const TRANSIENT_NETWORK_MESSAGES = /socket hang up|other side closed|fetch failed|^terminated$/i;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current = error;
  while (isRecord(current) && chain.length < 8 && !chain.includes(current)) {
    chain.push(current);
    current = current.cause;
  }
  return chain;
}

/**
 * The HTTP status of a failed API call: client-node's `ApiException.code`, the `statusCode`
 * client-node's `Watch` puts on its errors, or our own `KubernetesApiError.code`.
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (!isRecord(error)) return undefined;
  if (error instanceof KubernetesApiError) return error.code;
  for (const key of ["code", "statusCode"]) {
    const value = error[key];
    if (typeof value === "number" && value >= 100 && value <= 599) return value;
  }
  return undefined;
}

/** The Status object in an error's body (client-node gives it as JSON text), if there is one. */
export function apiStatusOf(error: unknown): ApiStatus | undefined {
  if (error instanceof KubernetesApiError) return error.status;
  if (!isRecord(error)) return undefined;
  let body = error.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (!isRecord(body) || (body.kind !== undefined && body.kind !== "Status")) return undefined;
  const status: ApiStatus = {};
  if (typeof body.code === "number") status.code = body.code;
  if (typeof body.reason === "string") status.reason = body.reason;
  if (typeof body.message === "string") status.message = body.message;
  if (isRecord(body.details)) {
    const details: NonNullable<ApiStatus["details"]> = {};
    const { name, kind, group, retryAfterSeconds } = body.details;
    if (typeof name === "string") details.name = name;
    if (typeof kind === "string") details.kind = kind;
    if (typeof group === "string") details.group = group;
    if (typeof retryAfterSeconds === "number") details.retryAfterSeconds = retryAfterSeconds;
    status.details = details;
  }
  return status;
}

function headerOf(error: unknown, name: string): string | undefined {
  if (!isRecord(error) || !isRecord(error.headers)) return undefined;
  // client-node copies undici's (lower-cased) header names into a plain object.
  for (const [key, value] of Object.entries(error.headers)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

/**
 * How long the server asked us to wait: the `Retry-After` header (seconds or an HTTP date),
 * else the Status body's `details.retryAfterSeconds`.
 */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  const header = headerOf(error, "retry-after")?.trim();
  if (header) {
    if (/^\d+(\.\d+)?$/.test(header)) return Math.round(Number(header) * 1000);
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const seconds = apiStatusOf(error)?.details?.retryAfterSeconds;
  return seconds !== undefined && seconds >= 0 ? seconds * 1000 : undefined;
}

function networkErrorCode(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    if (isRecord(link) && typeof link.code === "string" && TRANSIENT_NETWORK_CODES.has(link.code)) return link.code;
  }
  return undefined;
}

function isTransientNetworkError(error: unknown): boolean {
  if (networkErrorCode(error) !== undefined) return true;
  const chain = causeChain(error);
  // A fetch failure caused by something we know is permanent (TLS trust, unknown host, bad URL)
  // is not worth retrying; one with no recognisable cause is.
  const permanentCause = chain.some(
    (link) => isRecord(link) && typeof link.code === "string" && !TRANSIENT_NETWORK_CODES.has(link.code),
  );
  return !permanentCause && chain.some((link) => link instanceof Error && TRANSIENT_NETWORK_MESSAGES.test(link.message));
}

export function classifyError(error: unknown): ErrorDisposition {
  if (error instanceof KubernetesApiError) return classifyError(error.cause);
  const code = httpStatusOf(error);
  if (code === 429) return { retry: "rate-limited", retryAfterMs: retryAfterMs(error) };
  if (code !== undefined && code >= 500) return { retry: "server-error" };
  if (code !== undefined) return { retry: "never" };
  if (isRecord(error) && error.name === "AbortError") return { retry: "never" };
  return isTransientNetworkError(error) ? { retry: "connection" } : { retry: "never" };
}

/**
 * One line naming what went wrong: `HTTP 422 Invalid: Job.batch "x" is invalid: …` for API
 * errors, `connection failed (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:6443` for network ones.
 */
export function describeApiError(error: unknown): string {
  if (error instanceof KubernetesApiError) return error.message;
  const code = httpStatusOf(error);
  if (code !== undefined) {
    const status = apiStatusOf(error);
    // client-node's Watch reads no body when a watch is refused: all it keeps is the status text.
    if (!status && isRecord(error) && "statusCode" in error && error instanceof Error) return `HTTP ${code} ${error.message}`;
    const reason = status?.reason ? ` ${status.reason}` : "";
    const message = status?.message ?? rawBodyText(error);
    return `HTTP ${code}${reason}${message ? `: ${message}` : ""}`;
  }
  const chain = causeChain(error);
  const deepest = chain[chain.length - 1];
  const networkCode = networkErrorCode(error);
  if (networkCode !== undefined && deepest instanceof Error) {
    return `connection failed (${networkCode}): ${deepest.message}`;
  }
  const messages = chain.filter((link) => link instanceof Error).map((link) => link.message);
  return messages.length > 0 ? messages.join(": ") : String(error);
}

function rawBodyText(error: unknown): string | undefined {
  if (!isRecord(error) || typeof error.body !== "string") return undefined;
  const text = error.body.trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || undefined;
}

/** An API call that failed for good: HTTP code and Status kept, message readable. */
export class KubernetesApiError extends Error {
  /** HTTP status, or undefined for a network failure. */
  readonly code: number | undefined;
  readonly status: ApiStatus | undefined;
  readonly attempts: number;

  /** `why` says why the retry policy gave up early, when it did (e.g. a Retry-After beyond its cap). */
  constructor(cause: unknown, attempts: number, context?: string, why?: string) {
    const description = describeApiError(cause);
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : "";
    super(`${context ? `${context}: ` : ""}${description}${tries}${why ? `; ${why}` : ""}`, { cause });
    this.name = "KubernetesApiError";
    this.code = httpStatusOf(cause);
    this.status = apiStatusOf(cause);
    this.attempts = attempts;
  }
}

export interface BackoffOptions {
  /** First retry waits about this long. */
  baseDelayMs: number;
  /** No single wait is longer than this. */
  maxDelayMs: number;
}

/**
 * Capped exponential backoff with "equal jitter": the n-th retry (from 0) waits between half and
 * all of `min(max, base * 2^n)`, so concurrent clients spread out but never retry at once.
 */
export function backoffDelayMs(retryIndex: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retryIndex));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOptions<T> extends Partial<BackoffOptions> {
  /** Stops waiting and rethrows the abort reason. */
  signal?: AbortSignal;
  /** Total tries including the first. Default 6. */
  maxAttempts?: number;
  /**
   * Give up rather than start a wait that would end later than this after the first try. Default 30 s.
   * A wait the server asks for (429 `Retry-After`) may go past it, up to `maxRetryAfterMs`.
   */
  maxElapsedMs?: number;
  /** The longest `Retry-After` honoured; a server asking for more fails the call at once, saying so. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Prefixes the escaping error's message, e.g. `create Job "x"`. */
  description?: string;
  /**
   * For a create of our own deterministic name: a 409 AlreadyExists on a retry means an earlier
   * attempt landed, so the existing object is read and returned instead of failing.
   */
  createdName?: { name: string; readExisting: () => Promise<T> };
  /** Observes each retry (for run logs). */
  onRetry?: (retry: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Random source for jitter (tests). */
  random?: () => number;
}

const DEFAULT_RETRY = { baseDelayMs: 200, maxDelayMs: 5_000, maxAttempts: 6, maxElapsedMs: 30_000 };
/** The longest server-requested wait (`Retry-After`) the retry policy honours; the runtime README documents it. */
export const MAX_RETRY_AFTER_MS = 60_000;

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function isAlreadyExistsFor(error: unknown, name: string): boolean {
  if (httpStatusOf(error) !== 409) return false;
  const status = apiStatusOf(error);
  return status?.reason === "AlreadyExists" && (status.details?.name === undefined || status.details.name === name);
}

/** Runs `operation` under the retry policy; see the module comment. */
export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions<T> = {}): Promise<T> {
  const backoff: BackoffOptions = {
    baseDelayMs: options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
  };
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
  const maxElapsedMs = options.maxElapsedMs ?? DEFAULT_RETRY.maxElapsedMs;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS;
  const startedAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await operation();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (attempt > 1 && options.createdName && isAlreadyExistsFor(error, options.createdName.name)) {
        return await withRetry(options.createdName.readExisting, { ...options, createdName: undefined });
      }
      const disposition = classifyError(error);
      if (disposition.retry === "never" || attempt >= maxAttempts) {
        throw new KubernetesApiError(error, attempt, options.description);
      }
      const jittered = backoffDelayMs(attempt - 1, backoff, options.random);
      const askedMs = disposition.retry === "rate-limited" ? (disposition.retryAfterMs ?? 0) : 0;
      const delayMs = Math.max(jittered, askedMs);
      if (askedMs > maxRetryAfterMs) {
        const why = `the server asked to retry after ${seconds(askedMs)}, longer than the ${seconds(maxRetryAfterMs)} this runtime waits`;
        throw new KubernetesApiError(error, attempt, options.description, why);
      }
      // A wait the server asked for is honoured even past the time budget (it is capped above).
      const budgetMs = askedMs > 0 ? Math.max(maxElapsedMs, Date.now() - startedAt + askedMs) : maxElapsedMs;
      if (Date.now() - startedAt + delayMs > budgetMs) {
        throw new KubernetesApiError(error, attempt, options.description);
      }
      options.onRetry?.({ attempt, delayMs, error });
      await abortableSleep(delayMs, options.signal);
    }
  }
}
