/**
 * Guest root filesystems. A base rootfs per distribution is built once per machine and cached
 * under `$PVE_EMU_ROOTFS_CACHE` (default `<tmpdir>/phoenix-emu-rootfs-v<N>`), keyed by a hash of
 * everything that goes into it (shim scripts, package catalogue, host binaries), so a change to a
 * shim rebuilds it. Each guest gets a full copy (`cp -a`), never links: a guest writing into one of
 * its files must not change the base or another guest.
 *
 * Contents: merged-/usr layout; bash, dash (/bin/sh) and the host's busybox (a vetted subset of
 * applets only: nothing that mounts, reboots, sets the clock or hostname, signals other processes
 * or touches the network); the emulator's shims under /usr/lib/emu; /etc of the distribution;
 * /dev/null, zero, full, random, urandom as real device nodes; the packages of the template
 * installed through the same code path apt-get uses in the guest.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, copyFile, lstat, mkdir, open, readdir, readFile, realpath, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GuestError } from './errors.js';
import { guestOsFor, type GuestOs } from './os-template.js';
import { ESSENTIAL, packageCatalog, type PackageDef } from './packages.js';
import { runTool } from './proc.js';

export const ROOTFS_BUILDER_VERSION = 1;

/** Busybox applets a guest may use: file and text tools only. */
export const SAFE_APPLETS = [
  '[', '[[', 'awk', 'base64', 'basename', 'bc', 'bunzip2', 'bzcat', 'bzip2', 'cal', 'cat', 'chgrp', 'chmod',
  'chown', 'clear', 'cmp', 'cp', 'cpio', 'cut', 'dc', 'dd', 'diff', 'dirname', 'dos2unix', 'du', 'echo', 'ed',
  'egrep', 'env', 'expand', 'expr', 'factor', 'false', 'fgrep', 'find', 'fold', 'free', 'getopt', 'grep', 'groups',
  'gunzip', 'gzip', 'head', 'hexdump', 'id', 'less', 'link', 'ln', 'logger', 'logname', 'ls', 'lzcat', 'md5sum',
  'mkdir', 'mkfifo', 'mktemp', 'more', 'mv', 'nl', 'nproc', 'od', 'paste', 'patch', 'pidof', 'printf', 'ps', 'pwd',
  'readlink', 'realpath', 'rev', 'rm', 'rmdir', 'run-parts', 'sed', 'seq', 'setsid', 'sha1sum', 'sha256sum',
  'sha512sum', 'shuf', 'sleep', 'sort', 'stat', 'strings', 'stty', 'sync', 'tac', 'tail', 'tar', 'tee', 'test',
  'time', 'timeout', 'touch', 'tr', 'true', 'truncate', 'tty', 'uname', 'uniq', 'unlink', 'unxz', 'uptime',
  'usleep', 'uudecode', 'uuencode', 'vi', 'wc', 'which', 'whoami', 'xargs', 'xxd', 'xz', 'xzcat', 'yes', 'zcat',
];

const here = dirname(fileURLToPath(import.meta.url));

/** The guest-shims folder, from the sources (test/emulator/src/guest) or the build (test/dist/emulator/src/guest). */
export async function guestShimsDir(): Promise<string> {
  for (const candidate of [join(here, '..', '..', 'guest-shims'), join(here, '..', '..', '..', '..', 'emulator', 'guest-shims')]) {
    try {
      await access(join(candidate, 'lib', 'emu.sh'));
      return candidate;
    } catch {
      // try the next layout
    }
  }
  throw new GuestError('EMU_GUEST_TOOL_MISSING', `guest-shims not found near ${here}`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** First existing absolute path of a host tool, or null. */
export async function hostTool(name: string): Promise<string | null> {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin']) {
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return null;
}

async function requireTool(name: string, hint: string): Promise<string> {
  const p = await hostTool(name);
  if (p === null) throw new GuestError('EMU_GUEST_TOOL_MISSING', `${name} not found on this machine (${hint})`);
  return p;
}

/** Shared libraries (and the loader) a dynamic binary needs, from ldd. */
async function librariesOf(binary: string): Promise<string[]> {
  const ldd = await hostTool('ldd');
  if (ldd === null) return [];
  const r = await runTool(ldd, [binary]);
  if (r.code !== 0) return [];
  const libs: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1] !== undefined) libs.push(m[1]);
  }
  return libs;
}

/** Where a host path lands in the merged-/usr guest: /lib/x → /usr/lib/x, /usr/lib/x stays. */
function usrPath(p: string): string {
  return p.startsWith('/usr/') ? p : `/usr${p}`;
}

async function copyHostBinary(root: string, hostPath: string, guestPath: string): Promise<void> {
  await mkdir(dirname(join(root, guestPath)), { recursive: true });
  await copyFile(await realpath(hostPath), join(root, guestPath));
  await chmod(join(root, guestPath), 0o755);
  for (const lib of await librariesOf(hostPath)) {
    const dest = join(root, usrPath(lib));
    if (await exists(dest)) continue;
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(await realpath(lib), dest);
    await chmod(dest, 0o755);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

async function hostBinaries(): Promise<{ bash: string; dash: string | null; busybox: string; jq: string | null }> {
  return {
    bash: await requireTool('bash', 'install bash'),
    dash: await hostTool('dash'),
    busybox: await requireTool('busybox', 'install busybox-static'),
    jq: await hostTool('jq'),
  };
}

/** Hash of everything that goes into a base rootfs of this distribution. */
async function baseKey(os: GuestOs): Promise<string> {
  const h = createHash('sha256');
  h.update(`v${ROOTFS_BUILDER_VERSION}\0${JSON.stringify(os)}\0${JSON.stringify(packageCatalog(os))}\0`);
  h.update(SAFE_APPLETS.join(','));
  const shims = await guestShimsDir();
  for (const f of await listFiles(shims)) {
    h.update(relative(shims, f));
    h.update(await readFile(f));
  }
  for (const b of Object.values(await hostBinaries())) {
    if (b === null) continue;
    const s = await stat(b);
    h.update(`${b}:${s.size}:${s.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

export function rootfsCacheDir(): string {
  return process.env['PVE_EMU_ROOTFS_CACHE'] ?? join(tmpdir(), `phoenix-emu-rootfs-v${ROOTFS_BUILDER_VERSION}`);
}

const DIRS: [string, number][] = [
  ['usr/bin', 0o755], ['usr/sbin', 0o755], ['usr/lib', 0o755], ['usr/lib64', 0o755], ['usr/libexec', 0o755],
  ['usr/local/bin', 0o755], ['usr/local/sbin', 0o755], ['usr/local/lib', 0o755], ['usr/local/share/ca-certificates', 0o755],
  ['usr/share/doc', 0o755], ['usr/share/keyrings', 0o755], ['usr/lib/systemd/system', 0o755],
  ['etc/apt/sources.list.d', 0o755], ['etc/apt/keyrings', 0o755], ['etc/apt/trusted.gpg.d', 0o755],
  ['etc/apt/preferences.d', 0o755], ['etc/apt/apt.conf.d', 0o755], ['etc/default', 0o755], ['etc/ssl/certs', 0o755],
  ['etc/systemd/system/multi-user.target.wants', 0o755], ['etc/profile.d', 0o755],
  ['var/lib/apt/lists/partial', 0o755], ['var/lib/dpkg/info', 0o755], ['var/lib/dpkg/updates', 0o755],
  ['var/cache/apt/archives/partial', 0o755], ['var/log/apt', 0o755], ['var/lib/emu', 0o755], ['var/tmp', 0o1777],
  ['var/spool', 0o755], ['var/mail', 0o2775], ['run/lock', 0o1777], ['tmp', 0o1777], ['root', 0o700], ['home', 0o755],
  ['opt', 0o755], ['srv', 0o755], ['mnt', 0o755], ['media', 0o755], ['proc', 0o555], ['sys', 0o555],
  ['dev/pts', 0o755], ['dev/shm', 0o1777], ['boot', 0o755],
];

const DEVICES: [string, number, number, number][] = [
  ['null', 1, 3, 0o666], ['zero', 1, 5, 0o666], ['full', 1, 7, 0o666], ['random', 1, 8, 0o666], ['urandom', 1, 9, 0o666],
];

function passwd(os: GuestOs): string {
  const lines = [
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
    'bin:x:2:2:bin:/bin:/usr/sbin/nologin',
    'sys:x:3:3:sys:/dev:/usr/sbin/nologin',
    'sync:x:4:65534:sync:/bin:/bin/sync',
    'games:x:5:60:games:/usr/games:/usr/sbin/nologin',
    'man:x:6:12:man:/var/cache/man:/usr/sbin/nologin',
    'lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin',
    'mail:x:8:8:mail:/var/mail:/usr/sbin/nologin',
    'news:x:9:9:news:/var/spool/news:/usr/sbin/nologin',
    'uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin',
    'proxy:x:13:13:proxy:/bin:/usr/sbin/nologin',
    'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
    'backup:x:34:34:backup:/var/backups:/usr/sbin/nologin',
    'list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin',
    'irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin',
    '_apt:x:42:65534::/nonexistent:/usr/sbin/nologin',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    'systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin',
    'messagebus:x:100:101::/nonexistent:/usr/sbin/nologin',
    'sshd:x:101:65534::/run/sshd:/usr/sbin/nologin',
  ];
  if (os.id === 'ubuntu') lines.push('ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash');
  return `${lines.join('\n')}\n`;
}

function group(os: GuestOs): string {
  const names: [string, number][] = [
    ['root', 0], ['daemon', 1], ['bin', 2], ['sys', 3], ['adm', 4], ['tty', 5], ['disk', 6], ['lp', 7], ['mail', 8],
    ['news', 9], ['uucp', 10], ['man', 12], ['proxy', 13], ['kmem', 15], ['dialout', 20], ['fax', 21], ['voice', 22],
    ['cdrom', 24], ['floppy', 25], ['tape', 26], ['sudo', 27], ['audio', 29], ['dip', 30], ['www-data', 33],
    ['backup', 34], ['operator', 37], ['list', 38], ['irc', 39], ['src', 40], ['shadow', 42], ['utmp', 43],
    ['video', 44], ['sasl', 45], ['plugdev', 46], ['staff', 50], ['games', 60], ['users', 100], ['nogroup', 65534],
    ['systemd-journal', 999], ['systemd-network', 998], ['messagebus', 101],
  ];
  const lines = names.map(([n, gid]) => `${n}:x:${gid}:${os.id === 'ubuntu' && (n === 'sudo' || n === 'adm') ? 'ubuntu' : ''}`);
  if (os.id === 'ubuntu') lines.push('ubuntu:x:1000:');
  return `${lines.join('\n')}\n`;
}

function shadowOf(passwdText: string): string {
  return passwdText
    .trim()
    .split('\n')
    .map((l) => `${l.split(':')[0]}:${l.startsWith('root:') ? '!' : '*'}:19900:0:99999:7:::`)
    .join('\n')
    .concat('\n');
}

function hostsFile(hostname: string, ip?: string): string {
  return (
    '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n' +
    `# --- BEGIN PVE ---\n${ip ?? '127.0.1.1'} ${hostname}\n# --- END PVE ---\n`
  );
}

async function writeText(root: string, path: string, text: string, mode = 0o644): Promise<void> {
  const p = join(root, path);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, text, { mode });
  await chmod(p, mode);
}

function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

async function materialisePackages(root: string, os: GuestOs, shims: string): Promise<void> {
  const pkgRoot = join(root, 'usr/lib/emu/apt/pkgs');
  for (const p of packageCatalog(os)) await materialisePackage(pkgRoot, p, shims);
}

async function materialisePackage(pkgRoot: string, p: PackageDef, shims: string): Promise<void> {
  const dir = join(pkgRoot, p.name);
  await mkdir(join(dir, 'root'), { recursive: true });
  const meta = {
    PKG_NAME: p.name,
    PKG_VERSION: p.version,
    PKG_SECTION: p.section,
    PKG_MAINTAINER: p.maintainer,
    PKG_DESC: p.description,
    PKG_SIZE: String(p.installedSize),
    PKG_REPOS: p.repos.join(' '),
    PKG_DEPENDS: p.depends.join(' '),
    PKG_SERVICES: p.services.join(' '),
    PKG_POSTINST: p.postinst ?? '',
  };
  await writeFile(
    join(dir, 'meta'),
    `${Object.entries(meta)
      .map(([k, v]) => `${k}=${shellQuote(v)}`)
      .join('\n')}\n`,
  );
  for (const [path, spec] of Object.entries(p.files)) {
    const dest = join(dir, 'root', path);
    await mkdir(dirname(dest), { recursive: true });
    if ('link' in spec) await symlink(spec.link, dest);
    else if ('shim' in spec) {
      await copyFile(join(shims, 'bin', spec.shim), dest);
      await chmod(dest, spec.mode ?? 0o755);
    } else {
      await writeFile(dest, spec.text);
      await chmod(dest, spec.mode ?? 0o644);
    }
  }
}

async function makeDevice(root: string, name: string, major: number, minor: number, mode: number, asRoot: boolean): Promise<void> {
  const p = join(root, 'dev', name);
  if (asRoot) {
    const r = await runTool(await requireTool('mknod', 'coreutils'), ['-m', mode.toString(8), p, 'c', String(major), String(minor)]);
    if (r.code === 0) return;
  }
  // Without CAP_MKNOD a regular file stands in (writes to it are kept, unlike /dev/null's).
  await writeFile(p, '', { mode });
}

async function buildBase(os: GuestOs, dest: string, key: string): Promise<void> {
  const root = dest;
  const shims = await guestShimsDir();
  const bins = await hostBinaries();
  const asRoot = process.getuid?.() === 0;

  for (const [d, mode] of DIRS) {
    await mkdir(join(root, d), { recursive: true });
    await chmod(join(root, d), mode);
  }
  for (const [link, target] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']] as const) {
    await symlink(target, join(root, link));
  }
  await symlink('/run', join(root, 'var/run'));
  await symlink('/run/lock', join(root, 'var/lock'));

  await copyHostBinary(root, bins.bash, '/usr/bin/bash');
  await copyHostBinary(root, bins.busybox, '/usr/bin/busybox');
  if (bins.dash !== null) {
    await copyHostBinary(root, bins.dash, '/usr/bin/dash');
    await symlink('dash', join(root, 'usr/bin/sh'));
  } else {
    await symlink('busybox', join(root, 'usr/bin/sh'));
  }
  await symlink('bash', join(root, 'usr/bin/rbash'));
  for (const applet of SAFE_APPLETS) {
    const p = join(root, 'usr/bin', applet);
    if (!(await exists(p))) await symlink('busybox', p);
  }
  if (bins.jq !== null) await copyHostBinary(root, bins.jq, '/usr/lib/emu/host/jq');

  // Emulator internals.
  for (const sub of ['lib', 'bin', 'sbin', 'payload']) {
    const from = join(shims, sub);
    if (!(await exists(from))) continue;
    for (const f of await listFiles(from)) {
      const to = join(root, 'usr/lib/emu', relative(shims, f));
      await mkdir(dirname(to), { recursive: true });
      await copyFile(f, to);
      await chmod(to, sub === 'lib' ? 0o644 : 0o755);
    }
  }
  await materialisePackages(root, os, shims);
  await writeText(root, '/usr/lib/emu/VERSION', `${key}\n`);
  await writeText(root, '/usr/lib/emu/os', `EMU_OS_ID=${os.id}\nEMU_OS_CODENAME=${os.codename}\nEMU_OS_VERSION_ID=${os.versionId}\nEMU_PYTHON_VERSION=${os.pythonVersion}\nEMU_ARCHIVE_HOSTS=${shellQuote(os.archiveHosts.join(' '))}\n`);

  // Distribution files.
  await writeText(root, '/usr/lib/os-release', os.osRelease);
  await symlink('../usr/lib/os-release', join(root, 'etc/os-release'));
  await writeText(root, '/etc/debian_version', os.debianVersion);
  if (os.lsbRelease !== null) await writeText(root, '/etc/lsb-release', os.lsbRelease);
  await writeText(root, '/etc/apt/sources.list', os.sourcesList);
  const pw = passwd(os);
  await writeText(root, '/etc/passwd', pw);
  await writeText(root, '/etc/group', group(os));
  await writeText(root, '/etc/shadow', shadowOf(pw), 0o640);
  await writeText(root, '/etc/gshadow', group(os).replace(/:x:\d+:/g, ':*::'), 0o640);
  await writeText(root, '/etc/shells', '# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/dash\n/usr/bin/dash\n');
  await writeText(root, '/etc/hostname', 'localhost\n');
  await writeText(root, '/etc/hosts', hostsFile('localhost'));
  await writeText(root, '/etc/resolv.conf', '# --- BEGIN PVE ---\nsearch localdomain\nnameserver 192.0.2.53\n# --- END PVE ---\n');
  await writeText(root, '/etc/timezone', 'Etc/UTC\n');
  await writeText(root, '/etc/machine-id', `${createHash('md5').update(key).digest('hex')}\n`, 0o444);
  await writeText(root, '/etc/default/locale', '');
  await writeText(root, '/etc/environment', os.id === 'ubuntu' ? 'PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin"\n' : '');
  await writeText(root, '/etc/profile', 'export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\nfor i in /etc/profile.d/*.sh; do [ -r "$i" ] && . "$i"; done\n');
  await writeText(root, '/root/.bashrc', '# ~/.bashrc: executed by bash(1) for non-login shells.\n');
  await writeText(root, '/root/.profile', '[ -f ~/.bashrc ] && . ~/.bashrc\n');
  await writeText(root, '/var/lib/dpkg/status', '');
  await writeText(root, '/var/lib/dpkg/available', '');
  await writeText(root, '/var/lib/dpkg/arch', 'amd64\n');

  for (const [name, major, minor, mode] of DEVICES) await makeDevice(root, name, major, minor, mode, asRoot);
  for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx']] as const) {
    await symlink(target, join(root, 'dev', name));
  }

  // The template's packages, through the guest's own installer.
  const pkgs = [...ESSENTIAL, ...os.templatePackages];
  const chroot = await requireTool('chroot', 'coreutils');
  const r = await runTool(chroot, [root, '/usr/bin/bash', '/usr/lib/emu/sbin/emu-pkg', 'build-install', ...pkgs]);
  if (r.code !== 0) {
    throw new GuestError('EMU_GUEST_ROOTFS_BUILD', `installing template packages failed (${r.code}): ${r.stderr || r.stdout}`);
  }
}

async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => unlink(lockPath).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Stale when its owner is gone.
      const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      let alive = false;
      if (Number.isInteger(owner) && owner > 0) {
        try {
          process.kill(owner, 0);
          alive = true;
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (!alive) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new GuestError('EMU_GUEST_ROOTFS_BUILD', `timed out waiting for ${lockPath}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const baseMemo = new Map<string, Promise<string>>();

/** Path of the cached base rootfs for a distribution, building it on first use. */
export function baseRootfs(os: GuestOs): Promise<string> {
  let p = baseMemo.get(os.key);
  if (p === undefined) {
    p = (async () => {
      const key = await baseKey(os);
      const cache = rootfsCacheDir();
      const final = join(cache, `${os.key}-${key}`);
      if (await exists(join(final, 'usr/lib/emu/VERSION'))) return final;
      await mkdir(cache, { recursive: true });
      const release = await acquireLock(`${final}.lock`);
      try {
        if (await exists(join(final, 'usr/lib/emu/VERSION'))) return final;
        const tmp = `${final}.tmp-${process.pid}-${Date.now()}`;
        try {
          await mkdir(tmp);
          await buildBase(os, tmp, key);
          await rename(tmp, final);
        } catch (err) {
          await rm(tmp, { recursive: true, force: true });
          throw err;
        }
        return final;
      } finally {
        await release();
      }
    })();
    baseMemo.set(os.key, p);
    p.catch(() => baseMemo.delete(os.key));
  }
  return p;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new GuestError('EMU_GUEST_NOT_ROOT', 'guest execution needs root (chroot); run the emulator as root');
  }
}

/** `cp -a` of a whole tree (device nodes, modes, owners and symlinks kept). */
export async function copyTree(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  const r = await runTool(await requireTool('cp', 'coreutils'), ['-a', '--', `${src}/.`, `${dst}/`]);
  if (r.code !== 0) throw new GuestError('EMU_GUEST_ROOTFS_BUILD', `cp -a ${src} ${dst} failed: ${r.stderr.trim()}`);
}

/** Writes the hostname the way pve-container does (/etc/hostname and a PVE block in /etc/hosts). */
export async function setGuestHostname(rootfs: string, hostname: string, ip?: string): Promise<void> {
  await writeFile(join(rootfs, 'etc/hostname'), `${hostname}\n`);
  let hosts = await readFile(join(rootfs, 'etc/hosts'), 'utf8').catch(() => '');
  const block = `# --- BEGIN PVE ---\n${ip ?? '127.0.1.1'} ${hostname}\n# --- END PVE ---\n`;
  hosts = /# --- BEGIN PVE ---[\s\S]*?# --- END PVE ---\n?/.test(hosts)
    ? hosts.replace(/# --- BEGIN PVE ---[\s\S]*?# --- END PVE ---\n?/, block)
    : hosts + block;
  await writeFile(join(rootfs, 'etc/hosts'), hosts);
}

/**
 * Setup::Base::set_user_authorized_ssh_keys (pct create --ssh-public-keys): root's
 * authorized_keys gets the keys inside a PVE block (ct_modify_file), replacing an earlier block.
 */
export async function setGuestAuthorizedKeys(rootfs: string, keys: string): Promise<void> {
  if (keys === '') return;
  const dir = join(rootfs, 'root/.ssh');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'authorized_keys');
  const block = `# --- BEGIN PVE ---\n${keys.endsWith('\n') ? keys : `${keys}\n`}# --- END PVE ---\n`;
  const old = await readFile(file, 'utf8').catch(() => null);
  const re = /^#\s*---\s*BEGIN\s*PVE\s*[^\n]*\n[\s\S]*?^#\s*---\s*END\s*PVE\s*[^\n]*\n?/im;
  const text = old === null ? block : re.test(old) ? old.replace(re, block) : `${old}${old.endsWith('\n') || old === '' ? '' : '\n'}${block}`;
  await writeFile(file, text, { mode: 0o700 });
  await chmod(file, 0o700);
}

/**
 * Creates `<guestDir>/rootfs` from the cached base of the template's distribution; an existing
 * rootfs is left as it is (its installed state is the guest's). Hostname defaults to CT<dir name>.
 */
export async function ensureGuestRootfs(guestDir: string, opts: { osTemplate?: string } = {}): Promise<void> {
  requireRoot();
  const rootfs = join(guestDir, 'rootfs');
  if (await exists(join(rootfs, 'usr/lib/emu/VERSION'))) return;
  const base = await baseRootfs(guestOsFor(opts.osTemplate));
  const tmp = `${rootfs}.tmp-${process.pid}-${Date.now()}`;
  try {
    await copyTree(base, tmp);
    const id = basename(guestDir);
    await setGuestHostname(tmp, /^\d+$/.test(id) ? `CT${id}` : 'localhost');
    await rm(rootfs, { recursive: true, force: true });
    await rename(tmp, rootfs);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Copies a guest rootfs (a clone): installed packages, services, users and files come along. */
export async function copyGuestRootfs(srcRootfs: string, dstRootfs: string): Promise<void> {
  requireRoot();
  if (!(await exists(join(srcRootfs, 'usr/lib/emu/VERSION')))) {
    throw new GuestError('EMU_GUEST_ROOTFS_MISSING', `${srcRootfs} is not a guest rootfs`);
  }
  const tmp = `${dstRootfs}.tmp-${process.pid}-${Date.now()}`;
  try {
    await copyTree(srcRootfs, tmp);
    await rm(join(tmp, 'run'), { recursive: true, force: true });
    await mkdir(join(tmp, 'run/lock'), { recursive: true, mode: 0o1777 });
    await rm(dstRootfs, { recursive: true, force: true });
    await rename(tmp, dstRootfs);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
