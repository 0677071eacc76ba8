/**
 * The extension's commands: compile the document (the server's `mil.compile`), show the placement
 * report in a webview, decompile a package into MIL text, restart the server.
 */
import * as path from "path";
import * as vscode from "vscode";
import { ExecuteCommandRequest, LanguageClient } from "vscode-languageclient/node";
import { run } from "./cli";
import { section } from "./settings";

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

/** Saves the document and asks the server to compile it; reports where the package went. */
async function compile(host: Host): Promise<string | undefined> {
  const doc = activeMilDocument();
  const client = host.client();
  if (!doc) return undefined;
  if (!client?.isRunning()) {
    void vscode.window.showErrorMessage("The MIL language server is not running (see the MIL output).");
    return undefined;
  }
  if (!serverCommands(client).includes("mil.compile")) {
    const version = client.initializeResult?.serverInfo?.version ?? "unknown";
    const message = `This mil server (${version}) does not offer compiling (mil.compile) yet.`;
    host.log.appendLine(message);
    void vscode.window.showErrorMessage(message);
    return undefined;
  }
  await doc.save();
  try {
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
      command: "mil.compile",
      arguments: [doc.uri.toString()],
    });
    const where = typeof result === "string" ? result : JSON.stringify(result);
    host.log.appendLine(`compiled ${doc.uri.fsPath}: ${where}`);
    void vscode.window.showInformationMessage(`MIL: compiled to ${where}`);
    return where;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    host.log.appendLine(`compile failed: ${message}`);
    void vscode.window.showErrorMessage(`MIL: compile failed: ${message}`);
    return undefined;
  }
}

/** Shows `mil placement --format html` of the document in a webview beside it. */
async function showPlacement(host: Host): Promise<void> {
  const doc = activeMilDocument();
  const bin = host.server();
  if (!doc || !bin) return;
  const c = section();
  const args = ["placement", "--format", "html", "--chip", c.get("chip", "m4")];
  args.push("--compute-units", c.get("computeUnits", "all"), "-");
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

/** Asks for a package (or takes the one clicked in the explorer) and opens its MIL text. */
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
  const r = await run(bin, ["decompile", pkg.fsPath]);
  if (r.code !== 0 || r.stdout === "") {
    const why = r.stderr.trim() || `exit ${r.code}`;
    host.log.appendLine(`decompile ${pkg.fsPath} failed: ${why}`);
    void vscode.window.showErrorMessage(`MIL: cannot decompile ${path.basename(pkg.fsPath)}: ${why}`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument({ language: "mil", content: r.stdout });
  await vscode.window.showTextDocument(doc);
}

/** Registers the commands. */
export function register(host: Host): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("mil.compileFile", () => compile(host)),
    vscode.commands.registerCommand("mil.showPlacementReport", () => showPlacement(host)),
    vscode.commands.registerCommand("mil.decompilePackage", (uri?: vscode.Uri) => decompile(host, uri)),
    vscode.commands.registerCommand("mil.restartServer", () => host.restart()),
  ];
}
