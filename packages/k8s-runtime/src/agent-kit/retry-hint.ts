/**
 * When a provider says when to retry, turn that into an instant. Claude Code prints its usage-limit
 * reset either as `Claude AI usage limit reached|<unix seconds>` or as `… resets 5pm (Europe/Berlin)`; Codex says
 * `… or try again at 3:05 PM.`;
 * gateways often say `try again in 30 seconds`. Anything else gives null: no guessing.
 */
export function retryNotBeforeFromText(text: string, now: Date): string | null {
  const epoch = /limit reached\|(\d{9,11})\b/i.exec(text);
  if (epoch?.[1] !== undefined) return new Date(Number(epoch[1]) * 1000).toISOString();

  const delay = /\b(?:retry|try again)\s+(?:after|in)\s+(\d+)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|h)\b/i.exec(text);
  if (delay?.[1] !== undefined && delay[2] !== undefined) {
    const unitMs = delay[2].startsWith("h") ? 3_600_000 : delay[2].startsWith("m") ? 60_000 : 1000;
    return new Date(now.getTime() + Number(delay[1]) * unitMs).toISOString();
  }

  const reset = /\b(?:resets?|try again)\s+(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\b\.?(?:\s*\(([^)]+)\))?/i.exec(text);
  if (reset?.[1] !== undefined && reset[3] !== undefined) {
    const hour12 = Number(reset[1]);
    const minute = Number(reset[2] ?? "0");
    if (hour12 < 1 || hour12 > 12 || minute > 59) return null;
    const hour = (hour12 % 12) + (reset[3].toLowerCase() === "p" ? 12 : 0);
    // The CLI prints wall-clock time in the pod's zone when it names none; pods run in UTC.
    return nextWallClock(now, hour, minute, reset[4]?.trim() ?? "UTC")?.toISOString() ?? null;
  }
  return null;
}

/** The first instant after `now` at which the clock in `zone` shows hour:minute, or null for an unknown zone. */
function nextWallClock(now: Date, hour: number, minute: number, zone: string): Date | null {
  const today = wallClockParts(now.getTime(), zone);
  if (today === null) return null;
  for (const dayOffset of [0, 1]) {
    const candidate = instantOfWallClock(Date.UTC(today.year, today.month - 1, today.day + dayOffset, hour, minute), zone);
    if (candidate !== null && candidate > now.getTime()) return new Date(candidate);
  }
  return null;
}

/** `wallClockUtc` is the wall-clock time encoded as if it were UTC; returns the real instant in `zone`. */
function instantOfWallClock(wallClockUtc: number, zone: string): number | null {
  let instant = wallClockUtc;
  // Two passes settle the zone offset, also across a daylight-saving change.
  for (let pass = 0; pass < 2; pass += 1) {
    const parts = wallClockParts(instant, zone);
    if (parts === null) return null;
    const shown = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
    instant += wallClockUtc - shown;
  }
  return instant;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

function wallClockParts(instant: number, zone: string): WallClock | null {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
  } catch {
    return null;
  }
  const parts = format.formatToParts(new Date(instant));
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((entry) => entry.type === type)?.value);
  return { year: part("year"), month: part("month"), day: part("day"), hour: part("hour"), minute: part("minute") };
}
