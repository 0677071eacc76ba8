/**
 * Runs the `mil` command line for what the language server does not offer itself: the placement
 * of a document (status bar and report), decompiling a package, and compiling while the server has
 * no `mil.compile`.
 */
import { spawn } from "child_process";

/** The outcome of one run. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin args...` with `input` on stdin; never rejects on a non-zero exit, only on spawn failure. */
export function run(bin: string, args: string[], input?: string, cwd?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
    );
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

/** The totals `mil placement --format json` gives for each function. */
interface FunctionTotals {
  totals: { ops: number; ane_op_share: number };
}

/** The share of ops placed on the Neural Engine over all functions, and the target it is for. */
export interface Share {
  aneOps: number;
  ops: number;
  chip: string;
  computeUnits: string;
}

/** Reads the share of ops on the ANE from the JSON placement document. */
export function aneShare(json: string): Share {
  const doc = JSON.parse(json) as { functions: FunctionTotals[]; chip: string; compute_units: string };
  let aneOps = 0;
  let ops = 0;
  for (const f of doc.functions) {
    ops += f.totals.ops;
    aneOps += Math.round(f.totals.ane_op_share * f.totals.ops);
  }
  return { aneOps, ops, chip: doc.chip, computeUnits: doc.compute_units };
}
