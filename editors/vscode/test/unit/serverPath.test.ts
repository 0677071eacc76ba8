// How the extension finds `mil`: the setting when set, else the first executable on PATH.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { resolveServer } from "../../src/serverPath";

function folderWith(files: Record<string, number>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mil-path-"));
  for (const [name, mode] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), "#!/bin/sh\n");
    fs.chmodSync(path.join(dir, name), mode);
  }
  return dir;
}

test("an unset setting looks on PATH and takes the first executable mil", () => {
  const notExecutable = folderWith({ mil: 0o644 });
  const first = folderWith({ mil: 0o755 });
  const second = folderWith({ mil: 0o755 });
  const r = resolveServer("", [notExecutable, first, second].join(path.delimiter));
  assert.equal(r.path, path.join(first, "mil"));
  assert.match(r.log[0], /not set: looking for `mil` on PATH/);
  assert.match(r.log[1], new RegExp(`found ${first}`));
});

test("no mil on PATH says so, with the PATH it searched", () => {
  const empty = folderWith({});
  const r = resolveServer("", empty);
  assert.equal(r.path, undefined);
  assert.match(r.log.at(-1) ?? "", new RegExp(`no \`mil\` in any PATH folder \\(${empty}\\)`));
});

test("the setting wins over PATH, relative to the workspace folder", () => {
  const onPath = folderWith({ mil: 0o755 });
  const workspace = folderWith({ "my-mil": 0o755 });
  const r = resolveServer("my-mil", onPath, workspace);
  assert.equal(r.path, path.join(workspace, "my-mil"));
  assert.match(r.log[0], /mil.server.path is set: using/);
});

test("a setting that is not an executable is reported, not replaced by PATH", () => {
  const onPath = folderWith({ mil: 0o755 });
  const r = resolveServer("/nonexistent/mil", onPath);
  assert.equal(r.path, undefined);
  assert.match(r.log[0], /not an executable file/);
});
