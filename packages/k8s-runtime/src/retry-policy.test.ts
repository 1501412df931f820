import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  KubernetesApiError,
  MAX_RETRY_AFTER_MS,
  backoffDelayMs,
  classifyError,
  describeApiError,
  httpStatusOf,
  retryAfterMs,
  withRetry,
} from "./retry-policy.ts";

function statusBody(code: number, reason: string, message: string, details?: object): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message, details });
}

function apiError(code: number, body: string | undefined, headers: Record<string, string> = {}): ApiException<unknown> {
  return new ApiException(code, "Unknown API Status Code!", body, headers);
}

/** What undici's fetch throws when a connection is refused (shape observed from client-node 2.x). */
function refused(): TypeError {
  const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
  return new TypeError("fetch failed", { cause });
}

const fast = { baseDelayMs: 1, maxDelayMs: 2 };

describe("backoffDelayMs", () => {
  it("grows exponentially between half and all of the ceiling, capped", () => {
    const options = { baseDelayMs: 200, maxDelayMs: 5_000 };
    expect(backoffDelayMs(0, options, () => 0)).toBe(100);
    expect(backoffDelayMs(0, options, () => 1)).toBe(200);
    expect(backoffDelayMs(3, options, () => 0)).toBe(800);
    expect(backoffDelayMs(3, options, () => 1)).toBe(1_600);
    expect(backoffDelayMs(20, options, () => 1)).toBe(5_000);
    expect(backoffDelayMs(20, options, () => 0)).toBe(2_500);
  });
});

describe("retryAfterMs", () => {
  it("reads the Retry-After header in seconds", () => {
    expect(retryAfterMs(apiError(429, statusBody(429, "TooManyRequests", "slow"), { "retry-after": "3" }))).toBe(3_000);
  });

  it("reads the Retry-After header as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    const error = apiError(503, undefined, { "retry-after": "Thu, 01 Jan 2026 00:00:07 GMT" });
    expect(retryAfterMs(error, now)).toBe(7_000);
  });

  it("falls back to details.retryAfterSeconds in the Status body", () => {
    const error = apiError(429, statusBody(429, "TooManyRequests", "slow", { retryAfterSeconds: 2 }));
    expect(retryAfterMs(error)).toBe(2_000);
  });

  it("is undefined when the server said nothing", () => {
    expect(retryAfterMs(apiError(429, "not json"))).toBeUndefined();
  });
});

describe("classifyError", () => {
  it("retries 429, 5xx and connection failures", () => {
    expect(classifyError(apiError(429, undefined, { "retry-after": "1" }))).toEqual({
      retry: "rate-limited",
      retryAfterMs: 1_000,
    });
    expect(classifyError(apiError(500, undefined))).toEqual({ retry: "server-error" });
    expect(classifyError(apiError(503, undefined))).toEqual({ retry: "server-error" });
    expect(classifyError(refused())).toEqual({ retry: "connection" });
    const closed = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    expect(classifyError(new TypeError("terminated", { cause: closed }))).toEqual({ retry: "connection" });
    expect(classifyError(new Error("socket hang up"))).toEqual({ retry: "connection" });
  });

  it("never retries other 4xx, permanent network failures or aborts", () => {
    for (const code of [400, 401, 403, 404, 409, 410, 422]) {
      expect(classifyError(apiError(code, undefined))).toEqual({ retry: "never" });
    }
    const unknownHost = Object.assign(new Error("getaddrinfo ENOTFOUND nowhere"), { code: "ENOTFOUND" });
    expect(classifyError(new TypeError("fetch failed", { cause: unknownHost }))).toEqual({ retry: "never" });
    expect(classifyError(new DOMException("aborted", "AbortError"))).toEqual({ retry: "never" });
    expect(classifyError(new Error("something else"))).toEqual({ retry: "never" });
  });

  it("reads the status client-node's Watch puts on its errors", () => {
    const watchError = Object.assign(new Error("Gone"), { statusCode: 410 });
    expect(httpStatusOf(watchError)).toBe(410);
    expect(classifyError(watchError)).toEqual({ retry: "never" });
  });
});

describe("describeApiError", () => {
  it("names the HTTP code, reason and Status message", () => {
    const error = apiError(
      422,
      statusBody(422, "Invalid", 'Job.batch "x" is invalid: metadata.labels: Invalid value: "a-"'),
    );
    expect(describeApiError(error)).toBe('HTTP 422 Invalid: Job.batch "x" is invalid: metadata.labels: Invalid value: "a-"');
  });

  it("shows a non-Status body as text", () => {
    expect(describeApiError(apiError(502, "<html>Bad Gateway</html>"))).toBe("HTTP 502: <html>Bad Gateway</html>");
  });

  it("names the network failure", () => {
    expect(describeApiError(refused())).toBe("connection failed (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:6443");
  });
});

describe("withRetry", () => {
  it("retries server errors and connection failures, then returns the result", async () => {
    const failures: unknown[] = [apiError(500, undefined), refused(), apiError(503, undefined)];
    let calls = 0;
    const retries: number[] = [];
    const result = await withRetry(
      async () => {
        calls++;
        const failure = failures.shift();
        if (failure) throw failure;
        return "ok";
      },
      { ...fast, onRetry: ({ attempt }) => retries.push(attempt) },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(4);
    expect(retries).toEqual([1, 2, 3]);
  });

  it("does not retry a 404 and keeps code and Status on the escaping error", async () => {
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls++;
        throw apiError(404, statusBody(404, "NotFound", 'jobs.batch "x" not found'));
      },
      { ...fast, description: 'read Job "x"' },
    ).catch((caught: unknown) => caught);
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).toMatchObject({ code: 404, attempts: 1, status: { reason: "NotFound" } });
    expect(String((error as Error).message)).toBe('read Job "x": HTTP 404 NotFound: jobs.batch "x" not found');
  });

  it("gives up after maxAttempts and says how many", async () => {
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls++;
        throw apiError(500, statusBody(500, "InternalError", "etcd is sad"));
      },
      { ...fast, maxAttempts: 3 },
    ).catch((caught: unknown) => caught);
    expect(calls).toBe(3);
    expect((error as Error).message).toBe("HTTP 500 InternalError: etcd is sad (after 3 attempts)");
  });

  it("waits at least as long as Retry-After asks", async () => {
    const delays: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (calls++ === 0) throw apiError(429, undefined, { "retry-after": "0.05" });
        return "ok";
      },
      { ...fast, onRetry: ({ delayMs }) => delays.push(delayMs) },
    );
    expect(delays).toEqual([50]);
  });

  it("honours a Retry-After longer than the time budget, up to its cap", async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (calls++ === 0) throw apiError(429, undefined, { "retry-after": "0.2" });
        return "ok";
      },
      { ...fast, maxElapsedMs: 50, onRetry: ({ delayMs }) => delays.push(delayMs) },
    );
    expect(result).toBe("ok");
    expect(delays).toEqual([200]);
  });

  it("fails at once, saying so, when Retry-After asks for more than the cap", async () => {
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls++;
        throw apiError(429, statusBody(429, "TooManyRequests", "slow down"), { "retry-after": "90" });
      },
      { ...fast, description: "create Secret ns/s" },
    ).catch((caught: unknown) => caught);
    expect(calls).toBe(1);
    expect(httpStatusOf(error)).toBe(429);
    expect(MAX_RETRY_AFTER_MS).toBe(60_000);
    expect((error as Error).message).toBe(
      "create Secret ns/s: HTTP 429 TooManyRequests: slow down; the server asked to retry after 90 s, longer than the 60 s this runtime waits",
    );
  });

  it("treats 409 AlreadyExists on a retried create of our name as success", async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        // The first attempt landed but its response was lost.
        if (calls === 1) throw refused();
        throw apiError(409, statusBody(409, "AlreadyExists", 'jobs.batch "run-1" already exists', { name: "run-1" }));
      },
      { ...fast, createdName: { name: "run-1", readExisting: async () => "existing run-1" } },
    );
    expect(result).toBe("existing run-1");
    expect(calls).toBe(2);
  });

  it("reports 409 AlreadyExists on the first attempt: that object is not ours", async () => {
    const error = await withRetry(
      async () => {
        throw apiError(409, statusBody(409, "AlreadyExists", 'jobs.batch "run-1" already exists', { name: "run-1" }));
      },
      { ...fast, createdName: { name: "run-1", readExisting: async () => "never" } },
    ).catch((caught: unknown) => caught);
    expect(httpStatusOf(error)).toBe(409);
  });

  it("stops waiting when the signal aborts", async () => {
    const controller = new AbortController();
    const reason = new Error("run cancelled");
    const promise = withRetry(
      async () => {
        throw apiError(503, undefined);
      },
      { baseDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(reason), 5);
    await expect(promise).rejects.toBe(reason);
  });
});
