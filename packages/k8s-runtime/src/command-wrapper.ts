/**
 * The agent container's command: a POSIX `sh -c` script (dash, bash, busybox ash) that runs the agent with its
 * prompt on stdin, copies stdout and stderr both to run-directory files and to the container's own streams
 * (so `kubectl logs` works), then records the agent's exit code in a file, atomically, and exits with it.
 *
 * Nothing is ever pasted into the script: paths and the agent's argv are positional parameters, so any byte
 * sequence (quotes, `$(…)`, newlines, …) reaches the agent exactly as given.
 */
import { isAbsolute } from "node:path";

/** `$0` of the wrapper script; shells use it in their own error messages. */
export const WRAPPER_NAME = "paperclip-agent";

// Positional parameters: $1 cwd, $2 stdin file, $3 stdout file, $4 stderr file, $5 exit-code file, then argv.
// Outputs go through FIFOs in /tmp to `tee`, because POSIX sh has no pipefail: a `agent | tee` pipeline would lose the
// agent's exit code. The agent runs in the background so a SIGTERM to the shell (PID 1 ignores it by default) is
// forwarded to it. The tees ignore TERM/INT so they keep draining the agent's last output.
// The exit-code file is written only after both tees finished, so the output files are complete when it appears.
export const WRAPPER_SCRIPT = `work_dir=$1 stdin_file=$2 stdout_file=$3 stderr_file=$4 exit_code_file=$5
shift 5
fifo_dir="\${TMPDIR:-/tmp}/paperclip-wrapper.$$"
mkdir -m 700 "$fifo_dir" && mkfifo "$fifo_dir/out" "$fifo_dir/err" || {
  printf '%s\\n' "[paperclip] cannot create FIFOs in $fifo_dir" >&2
  exit 125
}
(trap '' TERM INT; umask 022; exec tee -a "$stdout_file") < "$fifo_dir/out" &
stdout_tee=$!
(trap '' TERM INT; umask 022; exec tee -a "$stderr_file" >&2) < "$fifo_dir/err" &
stderr_tee=$!
(
  if ! mkdir -p -- "$work_dir" || ! cd -- "$work_dir"; then
    printf '%s\\n' "[paperclip] cannot create or enter the working directory $work_dir" >&2
    exit 1
  fi
  exec "$@"
) > "$fifo_dir/out" 2> "$fifo_dir/err" < "$stdin_file" &
agent=$!
trap 'kill -TERM "$agent" 2>/dev/null' TERM INT
while :; do
  wait "$agent" 2>/dev/null
  code=$?
  kill -0 "$agent" 2>/dev/null || break
done
wait "$stdout_tee"
wait "$stderr_tee"
rm -f "$fifo_dir/out" "$fifo_dir/err"
rmdir "$fifo_dir"
(umask 022; printf '%s\\n' "$code" > "$exit_code_file.tmp" && mv -f "$exit_code_file.tmp" "$exit_code_file")
exit "$code"
`;

export interface WrappedCommandInput {
  /** The agent's argv; argv[0] is the executable (looked up on the image's PATH). */
  argv: readonly string[];
  /** Absolute working directory; created if missing. */
  cwd: string;
  /** Absolute path of the file fed to the agent's stdin (the prompt). */
  stdinFile: string;
  /** Absolute paths the wrapper appends the agent's stdout and stderr to. */
  stdoutFile: string;
  stderrFile: string;
  /** Absolute path the agent's exit code is written to (a decimal number and a newline), atomically. */
  exitCodeFile: string;
}

/** The container `command`: `["sh", "-c", WRAPPER_SCRIPT, "paperclip-agent", cwd, stdin, stdout, stderr, exit-code, ...argv]`. */
export function wrapAgentCommand(input: WrappedCommandInput): string[] {
  const paths: Array<[string, string]> = [
    ["cwd", input.cwd],
    ["stdinFile", input.stdinFile],
    ["stdoutFile", input.stdoutFile],
    ["stderrFile", input.stderrFile],
    ["exitCodeFile", input.exitCodeFile],
  ];
  for (const [field, path] of paths) {
    if (!isAbsolute(path)) throw new Error(`command wrapper: ${field} must be an absolute path, got ${JSON.stringify(path)}`);
  }
  const executable = input.argv[0];
  if (executable === undefined || executable === "") throw new Error("command wrapper: the agent's argv is empty");
  [...paths.map(([, path]) => path), ...input.argv].forEach((value) => {
    if (value.includes("\0")) throw new Error(`command wrapper: ${JSON.stringify(value)} contains a NUL byte`);
  });
  return ["sh", "-c", WRAPPER_SCRIPT, WRAPPER_NAME, ...paths.map(([, path]) => path), ...input.argv];
}
