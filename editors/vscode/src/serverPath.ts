/**
 * Finds the `mil` binary: the `mil.server.path` setting when set, else the first `mil` on PATH.
 * Every step of the resolution is written to the output channel, so "server not found" is never
 * a mystery.
 */
import * as fs from "fs";
import * as path from "path";

/** Where the binary was found and why, or why it was not. */
export interface Resolution {
  /** The absolute path of the binary, when one was found. */
  path?: string;
  /** What was looked at, one line each, for the log. */
  log: string[];
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Resolves the server binary from the setting (may be empty) and the PATH. */
export function resolveServer(setting: string, envPath: string | undefined, cwd?: string): Resolution {
  const log: string[] = [];
  if (setting.trim() !== "") {
    const configured = path.isAbsolute(setting) || !cwd ? setting : path.resolve(cwd, setting);
    if (isExecutable(configured)) {
      log.push(`mil.server.path is set: using ${configured}`);
      return { path: configured, log };
    }
    log.push(`mil.server.path is set to ${configured}, which is not an executable file`);
    return { log };
  }
  log.push("mil.server.path is not set: looking for `mil` on PATH");
  const names = process.platform === "win32" ? ["mil.exe", "mil.cmd", "mil"] : ["mil"];
  for (const dir of (envPath ?? "").split(path.delimiter).filter((d) => d !== "")) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) {
        log.push(`found ${candidate}`);
        return { path: candidate, log };
      }
    }
  }
  log.push(`no \`mil\` in any PATH folder (${envPath ?? "PATH is not set"})`);
  return { log };
}
