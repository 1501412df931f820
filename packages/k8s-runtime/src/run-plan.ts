import path from "node:path";
import type { V1Job, V1Secret } from "@kubernetes/client-node";
import type { AdapterExecutionContext, AdapterInvocationMeta } from "@paperclipai/adapter-utils";
import { buildPaperclipEnv } from "@paperclipai/adapter-utils/server-utils";
import type { AgentCommand, AgentDefinition } from "./agent.ts";
import { wrapAgentCommand } from "./command-wrapper.ts";
import type { RuntimeConfig } from "./config.ts";
import { buildJobManifest } from "./job-manifest.ts";
import { ANNOTATION_RETAIN, ANNOTATION_RUN_DIRECTORY, buildRunAnnotations, buildRunLabels } from "./labels.ts";
import { jobNameFor, runSecretNameFor } from "./names.ts";
import { collectInheritedEnv } from "./pod-env.ts";
import { renderRunPrompt, type RenderedPrompt } from "./prompt.ts";
import { agentHomeFor, ANNOTATION_RUN_LAYOUT, runDirectoryFor, type RunDirectory } from "./run-directory.ts";
import { buildRunEnvironment, podUsableEnv, taskIdOf, workspaceOf, type WorkspaceContext } from "./run-env.ts";
import { buildRunSecret } from "./run-secret.ts";
import { placeSkills, resolveRunSkills, type RunSkill, type SkillsPlacement } from "./run-skills.ts";
import { isWithin, type Placement, type SharedVolume } from "./self-pod.ts";
import { agentClaimMounts, assertNoLinksIn, operatorWorkspaceRoots, workspaceProblem, WorkspaceRefusedError } from "./pod-volumes.ts";
import { readServerFile, serverPathPolicy, type ServerPathScope } from "./server-paths.ts";
import { describeSessionId, sessionIdProblem } from "./session-id.ts";

/** The largest instructions file a run carries (markdown; real ones are a few KiB). */
export const MAX_INSTRUCTIONS_BYTES = 1024 * 1024;

/** Agent pods run as this user when neither config nor the Paperclip pod says otherwise (never root). */
export const DEFAULT_AGENT_UID = 1000;

/** Everything one run needs before it touches the cluster; built once, then executed step by step. */
export interface RunPlan {
  runId: string;
  agentId: string;
  companyId: string;
  taskId: string | null;
  /** The session this run resumes, or null for a fresh one. */
  resumeSessionId: string | null;
  /** The saved session was unusable (too long, unsafe characters) and is not resumed: the result clears it. */
  droppedSession: boolean;
  namespace: string;
  jobName: string;
  cwd: string;
  /** `cwd` when it lies on the shared volume: the server creates it before the Job when missing. */
  sharedCwd: string | null;
  workspace: WorkspaceContext;
  runDirectory: RunDirectory;
  prompt: RenderedPrompt;
  /** Content of `instructions.md` for an agent that takes them as a file (else null: none, or in the prompt). */
  instructions: string | null;
  /** Desired skills, copied into `runDirectory.skills` with the prompt, laid out as `skillsPlacement` says. */
  skills: RunSkill[];
  skillsPlacement: SkillsPlacement;
  command: AgentCommand;
  model: string | null;
  runAsUser: number;
  runAsGroup: number;
  job: V1Job;
  /** The run Secret, created before the Job even when it holds no values: the agent's lock. */
  secret: V1Secret;
  /** Paperclip's API as this server reaches it (for run-status polling). */
  serverApiUrl: string;
}

/** The session to resume: only one saved for the same working directory (the CLIs key sessions by cwd). */
export function sessionToResume(
  agent: AgentDefinition<unknown>,
  runtime: AdapterExecutionContext["runtime"],
  cwd: string,
): { sessionId: string | null; note: string | null; dropped: boolean } {
  const params = agent.sessionCodec ? agent.sessionCodec.deserialize(runtime.sessionParams) : runtime.sessionParams;
  const sessionId = typeof params?.sessionId === "string" && params.sessionId ? params.sessionId : runtime.sessionId;
  if (!sessionId) return { sessionId: null, note: null, dropped: false };
  const problem = sessionIdProblem(sessionId);
  if (problem !== null) {
    return { sessionId: null, note: `Session ${describeSessionId(sessionId)} is not resumed and is cleared: ${problem}. The run starts a fresh session.`, dropped: true };
  }
  const savedCwd = typeof params?.cwd === "string" ? params.cwd : null;
  if (savedCwd && path.resolve(savedCwd) !== path.resolve(cwd)) {
    return { sessionId: null, note: `Session ${sessionId} was saved for cwd ${savedCwd} and is not resumed in ${cwd}.`, dropped: false };
  }
  return { sessionId, note: null, dropped: false };
}

/**
 * Steps 4–6 as data: the run's ids, directory, prompt, skills, command, environment split by sensitivity, and
 * the Job and Secret manifests. Reads only the instructions file and Paperclip's skill list; writes nothing.
 */
export async function planRun(
  agent: AgentDefinition<unknown>,
  ctx: AdapterExecutionContext,
  config: RuntimeConfig,
  placement: Placement,
  sharedVolume: SharedVolume,
  image: string,
  processEnv: NodeJS.ProcessEnv = process.env,
): Promise<RunPlan & { notes: string[] }> {
  const notes: string[] = [];
  const agentId = ctx.agent.id;
  const companyId = ctx.agent.companyId;
  const workspace = workspaceOf(ctx.context);
  const home = agentHomeFor({ instanceRoot: config.instanceRoot, companyId, agentId });
  const cwd = path.resolve(workspace.cwd ?? config.cwd ?? home);
  const cwdOnVolume = isWithin(sharedVolume.mountPath, cwd);
  if (!cwdOnVolume) {
    notes.push(`cwd ${cwd} is not on the shared volume (${sharedVolume.mountPath}); the agent works in a directory that vanishes with its pod.`);
  }
  const refused = workspaceProblem(cwd, sharedVolume, { instanceRoot: config.instanceRoot, companyId, agentId, home }, operatorWorkspaceRoots(processEnv));
  if (refused !== null) throw new WorkspaceRefusedError(cwd, refused);
  if (cwdOnVolume) await assertNoLinksIn(cwd);
  const resume = sessionToResume(agent, ctx.runtime, cwd);
  if (resume.note) notes.push(resume.note);
  const runDirectory = runDirectoryFor({ instanceRoot: config.instanceRoot, companyId, agentId, runId: ctx.runId });
  const pathScope: ServerPathScope = { instanceRoot: config.instanceRoot, companyId, agentId, env: processEnv };
  const instructions = config.instructionsFilePath
    ? (await readServerFile(serverPathPolicy("instructions", pathScope), "instructionsFilePath", config.instructionsFilePath, MAX_INSTRUCTIONS_BYTES)).text
    : null;
  const instructionsInPrompt = agent.instructionsDelivery === "prompt-prefix";
  const prompt = renderRunPrompt(
    ctx,
    resume.sessionId !== null,
    instructionsInPrompt && instructions !== null && config.instructionsFilePath ? { text: instructions, source: config.instructionsFilePath } : null,
  );
  const skills = await resolveRunSkills(ctx.config, serverPathPolicy("skills", pathScope));
  notes.push(...skills.notes);
  const skillsPlacement = placeSkills(agent.skillsDelivery, runDirectory.skills, runDirectory.home);
  const hasSkills = skills.skills.length > 0;
  const command = agent.buildCommand({
    config: ctx.config,
    resumeSessionId: resume.sessionId,
    model: config.model ?? null,
    extraArgs: config.extraArgs,
    dangerouslySkipPermissions: config.dangerouslySkipPermissions,
    cwd,
    runDir: runDirectory.input,
    promptFile: runDirectory.prompt,
    instructionsFile: instructions !== null && !instructionsInPrompt ? runDirectory.instructions : null,
    skillsDir: hasSkills ? skillsPlacement.skillsDir : null,
  });

  const configEnv = podUsableEnv(config.env, (dir) => isWithin(sharedVolume.mountPath, dir));
  if (configEnv.dropped.length > 0) {
    notes.push(`Not passed to the pod (directories on the Paperclip host; the pod uses its own /tmp): ${configEnv.dropped.join(", ")}.`);
  }
  const runEnv = buildRunEnvironment(ctx, configEnv.env, config.paperclipApiUrl);
  const inherited = collectInheritedEnv({
    processEnv,
    ...(placement.serverContainer ? { serverContainer: placement.serverContainer } : {}),
    inheritEnv: config.inheritEnv,
  });
  const secretValues = { ...inherited.secretValues, ...runEnv.secret };
  const jobName = jobNameFor(agentId, ctx.runId);
  const secretName = runSecretNameFor(agentId);
  const taskId = taskIdOf(ctx.context);
  const identity = {
    agentId,
    agentName: ctx.agent.name,
    runId: ctx.runId,
    companyId,
    adapterType: agent.type,
    taskId,
    sessionId: resume.sessionId,
  };
  const labels = buildRunLabels(identity, config.labels);
  const annotations = {
    ...buildRunAnnotations(identity),
    [ANNOTATION_RUN_DIRECTORY]: runDirectory.dir,
    [ANNOTATION_RUN_LAYOUT]: runDirectory.layout,
    ...(config.retainJobs ? { [ANNOTATION_RETAIN]: "true" } : {}),
  };
  const runAsUser = config.runAsUser ?? placement.runAsUser ?? DEFAULT_AGENT_UID;
  const runAsGroup = config.runAsGroup ?? placement.runAsGroup ?? runAsUser;
  const fsGroup = config.fsGroup ?? placement.fsGroup;
  const secretKeys = Object.keys(secretValues);
  const job = buildJobManifest({
    name: jobName,
    namespace: placement.namespace,
    labels,
    annotations,
    containerName: agent.containerName,
    image,
    ...(config.imagePullPolicy ? { imagePullPolicy: config.imagePullPolicy } : {}),
    imagePullSecrets: [...config.imagePullSecrets, ...placement.imagePullSecrets.map((ref) => ref.name ?? "").filter(Boolean)],
    command: wrapAgentCommand({
      argv: command.argv,
      cwd,
      stdinFile: runDirectory.prompt,
      stdoutFile: runDirectory.stdout,
      stderrFile: runDirectory.stderr,
      exitCodeFile: runDirectory.exitCode,
    }),
    env: {
      plain: { ...runEnv.plain, ...command.env },
      references: inherited.references,
      envFrom: inherited.envFrom,
      secret: secretKeys.length > 0 ? { name: secretName, keys: secretKeys } : null,
    },
    homeDir: runDirectory.home,
    sharedVolume: { claimName: sharedVolume.claimName, mounts: agentClaimMounts(sharedVolume, runDirectory, cwd, hasSkills ? skillsPlacement.mountPath : null) },
    timeoutSec: config.timeoutSec,
    graceSec: config.graceSec,
    ...(config.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: config.ttlSecondsAfterFinished } : {}),
    runAsUser,
    runAsGroup,
    ...(fsGroup !== undefined ? { fsGroup } : {}),
    ...(config.resources ? { resources: config.resources } : {}),
    ...(config.nodeSelector ? { nodeSelector: config.nodeSelector } : {}),
    ...(sharedVolume.attachedNode ? { requiredNode: sharedVolume.attachedNode } : {}),
    ...(config.tolerations ? { tolerations: config.tolerations } : {}),
    ...(config.serviceAccountName ? { serviceAccountName: config.serviceAccountName } : {}),
    ...(placement.dnsPolicy ? { dnsPolicy: placement.dnsPolicy } : {}),
    ...(placement.dnsConfig ? { dnsConfig: placement.dnsConfig } : {}),
  });
  // Created even without values: it is the agent's lock across Paperclip processes (agent-lock.ts).
  const secret = buildRunSecret({
    name: secretName,
    namespace: placement.namespace,
    labels,
    holder: { agentId, runId: ctx.runId, jobName },
    values: secretValues,
  });
  return {
    runId: ctx.runId,
    agentId,
    companyId,
    taskId,
    resumeSessionId: resume.sessionId,
    droppedSession: resume.dropped,
    namespace: placement.namespace,
    jobName,
    cwd,
    sharedCwd: cwdOnVolume ? cwd : null,
    workspace,
    runDirectory,
    prompt,
    instructions: instructionsInPrompt ? null : instructions,
    skills: skills.skills,
    skillsPlacement,
    command,
    model: config.model ?? null,
    runAsUser,
    runAsGroup,
    job,
    secret,
    serverApiUrl: buildPaperclipEnv(ctx.agent).PAPERCLIP_API_URL ?? "",
    notes,
  };
}

/** What Paperclip shows as the run's invocation: the agent's command, not the wrapper around it. */
export function invocationMeta(adapterType: string, plan: RunPlan, context: Record<string, unknown>): AdapterInvocationMeta {
  return {
    adapterType,
    command: plan.command.argv[0] ?? "",
    commandArgs: plan.command.argv.slice(1),
    cwd: plan.cwd,
    commandNotes: [`Kubernetes Job ${plan.namespace}/${plan.jobName}`, ...(plan.command.notes ?? [])],
    env: plan.command.env,
    prompt: plan.prompt.text,
    promptMetrics: plan.prompt.metrics,
    context,
  };
}
