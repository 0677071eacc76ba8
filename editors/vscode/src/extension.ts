/**
 * The MIL extension: starts `mil lsp` for MIL documents through vscode-languageclient, and adds
 * the commands and the Neural Engine status bar item.
 */
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions } from "vscode-languageclient/node";
import * as commands from "./commands";
import { resolveServer } from "./serverPath";
import { serverSettings, section } from "./settings";
import { AneStatus } from "./statusBar";

let client: LanguageClient | undefined;
let serverPath: string | undefined;

/** Finds the binary (logging how) and starts a client on it. */
async function start(log: vscode.OutputChannel): Promise<void> {
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const found = resolveServer(section().get("server.path", ""), process.env.PATH, cwd);
  found.log.forEach((line) => log.appendLine(`server: ${line}`));
  serverPath = found.path;
  if (!serverPath) {
    const action = await vscode.window.showErrorMessage(
      "MIL: the `mil` language server was not found. Set mil.server.path or put `mil` on PATH.",
      "Open settings",
    );
    if (action) void vscode.commands.executeCommand("workbench.action.openSettings", "mil.server.path");
    return;
  }
  const server: ServerOptions = { command: serverPath, args: ["lsp"] };
  const options: LanguageClientOptions = {
    documentSelector: [{ language: "mil" }],
    initializationOptions: { mil: serverSettings() },
    synchronize: { configurationSection: "mil" },
    outputChannel: log,
    traceOutputChannel: log,
  };
  client = new LanguageClient("mil", "MIL language server", server, options);
  await client.start();
  const info = client.initializeResult?.serverInfo;
  log.appendLine(`server: started ${serverPath} (${info?.name ?? "mil"} ${info?.version ?? ""})`);
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (c?.isRunning()) await c.stop();
}

/** Activates on the first MIL document. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("MIL");
  const restart = async () => {
    log.appendLine("server: restarting");
    await stop();
    await start(log);
  };
  context.subscriptions.push(
    log,
    ...commands.register({ client: () => client, server: () => serverPath, restart, log }),
    new AneStatus(() => serverPath, log),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("mil.server.path")) void restart();
    }),
  );
  try {
    await start(log);
  } catch (e) {
    log.appendLine(`server: failed to start: ${String(e)}`);
    void vscode.window.showErrorMessage(`MIL: the language server failed to start: ${String(e)}`);
  }
}

/** Stops the server. */
export function deactivate(): Promise<void> {
  return stop();
}
