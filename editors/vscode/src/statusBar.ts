/**
 * The status bar item: the share of the active MIL document's ops that run on the Neural Engine,
 * from `mil placement --format json` on the document's current text (chip and compute units from
 * the settings). Recomputed shortly after the text stops changing.
 */
import * as vscode from "vscode";
import { aneShare, run } from "./cli";
import { placementSettings } from "./settings";

/** Keeps the item up to date with the active editor. */
export class AneStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("mil.aneShare", vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;

  constructor(
    private readonly server: () => string | undefined,
    private readonly log: vscode.OutputChannel,
  ) {
    this.item.name = "MIL: share of ops on the Neural Engine";
    this.item.command = "mil.showPlacementReport";
    this.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule(0)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) this.schedule(400);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("mil")) this.schedule(0);
      }),
    );
    this.schedule(0);
  }

  /** Recomputes after `delay` ms, replacing any pending update. */
  schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), delay);
  }

  private async update(): Promise<void> {
    const doc = vscode.window.activeTextEditor?.document;
    const bin = this.server();
    if (!doc || doc.languageId !== "mil" || !bin) {
      this.item.hide();
      return;
    }
    const generation = ++this.generation;
    const args = ["placement", "--format", "json", ...placementSettings(doc), "-"];
    try {
      const r = await run(bin, args, doc.getText());
      if (generation !== this.generation) return;
      if (r.stdout.trim() === "") throw new Error(r.stderr.trim() || `exit ${r.code}`);
      const { aneOps, ops, chip, computeUnits } = aneShare(r.stdout);
      const percent = ops === 0 ? 0 : Math.round((100 * aneOps) / ops);
      this.item.text = `$(circuit-board) ANE ${percent}%`;
      this.item.tooltip = `${aneOps} of ${ops} ops on the Neural Engine (${chip}, ${computeUnits}). Click for the placement report.`;
    } catch (e) {
      if (generation !== this.generation) return;
      this.item.text = "$(circuit-board) ANE ?";
      this.item.tooltip = `mil placement failed: ${String(e)}`;
      this.log.appendLine(`status bar: mil placement failed: ${String(e)}`);
    }
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.item.dispose();
    this.subscriptions.forEach((s) => s.dispose());
  }
}
