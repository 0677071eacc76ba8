// The VS Code end-to-end test: code-server with the packaged extension installed, driven by
// playwright-core in Debian's Chromium, everything on 127.0.0.1. Opens a MIL file and checks what a
// person would see: the squiggles and the problem count, the ANE share in the status bar, the hover
// of an op (and the device it runs on), a quick fix applied, the Run command's table of outputs in
// the MIL output channel, the Compile command writing a package and the placement report in a
// webview. Each check is written to the result file as
// {name, ok, detail}; screenshots go to the screenshots folder.
//
// usage: node e2e.mjs --mil-bin BIN --vsix FILE --sample FILE --out DIR
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const here = path.dirname(new URL(import.meta.url).pathname);
const entry = path.join(here, "node_modules/code-server/out/node/entry.js");
const out = path.resolve(args.out);
const shots = path.join(out, "screenshots");
fs.rmSync(shots, { recursive: true, force: true });
fs.mkdirSync(shots, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mil-vscode-e2e-"));
const workspace = path.join(tmp, "workspace");
fs.mkdirSync(workspace);
const sampleName = path.basename(args.sample);
fs.copyFileSync(args.sample, path.join(workspace, sampleName));

const results = [];
const log = (m) => console.log(`[e2e ${new Date().toISOString().slice(11, 19)}] ${m}`);
function record(name, ok, detail, extra = {}) {
  results.push({ name, ok, detail, ...extra });
  log(`${ok ? "ok  " : "FAIL"} ${name}: ${detail}`);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer in ${ms} ms`);
}

const text = (s) => s.replace(/\u00a0/g, " ");
// The seed the Run command is given (tests/editors/test_vscode.py runs `mil run` with it).
const RUN_SEED = 7;

// 1. The extension, installed from the .vsix as a user would.
const userData = path.join(tmp, "user-data");
const extensions = path.join(tmp, "extensions");
const install = spawnSync(
  process.execPath,
  [entry, "--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", path.resolve(args.vsix)],
  { encoding: "utf8" },
);
record("install-vsix", install.status === 0, (install.stdout + install.stderr).trim().split("\n").pop());
fs.mkdirSync(path.join(userData, "User"), { recursive: true });
fs.writeFileSync(
  path.join(userData, "User/settings.json"),
  JSON.stringify({
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "update.mode": "none",
    "editor.hover.delay": 200,
    "window.commandCenter": false,
    "mil.server.path": path.resolve(args["mil-bin"]),
  }),
);

// 2. code-server on loopback. The extension host's PATH is the login shell's (VS Code resolves it),
// so the server is given by mil.server.path.
const port = await freePort();
const server = spawn(
  process.execPath,
  [
    entry,
    "--bind-addr", `127.0.0.1:${port}`,
    "--auth", "none",
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
    "--user-data-dir", userData,
    "--extensions-dir", extensions,
    workspace,
  ],
  {
    stdio: ["ignore", fs.openSync(path.join(out, "code-server.log"), "w"), fs.openSync(path.join(out, "code-server.err"), "w")],
    detached: true,
  },
);

let browser;
let exitCode = 0;
try {
  await waitHttp(`http://127.0.0.1:${port}/healthz`, 60000);
  const executable = fs.existsSync("/usr/lib/chromium/chromium") ? "/usr/lib/chromium/chromium" : "/usr/bin/chromium";
  browser = await chromium.launchPersistentContext(path.join(tmp, "chromium-profile"), {
    executablePath: executable,
    headless: true,
    viewport: { width: 1400, height: 860 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench .part.editor", { timeout: 60000 });
  await page.waitForTimeout(1500);
  const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`) });
  const editorText = async () => text(await page.locator(".part.editor .monaco-editor .view-lines").first().innerText());
  // Runs a command from the Command Palette: typed, then its row clicked.
  const palette = async (command) => {
    await page.keyboard.press("Escape");
    await page.locator(".part.editor .monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+Shift+P");
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible" });
    await input.fill(`>${command}`);
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: command });
    await row.first().waitFor({ state: "visible", timeout: 10000 });
    await row.first().click();
  };
  const step = async (name, fn) => {
    try {
      await fn();
    } catch (e) {
      record(name, false, String(e).split("\n")[0]);
      await shot(`failed-${name}`).catch(() => {});
    }
  };

  // 3. Open the sample through Quick Open.
  await step("open", async () => {
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: sampleName }).first().dblclick();
    await page.waitForFunction(
      () => document.querySelector(".monaco-editor .view-lines")?.textContent.includes("reduce_mean"),
      null,
      { timeout: 20000 },
    );
    const mode = page.locator("#status\\.editor\\.mode");
    await page.waitForFunction(() => document.querySelector("#status\\.editor\\.mode")?.textContent.trim() === "MIL", null, {
      timeout: 20000,
    }).catch(() => {});
    const shown = (await mode.innerText()).trim();
    record("open", shown === "MIL", `language mode in the status bar: ${shown}`);
  });

  // 4. Diagnostics: squiggles in the text and the count in the status bar.
  await step("diagnostics", async () => {
    await page.waitForSelector(".monaco-editor .squiggly-warning, .monaco-editor .squiggly-error", { timeout: 30000 });
    const squiggles = await page.locator(".monaco-editor .squiggly-warning, .monaco-editor .squiggly-error").count();
    const problems = (await page.locator("#status\\.problems").getAttribute("aria-label")) ?? "";
    const warnings = Number((problems.match(/Warnings?: (\d+)/) ?? [])[1] ?? 0);
    await shot("1-diagnostics");
    record("diagnostics", squiggles > 0 && warnings > 0, `${squiggles} squiggles; status bar: "${problems}"`);
  });

  // 5. The share of ops on the Neural Engine in the status bar.
  await step("status-bar-ane", async () => {
    const item = page.locator(".statusbar-item", { hasText: /ANE \d+%/ });
    await item.first().waitFor({ timeout: 20000 });
    record("status-bar-ane", true, `status bar: "${(await item.first().innerText()).trim()}"`);
  });

  // 6. Hover an op: its signature, and the device placement puts it on.
  await step("hover", async () => {
    const op = page.locator(".monaco-editor .view-line span", { hasText: /^reduce_mean$/ }).first();
    await op.hover();
    const hover = page.locator(".monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover:not(.hidden) .hover-contents").first();
    await hover.waitFor({ state: "visible", timeout: 15000 });
    await page.waitForTimeout(500);
    const content = text(await hover.innerText());
    await shot("2-hover");
    record("hover", /reduce_mean/.test(content), content.replace(/\s+/g, " ").slice(0, 300));
    const device = content.match(/\b(ANE|Neural Engine|GPU|CPU)\b/);
    record("hover-device", device !== null, device ? `device in hover: ${device[0]}` : "the hover names no device");
  });

  // 7. A quick fix: the positional argument of rsqrt gets its key.
  await step("quick-fix", async () => {
    await page.keyboard.press("Escape");
    // On the positional argument itself: the cursor on `rsqrt` gets that op's own fixes.
    const call = page.locator(".monaco-editor .view-line", { hasText: "rsqrt(" }).first();
    await call.locator("span", { hasText: /^ms_eps$/ }).last().click();
    await page.keyboard.press("Control+.");
    const fix = page.locator(".action-widget .monaco-list-row", { hasText: /argument keys/ });
    await fix.first().waitFor({ state: "visible", timeout: 15000 });
    await shot("3-quick-fix-menu");
    // The fix is the focused row of the menu (the only one); Enter applies it, as a user would.
    await page.locator(".action-widget .monaco-list-row.focused", { hasText: /argument keys/ }).waitFor();
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      () => document.querySelector(".monaco-editor .view-lines")?.textContent.replace(/\u00a0/g, " ").includes("rsqrt(x = ms_eps)"),
      null,
      { timeout: 15000 },
    );
    await page.waitForTimeout(1000);
    await shot("4-quick-fix-applied");
    const line = (await editorText()).split("\n").find((l) => l.includes("rsqrt(")) ?? "";
    record("quick-fix", true, `after the fix: ${line.trim()}`);
  });

  // 8. Run with the reference interpreter: the seed asked for, then each output's statistics in the
  // MIL output channel (the table `mil run` prints), which the test compares with `mil run`'s outputs.
  await step("run", async () => {
    await palette("MIL: Run with the reference interpreter");
    const input = page.locator(".quick-input-widget input");
    await page.locator(".quick-input-widget", { hasText: "Seed of the random inputs" }).waitFor({ state: "visible" });
    await input.fill(String(RUN_SEED));
    await page.keyboard.press("Enter");
    // The output channel's lines in order (monaco positions its line elements; their DOM order may differ).
    const outputLines = () =>
      page.evaluate(() =>
        [...document.querySelectorAll(".part.panel .monaco-editor .view-line")]
          .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
          .map((l) => l.textContent.replace(/\u00a0/g, " ")),
      );
    const end = Date.now() + 30000;
    let lines = [];
    let header = -1;
    while (Date.now() < end) {
      lines = await outputLines();
      header = lines.findLastIndex((l) => /^output\s+shape\s+dtype/.test(l));
      if (header >= 0 && lines.length > header + 1 && /\S/.test(lines[header + 1])) break;
      await page.waitForTimeout(500);
    }
    await shot("5-run");
    const table = header >= 0 ? lines.slice(header).filter((l) => l.trim() !== "") : [];
    const ran = lines.slice(0, Math.max(header, 0)).findLast((l) => l.includes("(seed")) ?? lines.join(" | ").slice(-300);
    record("run", table.length > 1, `${ran.trim()}\n${table.join("\n")}`, { seed: RUN_SEED, table });
  });

  // 9. Compile through the command palette; the package appears in the output folder.
  await step("compile", async () => {
    await palette("MIL: Compile to .mlpackage");
    const build = path.join(workspace, "build");
    const end = Date.now() + 20000;
    let found = [];
    while (Date.now() < end && found.length === 0) {
      await page.waitForTimeout(500);
      found = fs.existsSync(build) ? fs.readdirSync(build).filter((f) => f.endsWith(".mlpackage")) : [];
    }
    await page.locator("#status\\.notifications").click().catch(() => {});
    await page.waitForTimeout(500);
    const messages = await page.locator(".notifications-center .notification-list-item-message").allInnerTexts();
    await shot("6-compile");
    await page.locator("#status\\.notifications").click().catch(() => {});
    const detail = found.length ? `wrote build/${found[0]}` : `no package in build/; notifications: ${messages.join(" | ")}`;
    record("compile", found.length > 0, detail);
  });

  // 10. Decompile the package from the explorer's context menu; its text opens.
  await step("decompile", async () => {
    const build = page.locator(".explorer-folders-view .monaco-list-row", { hasText: /^build$/ });
    await build.first().waitFor({ timeout: 15000 });
    await build.first().click();
    const pkg = page.locator(".explorer-folders-view .monaco-list-row", { hasText: /\.mlpackage$/ });
    await pkg.first().waitFor({ timeout: 15000 });
    await pkg.first().click({ button: "right" });
    const item = page.locator(".context-view .action-label", { hasText: "Decompile a .mlpackage" });
    await item.first().waitFor({ state: "visible", timeout: 10000 });
    await shot("7-decompile-menu");
    await item.first().click();
    await page.waitForFunction(
      () => document.querySelector(".breadcrumbs-control")?.textContent.includes(".decompiled"),
      null,
      { timeout: 20000 },
    );
    await page.waitForTimeout(1000);
    await shot("8-decompiled");
    const body = await editorText();
    record("decompile", body.includes("rsqrt(x = ms_eps)"), `opened ${(await page.locator(".breadcrumbs-control").first().innerText()).replace(/\s+/g, " ")}`);
  });

  // 11. The placement report in a webview.
  await step("placement-report", async () => {
    await palette("MIL: Show placement report");
    const tab = page.locator(".tab", { hasText: `Placement: ${sampleName}` });
    await tab.first().waitFor({ timeout: 20000 });
    await page.waitForTimeout(2500);
    await shot("9-placement-report");
    record("placement-report", true, `webview tab "${(await tab.first().innerText()).trim()}"`);
  });
} catch (e) {
  record("harness", false, String(e));
  exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {}
  fs.writeFileSync(path.join(out, "results.json"), JSON.stringify(results, null, 2));
  if (!process.env.MIL_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
