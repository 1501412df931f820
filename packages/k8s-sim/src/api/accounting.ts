import type { Verb } from "../faults.ts";

/** Counts per resource (plural, `pods/log` for subresources) and verb. */
export type VerbCounts = Record<string, Partial<Record<Verb, number>>>;

export interface RequestSnapshot {
  /** Every resource request (discovery and `/_sim` excluded). */
  total: number;
  byResource: VerbCounts;
  /** The same counts split by the client's User-Agent header (`unknown` when absent). */
  byUserAgent: Record<string, VerbCounts>;
  /** Non-resource requests (discovery, /version, health) by path. */
  nonResource: Record<string, number>;
  /** Watches open right now, by resource. */
  openWatches: Record<string, number>;
  /** Watches opened since the last reset, by resource. */
  watchesOpened: Record<string, number>;
  watchesOpenedTotal: number;
  /** TCP connections clients opened to the API server (HTTP and HTTPS) since the last reset: keep-alive shows here. */
  connectionsOpened: number;
}

function bump(counts: VerbCounts, resource: string, verb: Verb): void {
  const perVerb = (counts[resource] ??= {});
  perVerb[verb] = (perVerb[verb] ?? 0) + 1;
}

/** The API server's request counters, so tests can assert request budgets per client. */
export class RequestAccounting {
  private total = 0;
  private byResource: VerbCounts = {};
  private byUserAgent: Record<string, VerbCounts> = {};
  private nonResource: Record<string, number> = {};
  private watchesOpened: Record<string, number> = {};
  private connectionsOpened = 0;
  private readonly openWatches: Record<string, number> = {};

  record(verb: Verb, resource: string, userAgent: string | undefined): void {
    this.total++;
    bump(this.byResource, resource, verb);
    bump((this.byUserAgent[userAgent || "unknown"] ??= {}), resource, verb);
  }

  recordNonResource(path: string): void {
    this.nonResource[path] = (this.nonResource[path] ?? 0) + 1;
  }

  connectionOpened(): void {
    this.connectionsOpened++;
  }

  /** Marks a watch open; the returned function marks it closed (idempotent). */
  watchOpened(resource: string): () => void {
    this.watchesOpened[resource] = (this.watchesOpened[resource] ?? 0) + 1;
    this.openWatches[resource] = (this.openWatches[resource] ?? 0) + 1;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.openWatches[resource] = (this.openWatches[resource] ?? 1) - 1;
    };
  }

  /** How many requests matched; omitted fields match anything. */
  count(match: { verb?: Verb; resource?: string; userAgent?: string } = {}): number {
    const source = match.userAgent === undefined ? this.byResource : (this.byUserAgent[match.userAgent] ?? {});
    let sum = 0;
    for (const [resource, verbs] of Object.entries(source)) {
      if (match.resource !== undefined && match.resource !== resource) continue;
      for (const [verb, n] of Object.entries(verbs)) if (match.verb === undefined || match.verb === verb) sum += n;
    }
    return sum;
  }

  snapshot(): RequestSnapshot {
    const watchesOpenedTotal = Object.values(this.watchesOpened).reduce((a, b) => a + b, 0);
    return structuredClone({
      total: this.total,
      byResource: this.byResource,
      byUserAgent: this.byUserAgent,
      nonResource: this.nonResource,
      openWatches: Object.fromEntries(Object.entries(this.openWatches).filter(([, n]) => n > 0)),
      watchesOpened: this.watchesOpened,
      watchesOpenedTotal,
      connectionsOpened: this.connectionsOpened,
    });
  }

  /** Zeroes the counters; watches still open stay counted as open. */
  reset(): void {
    this.total = 0;
    this.byResource = {};
    this.byUserAgent = {};
    this.nonResource = {};
    this.watchesOpened = {};
    this.connectionsOpened = 0;
  }
}
