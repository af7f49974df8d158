/** Import warnings: what was dropped, guessed or changed, each tied to where it came from. */

export interface ImportWarning {
  /** File and key path in the source, e.g. `phoenix_lxc_configs.json:lxc_configs.950.vllm_parameters`. */
  readonly source: string;
  readonly message: string;
}

export class Warnings {
  readonly list: ImportWarning[] = [];
  add(source: string, message: string): void {
    this.list.push({ source, message });
  }
}

export function formatWarning(w: ImportWarning): string {
  return `warning: ${w.source}: ${w.message}`;
}
