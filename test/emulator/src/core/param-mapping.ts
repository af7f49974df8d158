import fs from 'node:fs';
import type { Params } from './cli-args.js';
import { die } from './errors.js';

/**
 * The CLI tools' param_mapping (PVE::CLI::qm, PVE::CLI::pct): options whose value on the command
 * line names a file; RESTHandler::cli_handler replaces it with the file's contents before the
 * API method sees it (replace_file_names_with_contents).
 */
type Mapper = (value: string) => string;

/** PVE::File::file_get_contents (pmxcfs' 1 MiB limit, Perl's $! texts). */
export function fileGetContents(file: string): Buffer {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') die(`unable to read file '${file}' - Is a directory`);
    die(`can't open '${file}' - ${STRERROR[code ?? ''] ?? (err as Error).message}`);
  }
  if (data.length > 1024 * 1024) die(`file '${file}' too long - aborting`);
  return data;
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
};

/** URI::Escape::uri_escape: every byte but A-Z a-z 0-9 - . _ ~ becomes %XX. */
export function uriEscape(data: Buffer): string {
  let out = '';
  for (const b of data) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** URI::Escape::uri_unescape: %XX sequences become bytes, everything else stays. */
export function uriUnescape(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const m = /^%([0-9A-Fa-f]{2})/.exec(text.slice(i, i + 3));
    if (m) {
      bytes.push(parseInt(m[1] ?? '0', 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const sshKeyMap: Mapper = (file) => uriEscape(fileGetContents(file));
const fileContents: Mapper = (file) => fileGetContents(file).toString('utf8');

const MAPPINGS: Record<string, Record<string, Record<string, Mapper>>> = {
  // qm: 'update_vm' and 'create_vm' => [$ssh_key_map, $cipassword_map] (the password map is interactive only).
  qm: { set: { sshkeys: sshKeyMap }, create: { sshkeys: sshKeyMap } },
  // pct: 'create_vm' => [pve-password, 'ssh-public-keys'] (a plain name reads the file).
  pct: { create: { 'ssh-public-keys': fileContents } },
};

/** Replaces mapped option values by what the CLI reads for them. */
export function applyParamMapping(tool: string, command: string, params: Params): void {
  const map = MAPPINGS[tool]?.[command];
  if (!map) return;
  for (const [opt, fn] of Object.entries(map)) {
    const v = params[opt];
    if (typeof v === 'string') params[opt] = fn(v);
  }
}
