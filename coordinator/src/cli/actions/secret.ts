/** `phoenix secret …`: see commands/secret.ts. */
import { readFile, writeFile } from 'node:fs/promises';
import { InvalidArgumentError } from '@phoenix/shared';
import { KvSecretBackend, checkSecretPath, generateKeyPem } from '../../secrets/index.js';
import { formatTable, parseFormat, render, type CliIO } from '../io.js';
import { openSession } from './cluster-session.js';

const MAX_SECRET_BYTES = 1 << 20;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function valueOf(opts: { fromFile?: string | undefined; stdin?: boolean | undefined }): Promise<string> {
  if ((opts.fromFile === undefined) === (opts.stdin !== true)) {
    throw new InvalidArgumentError('--from-file/--stdin', undefined, 'give exactly one source for the value');
  }
  let text: string;
  if (opts.fromFile !== undefined) {
    try {
      text = await readFile(opts.fromFile, 'utf8');
    } catch (cause) {
      throw new InvalidArgumentError('--from-file', opts.fromFile, 'cannot read the file', { cause });
    }
  } else text = await readStdin();
  text = text.replace(/\r?\n$/, '');
  if (text.length === 0) throw new InvalidArgumentError('value', '(empty)', 'a secret must not be empty');
  if (Buffer.byteLength(text) > MAX_SECRET_BYTES) throw new InvalidArgumentError('value', `${Buffer.byteLength(text)} bytes`, `at most ${MAX_SECRET_BYTES} bytes`);
  return text;
}

export async function putSecret(
  io: CliIO,
  path: string,
  opts: { fromFile?: string | undefined; stdin?: boolean | undefined; field: string; context?: string | undefined },
): Promise<void> {
  checkSecretPath('path', path);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(opts.field)) throw new InvalidArgumentError('--field', opts.field, 'field names are letters, digits, _ . -');
  const value = await valueOf(opts);
  const s = await openSession(opts.context);
  try {
    await new KvSecretBackend(s.store).write(path, { [opts.field]: value });
  } finally {
    await s.close();
  }
  io.err(`stored secret kv:${path} (field ${opts.field}, ${Buffer.byteLength(value)} bytes, sealed)\n`);
}

export async function removeSecret(io: CliIO, path: string, opts: { context?: string | undefined }): Promise<void> {
  checkSecretPath('path', path);
  const s = await openSession(opts.context);
  try {
    const had = await new KvSecretBackend(s.store).remove(path);
    io.err(had ? `removed secret kv:${path}\n` : `no secret at kv:${path}\n`);
  } finally {
    await s.close();
  }
}

export async function listSecrets(io: CliIO, opts: { context?: string | undefined; output: string }): Promise<void> {
  const format = parseFormat(opts.output);
  const s = await openSession(opts.context);
  try {
    const paths = await new KvSecretBackend(s.store).list();
    await render(io, format, { secrets: paths }, () => formatTable(['PATH'], paths.map((p) => [p])));
  } finally {
    await s.close();
  }
}

export async function keygen(io: CliIO, opts: { out: string }): Promise<void> {
  try {
    await writeFile(opts.out, generateKeyPem(), { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
    throw new InvalidArgumentError('--out', opts.out, exists ? 'exists already (a key is never overwritten)' : 'cannot write the file', { cause });
  }
  io.err(`wrote a new secrets key to ${opts.out}; give it to every coordinator as secrets.keyFile (LoadCredential=)\n`);
}
