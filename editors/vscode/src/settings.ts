/** The extension's settings, read from the `mil` section, and the part of them the server reads. */
import * as vscode from "vscode";

/** What the server is told (`initializationOptions` and `workspace/didChangeConfiguration`). */
export interface ServerSettings {
  deploymentTarget: string;
  chip: string;
  computeUnits: string;
  compileOnSave: boolean;
  outputFolder: string;
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
    computeUnits: c.get("computeUnits", "all"),
    compileOnSave: c.get("compileOnSave", false),
    outputFolder: c.get("outputFolder", "build"),
    inlayHints: {
      device: c.get("inlayHints.device", true),
      parameterNames: c.get("inlayHints.parameterNames", true),
    },
  };
}
