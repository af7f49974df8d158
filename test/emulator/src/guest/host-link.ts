/**
 * The guest's line to the host driver. A guest's nvidia-smi is a shell script and cannot render
 * nvidia-smi's output itself; for the duration of one execInGuest call with GPU access, the host
 * listens on 127.0.0.1 (a random port, a random token) and runs nvidia-smi for the guest:
 *
 *   guest → host:  token \0 argc \0 service \0 args… \0        (bash /dev/tcp, lib/emu.sh emu_hostlink)
 *   host → guest:  "D<bytes>\n" <bytes> … then "X<exit code>\n"
 *
 * The guest sees the GPUs whose /dev/nvidia<minor> exist in its rootfs, renumbered from 0. A container
 * shares the host's kernel module: a different user-space driver gets nvidia-smi's version-mismatch
 * error. A VM (PCI passthrough) runs its own driver: its version is the one installed in the guest.
 * Closing the connection (the guest command was killed) stops a sampling loop.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { runNvidiaSmi, streamOutput, type GuestView, type Output } from '../nvidia/cli.js';
import { readGpuState } from '../nvidia/state.js';

export interface HostLink {
  /** Value of PVE_EMU_HOSTLINK in the guest command's environment: host:port/token. */
  spec: string;
  close(): Promise<void>;
}

/** Minor numbers of the /dev/nvidia<N> nodes in a guest rootfs. */
export async function guestGpuDeviceMinors(rootfs: string): Promise<number[]> {
  const names = await readdir(join(rootfs, 'dev')).catch(() => [] as string[]);
  return names
    .map((n) => /^nvidia(\d+)$/.exec(n)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

async function guestView(rootfs: string, stateDir: string, mode: 'container' | 'vm'): Promise<GuestView> {
  const installed = await readFile(join(rootfs, 'var/lib/emu/nvidia/userspace-version'), 'utf8').catch(() => null);
  const host = await readGpuState(stateDir).catch(() => null);
  const pci = await readFile(join(rootfs, 'var/lib/emu/nvidia/pci-gpus'), 'utf8').catch(() => '');
  return {
    visibleMinors: await guestGpuDeviceMinors(rootfs),
    pciBusIds: pci.split('\n').filter((l) => l !== ''),
    userspaceVersion: installed?.trim() ?? host?.driver?.version ?? '',
    ownDriver: mode === 'vm',
  };
}

/** nvidia-smi output to the guest side, framed as `D<length>\n<bytes>`. */
function socketOutput(socket: Socket): Output {
  const frame = (text: string): Buffer => {
    const body = Buffer.from(text, 'utf8');
    return Buffer.concat([Buffer.from(`D${body.length}\n`), body]);
  };
  return streamOutput(socket, frame, ['close', 'error']);
}

/** Parses token, argc and args; null until the request is complete. */
function parseRequest(buf: Buffer): string[] | null {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      parts.push(buf.subarray(start, i).toString('utf8'));
      start = i + 1;
      if (parts.length >= 2) {
        const argc = Number(parts[1]);
        if (!Number.isInteger(argc) || argc < 0) return [];
        if (parts.length === 2 + argc) return parts;
      }
    }
  }
  return null;
}

export async function startHostLink(rootfs: string, stateDir: string, mode: 'container' | 'vm' = 'container'): Promise<HostLink> {
  const token = randomBytes(16).toString('hex');
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk: Buffer) => {
      if (started) return;
      buf = Buffer.concat([buf, chunk]);
      const req = parseRequest(buf);
      if (req === null) return;
      started = true;
      void serve(socket, req);
    });
    socket.on('error', () => socket.destroy());
  });

  const serve = async (socket: Socket, req: string[]): Promise<void> => {
    const [gotToken, , service, ...args] = req;
    if (gotToken !== token || service !== 'nvidia-smi') {
      socket.end('X255\n');
      return;
    }
    const ac = new AbortController();
    socket.on('close', () => ac.abort());
    const out = socketOutput(socket);
    let code: number;
    try {
      code = await runNvidiaSmi(args, { stateDir, out, signal: ac.signal, guest: await guestView(rootfs, stateDir, mode) });
    } catch {
      code = 255;
    }
    if (!out.closed()) socket.end(`X${code}\n`);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    spec: `127.0.0.1:${port}/${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** True when the guest rootfs has the device node the driver is reached through. */
export async function guestHasNvidiactl(rootfs: string): Promise<boolean> {
  return stat(join(rootfs, 'dev/nvidiactl')).then(
    () => true,
    () => false,
  );
}
