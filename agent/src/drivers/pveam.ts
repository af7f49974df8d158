/** `pveam`: container templates (docs/reference/proxmox-cli.md §6). */
import { InvalidArgumentError } from '@phoenix/shared';
import * as a from './args.js';
import { parsePveamAvailable, parsePveamList } from './parse-pve.js';
import { withCallOptions, type CommandExecutor } from './run.js';
import type { CallOptions, PveamDriver } from './types.js';

const SECTIONS = new Set(['system', 'mail', 'turnkeylinux']);

export class Pveam implements PveamDriver {
  constructor(private readonly exec_: CommandExecutor) {}

  private run(args: string[], mutating: boolean, opts: CallOptions = {}, timeoutMs?: number) {
    return this.exec_.run(withCallOptions({ tool: 'pveam', args, mutating }, opts, timeoutMs));
  }

  async list(storage: string, opts?: CallOptions) {
    return parsePveamList((await this.run(['list', a.storageId(storage)], false, opts)).stdout);
  }

  async available(section?: string, opts?: CallOptions) {
    const args = ['available'];
    if (section !== undefined) {
      if (!SECTIONS.has(section)) {
          throw new InvalidArgumentError('section', section, 'must be system, mail or turnkeylinux');
      }
      args.push('--section', section);
    }
    return parsePveamAvailable((await this.run(args, false, opts)).stdout);
  }

  async update(opts?: CallOptions) {
    await this.run(['update'], true, opts, 10 * 60_000);
  }

  async download(storage: string, template: string, opts?: CallOptions) {
    await this.run(['download', a.storageId(storage), a.templateName(template)], true, opts, 60 * 60_000);
  }
}
