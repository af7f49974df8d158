/**
 * `phoenix-certs`: makes the cluster CA and node/client certificates with the shared openssl
 * helpers, for installing agents by hand (the coordinator's `phoenix certs` uses the same functions).
 *
 *   phoenix-certs ca --dir /etc/phoenix/tls
 *   phoenix-certs issue --dir /etc/phoenix/tls --role agent --name pve1 --host pve1 --host 10.0.0.11
 *   phoenix-certs issue --dir /etc/phoenix/tls --role coordinator --name coord-a
 *
 * Prints the paths it wrote, never key material. Keys are created with mode 0600.
 */
import { parseArgs } from 'node:util';
import { ensureCa, exitCodeOf, ExitCode, issueCertificate, isPhoenixError, ROLES, type Role } from '@phoenix/shared';
import { isEntryModule } from './entry.js';

const USAGE = `usage:
  phoenix-certs ca --dir <dir>
  phoenix-certs issue --dir <dir> --role <${ROLES.join('|')}> --name <name> [--host <dns-or-ip>]... [--days <n>]`;

export async function certsMain(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        dir: { type: 'string' },
        role: { type: 'string' },
        name: { type: 'string' },
        host: { type: 'string', multiple: true },
        days: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`phoenix-certs: ${(err as Error).message}\n${USAGE}\n`);
    return ExitCode.INVALID;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || command === undefined || positionals.length > 1 || !values.dir) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? ExitCode.OK : ExitCode.INVALID;
  }
  try {
    if (command === 'ca') {
      out(await ensureCa(values.dir));
      return ExitCode.OK;
    }
    if (command === 'issue') {
      const role = ROLES.find((r) => r === values.role);
      if (!role || !values.name) {
        process.stderr.write(`phoenix-certs: issue needs --role (${ROLES.join(', ')}) and --name\n`);
        return ExitCode.INVALID;
      }
      const days = values.days === undefined ? undefined : Number(values.days);
      if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
        process.stderr.write(`phoenix-certs: --days must be a positive whole number (got ${JSON.stringify(values.days)})\n`);
        return ExitCode.INVALID;
      }
      const paths = await issueCertificate({
        dir: values.dir,
        role: role as Role,
        name: values.name,
        hosts: values.host ?? [],
        ...(days !== undefined ? { days } : {}),
      });
      out(`ca   ${paths.ca}`);
      out(`cert ${paths.cert}`);
      out(`key  ${paths.key}`);
      return ExitCode.OK;
    }
    process.stderr.write(`phoenix-certs: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
    return ExitCode.INVALID;
  } catch (err) {
    process.stderr.write(`phoenix-certs: ${isPhoenixError(err) ? err.message : String(err)}\n`);
    return exitCodeOf(err);
  }
}

if (isEntryModule(import.meta.url)) {
  // certsMain reports its own errors and never rejects; the exit code is all that is left to do.
  void certsMain(process.argv.slice(2)).then((code) => process.exit(code));
}
