import type { AdapterSessionCodec } from "@paperclipai/adapter-utils";
import { isJsonObject } from "./json-fields.ts";

export interface SessionCodecOptions {
  /**
   * Extra keys the session id may be stored under, besides `sessionId` and `session_id`: the spellings
   * the agent's Paperclip local adapter accepts (opencode_local: `sessionID`).
   */
  sessionIdAliases?: readonly string[];
}

/**
 * Session params: `{ sessionId, cwd, workspaceId?, repoUrl?, repoRef? }`. Snake-case spellings (and the
 * given session id aliases) are read too, so params stored by Paperclip's local adapters or older
 * releases still resume. Anything else is dropped; blank values count as absent.
 */
export function createSessionCodec(options: SessionCodecOptions = {}): AdapterSessionCodec {
  const sessionIdKeys = ["sessionId", "session_id", ...(options.sessionIdAliases ?? [])];
  const normalize = (raw: unknown) => normalizeSessionParams(raw, sessionIdKeys);
  return {
    deserialize: normalize,
    serialize: normalize,
    getDisplayId: (params) => normalize(params)?.sessionId ?? null,
  };
}

interface SessionParams extends Record<string, unknown> {
  sessionId: string;
}

function normalizeSessionParams(raw: unknown, sessionIdKeys: readonly string[]): SessionParams | null {
  if (!isJsonObject(raw)) return null;
  const read = (...keys: string[]): string | null => {
    for (const key of keys) {
      const value = raw[key];
      if (typeof value === "string" && value.trim() !== "") return value.trim();
    }
    return null;
  };
  const sessionId = read(...sessionIdKeys);
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
