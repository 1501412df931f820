import { appendFile, mkdtemp, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { localFileCalls } from "./file-calls.ts";
import { OutputDirectoryWatch } from "./output-directory-watch.ts";
import { OutputTailer, TailBuffer } from "./output-tail.ts";
import { UnsafeFileError } from "./safe-file.ts";

let dir: string;
let file: string;
const tailers: OutputTailer[] = [];
const directoryWatches: OutputDirectoryWatch[] = [];

function watched(directoryWatch: OutputDirectoryWatch): OutputDirectoryWatch {
  directoryWatches.push(directoryWatch);
  return directoryWatch;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "output-tail-test-"));
  file = join(dir, "stdout");
});
afterEach(async () => {
  await Promise.all(tailers.splice(0).map((tailer) => tailer.stop()));
  for (const directoryWatch of directoryWatches.splice(0)) directoryWatch.close();
  await rm(dir, { recursive: true, force: true });
});

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A tailer collecting lines, polling fast so tests stay quick. */
function collectingTailer(options: Partial<ConstructorParameters<typeof OutputTailer>[0]> = {}): {
  tailer: OutputTailer;
  lines: string[];
} {
  const lines: string[] = [];
  const tailer = new OutputTailer({
    path: file,
    fastPollMs: 5,
    idlePollMs: 20,
    absentPollMs: 20,
    onLine: async (line) => {
      lines.push(line);
    },
    ...options,
  });
  tailers.push(tailer);
  return { tailer, lines };
}

describe("OutputTailer", () => {
  it.each([1, 2, 3])(
    "emits exactly the written lines when bytes arrive in random chunks split through characters (seed %i)",
    async (seed) => {
      const random = seededRandom(seed);
      const pieces = ["a", "Z", " ", "{", '"', "é", "€", "😀", "漢", "\t", "ß"];
      const written: string[] = [];
      for (let i = 0; i < 300; i++) {
        let line = "";
        const length = Math.floor(random() * 40);
        for (let j = 0; j < length; j++) line += pieces[Math.floor(random() * pieces.length)];
        written.push(line);
      }
      const bytes = Buffer.from(written.map((line) => `${line}\n`).join(""));
      // Reads of 7 bytes split characters independently of how the writes split them.
      const { tailer, lines } = collectingTailer({ readChunkBytes: 7 });
      tailer.start();
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(random() * 60);
        await appendFile(file, bytes.subarray(at, at + size));
        at += size;
        if (random() < 0.1) await delay(2);
      }
      await tailer.drain({ settleMs: 30 });
      expect(lines).toEqual(written);
      expect(tailer.linesEmitted).toBe(written.length);
      expect(tailer.bytesRead).toBe(bytes.length);
      expect(tailer.offset).toBe(bytes.length);
    },
  );

  it("calls onLine one line at a time, in order, awaiting each", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: string[] = [];
    const tailer = new OutputTailer({
      path: file,
      fastPollMs: 5,
      onLine: async (line) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await delay(line.length % 3);
        seen.push(line);
        inFlight--;
      },
    });
    tailers.push(tailer);
    const written = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    await writeFile(file, written.map((line) => `${line}\n`).join(""));
    await tailer.drain({ settleMs: 20 });
    expect(seen).toEqual(written);
    expect(maxInFlight).toBe(1);
  });

  it("holds back a last line without newline until drain", async () => {
    const { tailer, lines } = collectingTailer();
    await writeFile(file, "first\nsecond without newline");
    tailer.start();
    await vi.waitFor(() => expect(lines).toEqual(["first"]));
    // Several polls later the partial line is still held back.
    await delay(60);
    expect(lines).toEqual(["first"]);
    await tailer.drain({ settleMs: 20 });
    expect(lines).toEqual(["first", "second without newline"]);
  });

  it("a file that appears late is found when the directory's event names it, not by the slow look for it", async () => {
    const directoryWatch = watched(new OutputDirectoryWatch(dir));
    // The look for a missing file waits a minute here: only the creation's event can bring the line in time.
    const { tailer, lines } = collectingTailer({ absentPollMs: 60_000, directoryWatch });
    tailer.start();
    await delay(40);
    await writeFile(file, "created late\n");
    await vi.waitFor(() => expect(lines).toEqual(["created late"]), { timeout: 5_000 });
  });

  it("without a settle window (the writer is done) drains to the end in one pass, last partial line included", async () => {
    const { tailer, lines } = collectingTailer({ readChunkBytes: 4 });
    await writeFile(file, "first\n");
    tailer.start();
    await vi.waitFor(() => expect(lines).toEqual(["first"]));
    await appendFile(file, "second\nthird without newline");
    await tailer.drain({ settleMs: 0 });
    expect(lines).toEqual(["first", "second", "third without newline"]);
  });

  it("a drain asked for while a line is being handled reads what was written after that read began", async () => {
    const lines: string[] = [];
    let releaseFirst = (): void => {};
    const firstHandled = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstArrived = (): void => {};
    const firstSeen = new Promise<void>((resolve) => (firstArrived = resolve));
    const tailer = new OutputTailer({
      path: file,
      fastPollMs: 5,
      fileCalls: localFileCalls,
      onLine: async (line) => {
        lines.push(line);
        if (lines.length === 1) {
          firstArrived();
          await firstHandled;
        }
      },
    });
    tailers.push(tailer);
    await writeFile(file, "first\n");
    tailer.start();
    await firstSeen;
    // The agent's last lines land and it exits while the tail is still busy with its first line.
    await appendFile(file, "last\nresult without newline");
    const drained = tailer.drain({ settleMs: 0 });
    releaseFirst();
    await drained;
    expect(lines).toEqual(["first", "last", "result without newline"]);
  });

  it("waits for a file that appears late", async () => {
    const { tailer, lines } = collectingTailer();
    tailer.start();
    await delay(40);
    expect(lines).toEqual([]);
    await writeFile(file, "hello\n");
    await vi.waitFor(() => expect(lines).toEqual(["hello"]));
    await appendFile(file, "world\n");
    await vi.waitFor(() => expect(lines).toEqual(["hello", "world"]));
  });

  it("finishes a drain of a file that never appeared with no lines", async () => {
    const { tailer, lines } = collectingTailer();
    await tailer.drain({ settleMs: 20 });
    expect(lines).toEqual([]);
    expect(tailer.bytesRead).toBe(0);
  });

  it("still emits output appended within the settle window after the pod exited", async () => {
    const { tailer, lines } = collectingTailer();
    await writeFile(file, "before exit\n");
    const drained = tailer.drain({ settleMs: 600 });
    await vi.waitFor(() => expect(lines).toEqual(["before exit"]));
    // The tailer has now seen the size stay the same for a while; a network filesystem shows late writes.
    await delay(100);
    await appendFile(file, "late write\nlast without newline");
    await drained;
    expect(lines).toEqual(["before exit", "late write", "last without newline"]);
  });

  it("emits nothing after drain finished", async () => {
    const { tailer, lines } = collectingTailer();
    await writeFile(file, "a\n");
    await tailer.drain({ settleMs: 10 });
    await appendFile(file, "b\n");
    await delay(40);
    expect(lines).toEqual(["a"]);
  });

  it("bounds a 5 MiB single line: emitted once, cut at a character boundary, marked", async () => {
    const { tailer, lines } = collectingTailer({ readChunkBytes: 64 * 1024 });
    // 3-byte characters so the 1 MiB cap falls inside one.
    const huge = "€".repeat(Math.ceil((5 * 1024 * 1024) / 3));
    await writeFile(file, `${huge}\nnext\n`);
    await tailer.drain({ settleMs: 10 });
    expect(lines).toHaveLength(2);
    const [first, second] = lines;
    expect(second).toBe("next");
    const [kept, marker] = (first ?? "").split(" … ");
    expect(Buffer.byteLength(kept ?? "")).toBeLessThanOrEqual(1024 * 1024);
    expect(Buffer.byteLength(kept ?? "")).toBeGreaterThan(1024 * 1024 - 3);
    expect(kept).toMatch(/^€+$/);
    expect(marker).toBe(`[paperclip] line truncated: ${Buffer.byteLength(huge)} bytes, first ${Buffer.byteLength(kept ?? "")} kept`);
    expect(tailer.truncatedLines).toBe(1);
  });

  it("honours a custom line cap and keeps later lines intact", async () => {
    const { tailer, lines } = collectingTailer({ maxLineBytes: 10, readChunkBytes: 3 });
    await writeFile(file, "0123456789ABCDEF\nshort\n0123456789\n");
    await tailer.drain({ settleMs: 10 });
    expect(lines).toEqual([
      "0123456789 … [paperclip] line truncated: 16 bytes, first 10 kept",
      "short",
      "0123456789",
    ]);
  });

  it("starts at startOffset", async () => {
    await writeFile(file, "skipped\nkept\n");
    const { tailer, lines } = collectingTailer({ startOffset: "skipped\n".length });
    await tailer.drain({ settleMs: 10 });
    expect(lines).toEqual(["kept"]);
    expect(tailer.offset).toBe("skipped\nkept\n".length);
    expect(tailer.bytesRead).toBe("kept\n".length);
  });

  it("drops the \\r of CRLF line endings", async () => {
    const { tailer, lines } = collectingTailer();
    await writeFile(file, "one\r\ntwo\r\n");
    await tailer.drain({ settleMs: 10 });
    expect(lines).toEqual(["one", "two"]);
  });

  it("rejects drain with the handler's error and releases the file", async () => {
    const failure = new Error("onLog failed");
    const tailer = new OutputTailer({
      path: file,
      fastPollMs: 5,
      onLine: async () => {
        throw failure;
      },
    });
    tailers.push(tailer);
    await writeFile(file, "x\n");
    await expect(tailer.drain({ settleMs: 10 })).rejects.toBe(failure);
    await tailer.stop();
  });

  it("stop() releases the file and calls onLine no more", async () => {
    /** Descriptors this process holds on the tailed file. */
    const fdsOnFile = async (): Promise<number> => {
      const targets = await Promise.all(
        (await readdir("/proc/self/fd")).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")),
      );
      return targets.filter((target) => target === file).length;
    };
    await writeFile(file, "a\n");
    const { tailer, lines } = collectingTailer();
    tailer.start();
    await vi.waitFor(() => expect(lines).toEqual(["a"]));
    expect(await fdsOnFile()).toBe(1);
    await tailer.stop();
    expect(await fdsOnFile()).toBe(0);
    await appendFile(file, "b\n");
    await delay(30);
    expect(lines).toEqual(["a"]);
  });

  it("stop() leaves nothing that keeps the process alive", async () => {
    // A process that starts a tailer with a long idle poll, reads a line and stops it must exit by itself.
    const script = join(dir, "stop-probe.ts");
    const tailerModule = pathToFileURL(join(import.meta.dirname, "output-tail.ts")).href;
    const watchModule = pathToFileURL(join(import.meta.dirname, "output-directory-watch.ts")).href;
    await writeFile(
      script,
      `import { OutputTailer } from ${JSON.stringify(tailerModule)};
import { OutputDirectoryWatch } from ${JSON.stringify(watchModule)};
import { dirname } from "node:path";
// The directory's watch is left open: it must not keep the process alive either.
const directoryWatch = new OutputDirectoryWatch(dirname(process.argv[2]));
const tailer = new OutputTailer({ path: process.argv[2], idlePollMs: 60_000, directoryWatch, onLine: async (line) => {
  console.log("line:" + line);
  setImmediate(() => void tailer.stop().then(() => console.log("stopped")));
} });
tailer.start();
`,
    );
    await writeFile(file, "hello\n");
    const child = spawn(process.execPath, ["--no-warnings", script, file], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (data: Buffer) => (output += data.toString()));
    child.stderr.on("data", (data: Buffer) => (output += data.toString()));
    const guard = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const [code, signal] = await once(child, "exit");
    clearTimeout(guard);
    expect({ code, signal, output }).toEqual({ code: 0, signal: null, output: "line:hello\nstopped\n" });
  });

  it("without fs.watch (network storage: no inotify) polling alone delivers every line, also after quiet spells", async () => {
    // A trusted watch would leave the timer at a minute: the lines arriving shows the trust never came.
    const directoryWatch = new OutputDirectoryWatch(dir, { networkStorage: true });
    const trust = directoryWatch.trust;
    const { tailer, lines } = collectingTailer({ directoryWatch, trustedPollMs: 60_000 });
    tailer.start();
    for (let i = 0; i < 5; i++) {
      await appendFile(file, `line ${i}\n`);
      await vi.waitFor(() => expect(lines).toHaveLength(i + 1));
      await delay(50);
    }
    expect(trust.trusted).toBe(false);
    expect(lines).toEqual(["line 0", "line 1", "line 2", "line 3", "line 4"]);
  });

  it("once fs.watch has announced the growth polls found, its events drive the reading", async () => {
    const directoryWatch = watched(new OutputDirectoryWatch(dir));
    const trust = directoryWatch.trust;
    const { tailer, lines } = collectingTailer({ trustedPollMs: 60_000, directoryWatch });
    await writeFile(file, "");
    tailer.start();
    // Each write after a pause longer than the idle poll: found by the event's wake-up, not a timer poll.
    for (let i = 0; i < 6 && !trust.trusted; i++) {
      await delay(60);
      await appendFile(file, `warm-up ${i}\n`);
      await vi.waitFor(() => expect(lines).toHaveLength(i + 1));
    }
    expect(trust.trusted).toBe(true);
    const before = lines.length;
    await delay(60);
    await appendFile(file, "driven by the event\n");
    // The timer now waits a minute: only the watch event can have woken the tailer.
    await vi.waitFor(() => expect(lines).toHaveLength(before + 1), { timeout: 5_000 });
    expect(lines.at(-1)).toBe("driven by the event");
  });

  it("growth a poll finds that no event announced ends the trust in fs.watch", async () => {
    // A directory trusted so far whose events stop (as on network storage): the tailer finds the growth by polling.
    const directoryWatch = new OutputDirectoryWatch(dir, { networkStorage: true });
    const trust = directoryWatch.trust;
    for (let i = 0; i < 3; i++) trust.record(true);
    expect(trust.trusted).toBe(true);
    const { tailer, lines } = collectingTailer({ directoryWatch });
    await writeFile(file, "written where no event tells\n");
    tailer.start();
    await vi.waitFor(() => expect(lines).toEqual(["written where no event tells"]));
    expect(trust.trusted).toBe(false);
  });

  it.each([
    { how: "a symbolic link", swap: async () => symlink(join(dir, "elsewhere"), file), refused: /replaced by a symbolic link/ },
    { how: "a FIFO", swap: async () => void execFileSync("mkfifo", [file]), refused: /replaced by a FIFO/ },
    { how: "another file", swap: async () => writeFile(file, "planted\n"), refused: /replaced by another file/ },
  ])("a drain without a settle window refuses an output file swapped for $how after it was opened", async ({ swap, refused }) => {
    await writeFile(join(dir, "elsewhere"), "server secret\n");
    await writeFile(file, "first\n");
    const { tailer, lines } = collectingTailer({ fileCalls: localFileCalls });
    tailer.start();
    await vi.waitFor(() => expect(lines).toEqual(["first"]));
    await rm(file);
    await swap();
    await expect(tailer.drain({ settleMs: 0 })).rejects.toBeInstanceOf(UnsafeFileError);
    await expect(tailer.drain({ settleMs: 0 })).rejects.toThrow(refused);
    expect(lines).toEqual(["first"]);
  });

  it("reading an agent's 32 MiB without a newline synchronously still gives the event loop turns", async () => {
    // Written before the tail starts, so the whole read happens inside the drain, while the ticker counts.
    await writeFile(file, Buffer.alloc(32 * 1024 * 1024, "x"));
    const { tailer, lines } = collectingTailer({ fileCalls: localFileCalls });
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      await tailer.drain({ settleMs: 0 });
    } finally {
      clearInterval(ticker);
    }
    expect(lines).toHaveLength(1);
    expect(turns).toBeGreaterThan(0);
  });

  it("a drain of an output file the agent deleted after it was opened ends with what was read", async () => {
    await writeFile(file, "first\nlast");
    const { tailer, lines } = collectingTailer({ fileCalls: localFileCalls });
    tailer.start();
    await vi.waitFor(() => expect(lines).toEqual(["first"]));
    await rm(file);
    await tailer.drain({ settleMs: 0 });
    expect(lines).toEqual(["first", "last"]);
  });

  it("refuses a directory watch of another directory", () => {
    const directoryWatch = new OutputDirectoryWatch(tmpdir(), { networkStorage: true });
    expect(() => new OutputTailer({ path: file, onLine: async () => {}, directoryWatch })).toThrow(/not in the watched directory/);
  });

  it("rejects bad options by name", () => {
    const onLine = async (): Promise<void> => {};
    expect(() => new OutputTailer({ path: file, onLine, startOffset: -1 })).toThrow(/startOffset/);
    expect(() => new OutputTailer({ path: file, onLine, maxLineBytes: 0 })).toThrow(/maxLineBytes/);
    expect(() => new OutputTailer({ path: "", onLine })).toThrow(/path/);
  });
});

describe("TailBuffer", () => {
  it("keeps the last lines up to the line limit", () => {
    const tail = new TailBuffer({ maxLines: 3 });
    for (let i = 1; i <= 10; i++) tail.push(`line ${i}`);
    expect(tail.toString()).toBe("line 8\nline 9\nline 10");
  });

  it("keeps the last lines up to the byte limit", () => {
    const tail = new TailBuffer({ maxLines: 100, maxBytes: 20 });
    for (const line of ["aaaaaaaaa", "bbbbbbbbb", "ccccccccc"]) tail.push(line);
    expect(tail.toString()).toBe("bbbbbbbbb\nccccccccc");
    expect(Buffer.byteLength(tail.toString())).toBeLessThanOrEqual(20);
  });

  it("keeps the end of a line longer than the buffer, whole characters only", () => {
    const tail = new TailBuffer({ maxBytes: 16 });
    tail.push("start " + "€".repeat(100) + " the end");
    const text = tail.toString();
    expect(text.startsWith("…")).toBe(true);
    expect(text.endsWith(" the end")).toBe(true);
    expect(text).not.toContain("\uFFFD");
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(16);
  });

  it("is empty until something is pushed", () => {
    expect(new TailBuffer().toString()).toBe("");
  });
});
