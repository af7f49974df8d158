/**
 * The NVIDIA .run installer a host downloads before `pct push`-ing it into a CT. The emulator's
 * stand-in is a shell script (guest-shims/payload/nvidia-runfile.sh) that installs the user-space
 * driver of that version when run in a guest with --no-kernel-module. The guest's own curl/wget
 * serve the same content for NVIDIA-Linux-x86_64-<version>.run URLs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { guestShimsDir } from './rootfs.js';

export async function nvidiaRunfile(version: string): Promise<string> {
  const template = await readFile(join(await guestShimsDir(), 'payload', 'nvidia-runfile.sh'), 'utf8');
  return template.replaceAll('@VERSION@', version);
}
