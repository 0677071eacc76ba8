/**
 * The extension's commands: compile the document (the server's `mil.compile`, else `mil compile`),
 * run the document with the reference interpreter (the server's `mil.run`), show the placement
 * report in a webview, decompile a package into MIL text, restart the server.
 */
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { ExecuteCommandRequest, LanguageClient } from "vscode-languageclient/node";
import { run } from "./cli";
import { placementSettings, section } from "./settings";

/** What the commands need from the extension. */
export interface Host {
  client(): LanguageClient | undefined;
  server(): string | undefined;
  restart(): Promise<void>;
  log: vscode.OutputChannel;
}

function activeMilDocument(): vscode.TextDocument | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  if (doc?.languageId === "mil") return doc;
  void vscode.window.showErrorMessage("Open a MIL file first.");
  return undefined;
}

function serverCommands(client: LanguageClient): string[] {
  return client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
}

/** The output folder: `mil.outputFolder` inside the document's workspace folder (else beside it). */
function outputFolder(near: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(near)?.uri.fsPath ?? path.dirname(near.fsPath);
  return path.resolve(folder, section().get("outputFolder", "build"));
}

/**
 * Saves the document and compiles it: through the server's `mil.compile` when it offers it (with
 * its progress and messages), else with `mil compile FILE -o OUTPUT/NAME.mlpackage`.
 */
async function compile(host: Host): Promise<string | undefined> {
  const doc = activeMilDocument();
  if (!doc) return undefined;
  if (doc.isUntitled || doc.uri.scheme !== "file") {
    void vscode.window.showErrorMessage("MIL: save the file first; weights resolve beside it.");
    return undefined;
  }
  await doc.save();
  const client = host.client();
  const report = (where: string) => {
    host.log.appendLine(`compiled ${doc.uri.fsPath} to ${where}`);
    void vscode.window.showInformationMessage(`MIL: compiled to ${where}`);
    return where;
  };
  const fail = (why: string) => {
    host.log.appendLine(`compile ${doc.uri.fsPath} failed: ${why}`);
    void vscode.window.showErrorMessage(`MIL: compile failed: ${why}`);
    return undefined;
  };
  if (client?.isRunning() && serverCommands(client).includes("mil.compile")) {
    try {
      const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
        command: "mil.compile",
        arguments: [doc.uri.toString()],
      });
      return report(typeof result === "string" ? result : JSON.stringify(result));
    } catch (e) {
      return fail(e instanceof Error ? e.message : String(e));
    }
  }
  const bin = host.server();
  if (!bin) return fail("the `mil` binary was not found");
  host.log.appendLine("compile: the server does not offer mil.compile; running `mil compile`");
  const target = path.join(outputFolder(doc.uri), `${path.parse(doc.fileName).name}.mlpackage`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const r = await run(bin, ["compile", doc.fileName, "-o", target]);
  return r.code === 0 ? report(target) : fail(r.stderr.trim() || `exit ${r.code}`);
}

/**
 * Runs the document's `main` with the server's `mil.run` on inputs made up from a seed the user
 * gives (with the server's progress), and shows each output's statistics in the MIL output channel.
 */
async function runDocument(host: Host): Promise<void> {
  const doc = activeMilDocument();
  const client = host.client();
  if (!doc) return;
  if (!client?.isRunning() || !serverCommands(client).includes("mil.run")) {
    void vscode.window.showErrorMessage("MIL: the language server does not offer mil.run");
    return;
  }
  const seed = await vscode.window.showInputBox({
    prompt: "Seed of the random inputs",
    value: "0",
    validateInput: (v) => (/^[0-9]+$/.test(v) ? undefined : "a whole number"),
  });
  if (seed === undefined) return;
  try {
    const result = (await client.sendRequest(ExecuteCommandRequest.type, {
      command: "mil.run",
      arguments: [doc.uri.toString(), { seed: Number(seed) }],
    })) as { message: string; table: string };
    host.log.appendLine(`${doc.uri.fsPath}: ${result.message} (seed ${seed})`);
    host.log.append(result.table);
    host.log.show(true);
    void vscode.window.showInformationMessage(`MIL: ${result.message}`);
  } catch (e) {
    void vscode.window.showErrorMessage(`MIL: run failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Quantises the document to W8A8 with the server's `mil.w8a8` (progress per calibration sample).
 * Without a `mil.calibrationFolder` it asks for the folder of samples and stores it in the
 * workspace's settings first.
 */
async function quantizeW8a8(host: Host): Promise<void> {
  const doc = activeMilDocument();
  const client = host.client();
  if (!doc) return;
  if (!client?.isRunning() || !serverCommands(client).includes("mil.w8a8")) {
    void vscode.window.showErrorMessage("MIL: the server does not offer mil.w8a8 (run `mil quantize --mode w8a8`)");
    return;
  }
  await doc.save();
  if (!section().get<string>("calibrationFolder")) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      openLabel: "Calibrate with this folder",
      title: "The calibration samples: .npz files with an array per input (or .npy for a one-input model)",
    });
    if (!picked) return;
    await section().update("calibrationFolder", picked[0].fsPath, vscode.ConfigurationTarget.Workspace);
  }
  try {
    const result = (await client.sendRequest(ExecuteCommandRequest.type, {
      command: "mil.w8a8",
      arguments: [doc.uri.toString()],
    })) as { path?: string; message?: string } | undefined;
    host.log.appendLine(result?.message ?? `quantized ${doc.uri.fsPath}`);
    if (result?.path) await vscode.window.showTextDocument(vscode.Uri.file(result.path));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    host.log.appendLine(`w8a8 ${doc.uri.fsPath} failed: ${why}`);
  }
}

/** Shows `mil placement --format html` of the document in a webview beside it. */
async function showPlacement(host: Host): Promise<void> {
  const doc = activeMilDocument();
  const bin = host.server();
  if (!doc || !bin) return;
  const args = ["placement", "--format", "html", ...placementSettings(doc), "-"];
  const r = await run(bin, args, doc.getText());
  if (r.stdout.trim() === "") {
    void vscode.window.showErrorMessage(`MIL: mil placement failed: ${r.stderr.trim()}`);
    return;
  }
  if (r.code !== 0) host.log.appendLine(`placement: ${r.stderr.trim()}`);
  const panel = vscode.window.createWebviewPanel(
    "milPlacement",
    `Placement: ${path.basename(doc.fileName)}`,
    vscode.ViewColumn.Beside,
    { enableScripts: false },
  );
  panel.webview.html = r.stdout;
}

/**
 * Asks for a package (or takes the one clicked in the explorer), decompiles it with `mil decompile`
 * into OUTPUT/NAME.decompiled/NAME.mil (its weights beside it, nothing of the user's overwritten)
 * and opens the text.
 */
async function decompile(host: Host, clicked?: vscode.Uri): Promise<void> {
  const bin = host.server();
  if (!bin) return;
  let pkg = clicked;
  if (!pkg) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: "Decompile",
      title: "A .mlpackage to decompile",
    });
    pkg = picked?.[0];
  }
  if (!pkg) return;
  const name = path.parse(pkg.fsPath).name;
  const target = path.join(outputFolder(pkg), `${name}.decompiled`, `${name}.mil`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const r = await run(bin, ["decompile", pkg.fsPath, "-o", target]);
  if (r.code !== 0) {
    const why = r.stderr.trim() || `exit ${r.code}`;
    host.log.appendLine(`decompile ${pkg.fsPath} failed: ${why}`);
    void vscode.window.showErrorMessage(`MIL: cannot decompile ${path.basename(pkg.fsPath)}: ${why}`);
    return;
  }
  host.log.appendLine(`decompiled ${pkg.fsPath} to ${target}`);
  await vscode.window.showTextDocument(vscode.Uri.file(target));
}

/** Registers the commands. */
export function register(host: Host): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("mil.compileFile", () => compile(host)),
    vscode.commands.registerCommand("mil.runFile", () => runDocument(host)),
    vscode.commands.registerCommand("mil.showPlacementReport", () => showPlacement(host)),
    vscode.commands.registerCommand("mil.quantizeW8A8", () => quantizeW8a8(host)),
    vscode.commands.registerCommand("mil.decompilePackage", (uri?: vscode.Uri) => decompile(host, uri)),
    vscode.commands.registerCommand("mil.restartServer", () => host.restart()),
  ];
}
