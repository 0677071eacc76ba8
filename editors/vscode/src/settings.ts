/** The extension's settings, read from the `mil` section, and the part of them the server reads. */
import * as vscode from "vscode";

/** What the server is told (`initializationOptions` and `workspace/didChangeConfiguration`). */
export interface ServerSettings {
  deploymentTarget: string;
  chip: string;
  computeUnits: string;
  compileOnSave: boolean;
  outputFolder: string;
  calibrationFolder?: string;
  inlayHints: { device: boolean; parameterNames: boolean };
}

/** The `mil` configuration section. */
export function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration("mil");
}

/** The settings the server reads, with the defaults of package.json. */
export function serverSettings(): ServerSettings {
  const c = section();
  return {
    deploymentTarget: c.get("deploymentTarget", "ios18"),
    chip: c.get("chip", "m4"),
    computeUnits: c.get("computeUnits", "cpuAndNeuralEngine"),
    compileOnSave: c.get("compileOnSave", false),
    outputFolder: c.get("outputFolder", "build"),
    calibrationFolder: c.get<string>("calibrationFolder") || undefined,
    inlayHints: {
      device: c.get("inlayHints.device", true),
      parameterNames: c.get("inlayHints.parameterNames", true),
    },
  };
}

/**
 * The arguments that give `mil placement` of `doc` the settings the server uses for it: the
 * editor's chip and compute units, which the `mil.toml` nearest above the file overrides (the
 * text comes on standard input, so its path is passed for that file to be found).
 */
export function placementSettings(doc: vscode.TextDocument): string[] {
  const s = serverSettings();
  const args = ["--settings", JSON.stringify({ chip: s.chip, computeUnits: s.computeUnits })];
  if (doc.uri.scheme === "file") args.push("--stdin-path", doc.fileName);
  return args;
}
