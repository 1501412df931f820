import type { AdapterSessionCodec } from "@paperclipai/adapter-utils";
import { isJsonObject } from "./json-fields.ts";

/**
 * Session params: `{ sessionId, cwd, workspaceId?, repoUrl?, repoRef? }`. The spellings Paperclip's
 * opencode_local accepts (`session_id`, `sessionID`, snake-case keys) are read too.
 */
export const openCodeSessionCodec: AdapterSessionCodec = {
  deserialize: normalizeSessionParams,
  serialize: normalizeSessionParams,
  getDisplayId: (params) => normalizeSessionParams(params)?.sessionId ?? null,
};

interface SessionParams extends Record<string, unknown> {
  sessionId: string;
}

function normalizeSessionParams(raw: unknown): SessionParams | null {
  if (!isJsonObject(raw)) return null;
  const read = (...keys: string[]): string | null => {
    for (const key of keys) {
      const value = raw[key];
      if (typeof value === "string" && value.trim() !== "") return value.trim();
    }
    return null;
  };
  const sessionId = read("sessionId", "session_id", "sessionID");
  if (sessionId === null) return null;
  const params: SessionParams = { sessionId };
  const optional = {
    cwd: read("cwd", "workdir"),
    workspaceId: read("workspaceId", "workspace_id"),
    repoUrl: read("repoUrl", "repo_url"),
    repoRef: read("repoRef", "repo_ref"),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== null) params[key] = value;
  return params;
}
