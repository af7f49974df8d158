/**
 * Guest execution: real scripts in a chroot of a per-guest rootfs, whose package manager, service
 * manager, docker, curl, pip and nvidia-smi keep state in the guest's files, so idempotency checks
 * of feature scripts behave as on a real CT. Needs root (chroot, mknod), as the emulator does.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyGuestRootfs,
  ensureGuestRootfs,
  execInGuest,
  GuestError,
  GuestExecTimeoutError,
  guestInstalledPackages,
  guestUnitState,
  nvidiaRunfile,
  pullFile,
  pushFile,
  setGuestGpuDevices,
  setGuestNetworkFaults,
  setVmGpus,
  startGuest,
  stopGuest,
} from './src/guest/index.js';
import { writeGpuState } from './src/nvidia/state.js';

const UBUNTU = 'local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst';
const DEBIAN = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

let work: string;
let n = 100;
async function newGuest(osTemplate = UBUNTU): Promise<string> {
  const dir = join(work, String(n++));
  await ensureGuestRootfs(dir, { osTemplate });
  return join(dir, 'rootfs');
}

async function sh(rootfs: string, script: string, opts: Parameters<typeof execInGuest>[2] = {}) {
  const r = await execInGuest(rootfs, ['bash', '-c', script], { timeoutMs: 20_000, ...opts });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

const DOCKER_FEATURE = `#!/bin/bash
# Phoenix docker feature, run inside the CT: skip when docker-ce is installed and running.
set -e
if dpkg-query -W -f='\${Status}' docker-ce 2>/dev/null | grep -q "install ok installed" && systemctl is-active --quiet docker; then
  echo "SKIP: docker already installed"
  exit 0
fi
apt-get update
apt-get install -y ca-certificates curl gnupg lsb-release jq
mkdir -p /etc/apt/keyrings
curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /tmp/docker.gpg
gpg --dearmor --yes -o /etc/apt/keyrings/docker.gpg /tmp/docker.gpg
chmod a+r /etc/apt/keyrings/docker.gpg
rm /tmp/docker.gpg
echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.gpg] https://download.docker.com/linux/ubuntu $(lsb_release -cs) stable" | tee /etc/apt/sources.list.d/docker.list > /dev/null
apt-get update
apt-get install -y docker-ce docker-ce-cli containerd.io docker-compose-plugin
if command -v nvidia-smi >/dev/null 2>&1; then
  if ! dpkg -l | grep -q nvidia-container-toolkit; then apt-get install -y nvidia-container-toolkit; fi
  nvidia-ctk runtime configure --runtime=docker --set-as-default
fi
systemctl restart docker
systemctl enable docker
docker --version
echo "INSTALLED"
`;

const CUDA_REPO = 'https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/x86_64/';
const NVIDIA_FEATURE = `#!/bin/bash
# Phoenix nvidia feature, user-space part inside the CT: skip when nvidia-smi is present.
set -e
if command -v nvidia-smi >/dev/null 2>&1; then echo "SKIP: nvidia-smi present"; exit 0; fi
compgen -G '/dev/nvidia[0-9]*' >/dev/null || { echo "no GPU device in the CT" >&2; exit 1; }
apt-get update
apt-get install -y wget build-essential pkg-config libglvnd-dev curl gnupg
runfile=/tmp/NVIDIA-Linux-x86_64-580.159.04.run
chmod +x "$runfile"
bash "$runfile" --silent --no-kernel-module --no-x-check --no-nouveau-check --no-nvidia-modprobe --no-dkms
rm "$runfile"
wget -qO /etc/apt/preferences.d/cuda-repository-pin-600 ${CUDA_REPO}cuda-ubuntu2404.pin
curl -fsSL ${CUDA_REPO}3bf863cc.pub | gpg --dearmor -o /usr/share/keyrings/cuda-archive-keyring.gpg
echo "deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg] ${CUDA_REPO} /" > /etc/apt/sources.list.d/cuda.list
apt-get update
apt-get install -y cuda-toolkit-12-8
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
/usr/local/cuda/bin/nvcc --version | tail -n 2
echo "INSTALLED"
`;

beforeAll(async () => {
  expect(process.getuid?.(), 'guest tests need root (chroot)').toBe(0);
  work = await mkdtemp(join(tmpdir(), 'guest-test-'));
  const t0 = performance.now();
  await newGuest(UBUNTU);
  await newGuest(DEBIAN);
  const t1 = performance.now();
  const d = join(work, 'timing');
  await ensureGuestRootfs(d, { osTemplate: UBUNTU });
  console.log(`rootfs: base build+first copies ${(t1 - t0).toFixed(0)} ms, one more copy ${(performance.now() - t1).toFixed(0)} ms`);
}, 120_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('rootfs', () => {
  it('looks like the template distribution and is isolated from the host', async () => {
    const u = await newGuest(UBUNTU);
    const d = await newGuest(DEBIAN);
    expect((await sh(u, '. /etc/os-release; echo $ID $VERSION_ID $VERSION_CODENAME; lsb_release -cs')).out).toBe('ubuntu 24.04 noble\nnoble\n');
    expect((await sh(d, '. /etc/os-release; echo $ID $VERSION_ID; cat /etc/hostname; id -un; echo $HOME $LANG')).out).toBe(
      `debian 12\nCT${d.split('/').at(-2)}\nroot\n/root C.UTF-8\n`,
    );
    const r = await sh(u, 'echo guest > /etc/foo; rm -rf /tmp/x; mkdir -p /tmp/x; echo hi > /dev/null; cat /dev/null | wc -c');
    expect(r.code).toBe(0);
    expect(existsSync('/etc/foo')).toBe(false);
    expect(await readFile(join(u, 'etc/foo'), 'utf8')).toBe('guest\n');
  });

  it('refuses dangerous host tools the host busybox would offer', async () => {
    const g = await newGuest();
    const r = await sh(g, 'hostname evil; echo rc=$?; date -s "2020-01-01"; echo rc=$?; for c in mount umount reboot halt kill killall ip ifconfig nc telnet chroot nsenter; do type -P $c; done; echo none');
    expect(r.out).toBe('rc=1\nrc=1\nnone\n');
    expect(r.err).toContain('you must be root to change the host name');
  });

  it('copies a rootfs with its installed state but not its runtime state', async () => {
    const src = await newGuest();
    expect((await sh(src, 'apt-get update -qq && apt-get install -y -qq htop && systemctl start cron && systemctl is-active cron')).out).toBe(
      'active\n',
    );
    const dst = join(work, 'clone', 'rootfs');
    await copyGuestRootfs(src, dst);
    const r = await sh(dst, "dpkg-query -W -f='${Status}\\n' htop; command -v htop; systemctl is-active cron");
    expect(r.out).toBe('install ok installed\n/usr/bin/htop\ninactive\n');
    expect(await guestInstalledPackages(dst)).toContain('htop');
  });
});

describe('package manager', () => {
  it('needs apt-get update, installs once and then reports the package installed', async () => {
    const g = await newGuest();
    const before = await sh(g, 'apt-get install -y htop');
    expect(before.code).toBe(100);
    expect(before.err).toContain('E: Unable to locate package htop');
    const first = await sh(g, 'apt-get update >/dev/null && apt-get install -y htop');
    expect(first.code).toBe(0);
    expect(first.out).toContain('Setting up htop (3.3.0-4build1) ...');
    const second = await sh(g, 'apt-get install -y htop');
    expect(second.out).toContain('htop is already the newest version (3.3.0-4build1).');
    expect(second.out).toContain('0 upgraded, 0 newly installed');
  });

  it('dpkg-query and dpkg answer with dpkg exit codes and messages', async () => {
    const g = await newGuest();
    const r = await sh(g, `dpkg-query -W -f='\${Status}' curl; echo " rc=$?"; dpkg-query -W -f='\${Status}' nope; echo " rc=$?"; dpkg -s nope; echo "rc=$?"`);
    expect(r.out).toBe('install ok installed rc=0\n rc=1\nrc=1\n');
    expect(r.err).toContain('dpkg-query: no packages found matching nope');
    expect(r.err).toContain("dpkg-query: package 'nope' is not installed and no information is available");
    const l = await sh(g, 'dpkg -l curl | tail -n 1; dpkg -l | grep -c "^ii"; dpkg-query -W curl');
    expect(l.out).toMatch(/^ii {2}curl +8\.5\.0-2ubuntu10\.4 +amd64 /);
    expect(Number(l.out.split('\n')[1])).toBeGreaterThan(20);
    expect(l.out.split('\n')[2]).toBe('curl\t8.5.0-2ubuntu10.4');
  });

  it('requires the repository and a dearmored key for third-party packages; asks before extra packages', async () => {
    const g = await newGuest();
    expect((await sh(g, 'apt-get update -qq; apt-get install -y docker-ce')).err).toContain('E: Unable to locate package docker-ce');
    const armored = await sh(
      g,
      'curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.gpg; ' +
        'echo "deb [signed-by=/etc/apt/keyrings/docker.gpg] https://download.docker.com/linux/ubuntu noble stable" > /etc/apt/sources.list.d/docker.list; apt-get update',
    );
    expect(armored.code).toBe(100);
    expect(armored.err).toContain('unsupported filetype');
    await sh(g, 'gpg --dearmor --yes -o /etc/apt/keyrings/docker.gpg /etc/apt/keyrings/docker.gpg; apt-get update -qq');
    const asked = await sh(g, 'apt-get install docker-ce', { stdin: 'n\n' });
    expect(asked.code).toBe(1);
    expect(asked.out).toContain('Do you want to continue? [Y/n] Abort.');
    expect((await sh(g, 'apt-get install docker-ce', { stdin: 'y\n' })).code).toBe(0);
  });
});

describe('services and docker', () => {
  it('systemctl reports real exit codes and keeps state across guest stop/start', async () => {
    const g = await newGuest();
    await writeFile(
      join(g, 'etc/systemd/system/api.service'),
      '[Unit]\nDescription=API\n\n[Service]\nExecStart=/opt/api/bin/server --port 9000\n\n[Install]\nWantedBy=multi-user.target\n',
    );
    const r = await sh(
      g,
      'systemctl is-active nosuch; echo rc=$?; systemctl is-enabled nosuch; echo rc=$?; systemctl start nosuch; echo rc=$?; ' +
        'systemctl enable --now api; echo rc=$?; systemctl is-active api; echo rc=$?; systemctl is-enabled api; echo rc=$?',
    );
    expect(r.out).toBe('inactive\nrc=3\nrc=1\nrc=5\nrc=0\nfailed\nrc=3\nenabled\nrc=0\n');
    expect(r.err).toContain('Failed to start nosuch.service: Unit nosuch.service not found.');
    expect(r.err).toContain('Created symlink /etc/systemd/system/multi-user.target.wants/api.service');
    await sh(g, 'mkdir -p /opt/api/bin && cp /usr/lib/emu/bin/daemon /opt/api/bin/server && systemctl restart api');
    expect(await guestUnitState(g, 'api')).toBe('active');
    expect((await sh(g, 'curl -s http://127.0.0.1:9000/')).out).toBe('OK\n');
    await stopGuest(g);
    expect((await sh(g, 'systemctl is-active api; curl -sS http://127.0.0.1:9000/; echo rc=$?')).out).toBe('inactive\nrc=7\n');
    await startGuest(g);
    expect(await guestUnitState(g, 'api')).toBe('active');
  });

  it('runs a Phoenix-style docker feature twice: installs, then skips on its idempotency check', async () => {
    const g = await newGuest();
    await writeFile(join(work, 'docker-feature.sh'), DOCKER_FEATURE);
    await pushFile(g, join(work, 'docker-feature.sh'), '/tmp/feature.sh', { perms: '0755' });
    const first = await execInGuest(g, ['/tmp/feature.sh'], { timeoutMs: 20_000 });
    expect(first.stderr.toString()).not.toContain('E:');
    expect(first.exitCode).toBe(0);
    expect(first.stdout.toString()).toContain('Docker version 27.3.1, build ce12230\nINSTALLED\n');
    const second = await execInGuest(g, ['/tmp/feature.sh'], { timeoutMs: 20_000 });
    expect(second.stdout.toString()).toBe('SKIP: docker already installed\n');

    const d = await sh(
      g,
      'docker network create qdrant_network >/dev/null; docker run -d --restart always --network qdrant_network -p 6333:6333 --name qdrant qdrant/qdrant:latest >/dev/null; ' +
        'docker run -d --name qdrant qdrant/qdrant:latest; echo rc=$?; docker ps --format "{{.Names}} {{.State}}"; docker info | grep "Default Runtime"',
    );
    expect(d.out).toBe('rc=125\nqdrant running\n Default Runtime: runc\n');
    expect(d.err).toContain('The container name "/qdrant" is already in use');
    await stopGuest(g);
    expect((await sh(g, 'docker ps')).err).toContain('Cannot connect to the Docker daemon');
    await startGuest(g);
    expect((await sh(g, 'docker ps -a --format "{{.Names}} {{.State}}"')).out).toBe('qdrant running\n');
    await writeFile(
      join(g, 'root/docker-compose.yml'),
      'services:\n  web:\n    image: nginx:latest\n    ports:\n      - "8080:80"\n    restart: unless-stopped\n',
    );
    const c = await sh(g, 'cd /root && docker compose up -d 2>/dev/null && docker ps --format "{{.Names}}" | sort && curl -s localhost:8080');
    expect(c.out).toBe('qdrant\nroot-web-1\nOK\n');
  });
});

describe('network, python and ollama', () => {
  it('curl and wget serve deterministic content and fail only where a fault says so', async () => {
    const g = await newGuest();
    const r = await sh(g, 'curl -fsSL https://example.com/a.txt -o /tmp/a; cat /tmp/a; wget -qO- https://example.com/a.txt | sha256sum | cut -c1-8; sha256sum /tmp/a | cut -c1-8');
    expect(r.out.split('\n')[0]).toBe('Emulated content of https://example.com/a.txt');
    expect(r.out.split('\n')[1]).toBe(r.out.split('\n')[2]);
    await setGuestNetworkFaults(g, [
      { match: 'unreachable.example', kind: 'dns' },
      { match: 'https://example.com/missing*', kind: 'http404' },
    ]);
    const f = await sh(g, 'curl -fsSL https://unreachable.example/x; echo rc=$?; curl -fsS https://example.com/missing; echo rc=$?; wget -q https://unreachable.example/x; echo rc=$?; curl -s http://127.0.0.1:11434/; echo rc=$?');
    expect(f.out).toBe('rc=6\nrc=22\nrc=4\nrc=7\n');
    expect(f.err).toContain('curl: (6) Could not resolve host: unreachable.example');
    expect(f.err).toContain('curl: (22) The requested URL returned error: 404');
  });

  it('pip is externally managed system-wide, works in a venv, and python imports what pip installed', async () => {
    const g = await newGuest();
    const r = await sh(
      g,
      'apt-get update -qq; apt-get install -y -qq python3-pip; pip install requests; echo rc=$?; python3 -m venv /opt/v; echo rc=$?; ' +
        'apt-get install -y -qq python3-venv; python3 -m venv /opt/v && /opt/v/bin/pip install -q vllm==0.10.2 && ' +
        '/opt/v/bin/python -c "import vllm; print(vllm.__version__)"; python3 -c "import vllm"; echo rc=$?; test -x /opt/v/bin/vllm && echo cli',
    );
    expect(r.out).toContain('rc=1\n');
    expect(r.err).toContain('error: externally-managed-environment');
    expect(r.out).toContain('ensurepip is not');
    expect(r.out).toContain('0.10.2\nrc=1\ncli\n');
    expect(r.err).toContain("ModuleNotFoundError: No module named 'vllm'");
  });

  it('installs ollama with its install script piped to sh and serves its API', async () => {
    const g = await newGuest();
    const r = await sh(g, 'curl -fsSL https://ollama.com/install.sh | sh && ollama pull llama3 >/dev/null && curl -s http://127.0.0.1:11434/api/tags; systemctl is-enabled ollama');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      'WARNING: No NVIDIA/AMD GPU detected. Ollama will run in CPU-only mode.\n' +
        '{"models":[{"name":"llama3:latest","model":"llama3:latest","size":4661224676}]}\nenabled\n',
    );
    expect(r.err).toContain('>>> Install complete.');
  });
});

describe('GPU in a guest', () => {
  it('runs a Phoenix-style nvidia feature end to end: runfile, CUDA repo, toolkit, nvidia-smi; skips the second time', async () => {
    const stateDir = join(work, 'node-state');
    await writeGpuState(stateDir, [{}, {}]);
    const g = await newGuest();
    expect((await sh(g, 'nvidia-smi; echo rc=$?', { gpuVisible: true, stateDir })).out).toBe('rc=127\n');
    await setGuestGpuDevices(g, [1], stateDir);
    const runfile = join(work, 'NVIDIA-Linux-x86_64-580.159.04.run');
    await writeFile(runfile, await nvidiaRunfile('580.159.04'));
    await pushFile(g, runfile, '/tmp/NVIDIA-Linux-x86_64-580.159.04.run');
    await writeFile(join(work, 'nvidia-feature.sh'), NVIDIA_FEATURE);
    await pushFile(g, join(work, 'nvidia-feature.sh'), '/root/nvidia-feature.sh', { perms: '0700' });
    const first = await execInGuest(g, ['/root/nvidia-feature.sh'], { gpuVisible: true, stateDir, timeoutMs: 20_000 });
    expect(first.stderr.toString()).not.toContain('E:');
    expect(first.exitCode).toBe(0);
    expect(first.stdout.toString()).toContain('NVIDIA H100 80GB HBM3, 580.159.04\nCuda compilation tools, release 12.8, V12.8.1\nBuild cuda_12.8.r12.8/compiler.35583870_0\nINSTALLED\n');
    const second = await execInGuest(g, ['/root/nvidia-feature.sh'], { gpuVisible: true, stateDir });
    expect(second.stdout.toString()).toBe('SKIP: nvidia-smi present\n');

    // The guest sees only the GPU passed to it (host minor 1), as its GPU 0.
    const host = await writeGpuState(stateDir, [{}, { utilizationGpu: 42 }]);
    const seen = await sh(g, 'nvidia-smi --query-gpu=index,uuid,utilization.gpu --format=csv,noheader', { gpuVisible: true, stateDir });
    expect(seen.out).toBe(`0, ${host.gpus[1]?.uuid}, 42 %\n`);
    expect((await sh(g, 'nvidia-smi -L; echo rc=$?', { gpuVisible: false, stateDir })).out).toBe('Failed to initialize NVML: Unknown Error\nrc=255\n');
    await setGuestGpuDevices(g, [], stateDir);
    expect((await sh(g, 'nvidia-smi; echo rc=$?', { gpuVisible: true, stateDir })).out).toContain("couldn't communicate with the NVIDIA driver");

    // Docker with nvidia: the feature configures the nvidia runtime when nvidia-smi exists.
    await setGuestGpuDevices(g, [1], stateDir);
    await writeFile(join(work, 'docker-feature.sh'), DOCKER_FEATURE);
    await pushFile(g, join(work, 'docker-feature.sh'), '/tmp/feature.sh', { perms: '0755' });
    const dk = await execInGuest(g, ['/tmp/feature.sh'], { gpuVisible: true, stateDir, timeoutMs: 20_000 });
    expect(dk.exitCode).toBe(0);
    expect((await sh(g, 'docker info | grep Runtime; docker run --rm --gpus all nvidia/cuda:12.8.0-base-ubuntu24.04 nvidia-smi; echo rc=$?')).out).toBe(
      ' Runtimes: io.containerd.runc.v2 nvidia runc\n Default Runtime: nvidia\nrc=0\n',
    );
  });

  it('gives a VM its vfio-bound GPU with the VM\'s own driver version', async () => {
    const stateDir = join(work, 'node-state-vm');
    await writeGpuState(stateDir, [{}, { driverBinding: 'vfio-pci', name: 'NVIDIA L40S' }]);
    const vm = await newGuest(DEBIAN);
    await setVmGpus(vm, ['00000000:00:07.0']);
    const r = await sh(vm, 'apt-get update -qq; apt-get install -y -qq nvidia-utils-580; nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader', {
      gpuVisible: true,
      gpuPassthrough: 'vm',
      stateDir,
    });
    expect(r.out).toBe('0, NVIDIA L40S, 580.95.05\n');
  });

  it('reports a user-space driver that does not match the host module', async () => {
    const stateDir = join(work, 'node-state-2');
    await writeGpuState(stateDir, [{}]);
    const g = await newGuest();
    await setGuestGpuDevices(g, [0], stateDir);
    const r = await sh(g, 'apt-get update -qq; apt-get install -y -qq nvidia-utils-580; nvidia-smi; echo rc=$?', { gpuVisible: true, stateDir });
    expect(r.out).toBe('Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 580.95\nrc=18\n');
  });

  it('streams a sampling loop and stops it when the guest command is killed', async () => {
    const stateDir = join(work, 'node-state-3');
    await writeGpuState(stateDir, [{}]);
    const g = await newGuest();
    await setGuestGpuDevices(g, [0], stateDir);
    await pushFile(g, await (async () => {
      const p = join(work, 'rf.run');
      await writeFile(p, await nvidiaRunfile('580.159.04'));
      return p;
    })(), '/tmp/rf.run');
    await sh(g, 'bash /tmp/rf.run -s --no-kernel-module');
    const chunks: string[] = [];
    const { Writable } = await import('node:stream');
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c.toString()), cb()) });
    await expect(
      execInGuest(g, ['nvidia-smi', '--query-gpu=index', '--format=csv,noheader', '-lms', '100'], { gpuVisible: true, stateDir, timeoutMs: 700, stdout: sink }),
    ).rejects.toBeInstanceOf(GuestExecTimeoutError);
    expect(chunks.join('').split('\n').filter((l) => l === '0').length).toBeGreaterThanOrEqual(3);
  });
});

describe('process control and file transfer', () => {
  it('kills the whole process group on timeout, background children included', async () => {
    const g = await newGuest();
    const t0 = Date.now();
    const err = await execInGuest(g, ['bash', '-c', 'sleep 30 & echo $! > /tmp/bg.pid; echo started; wait'], { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuestExecTimeoutError);
    expect((err as GuestExecTimeoutError).stdout.toString()).toBe('started\n');
    expect(Date.now() - t0).toBeLessThan(3000);
    const pid = Number(await readFile(join(g, 'tmp/bg.pid'), 'utf8'));
    // Dead: gone, or a zombie waiting for a reaper (init here may never reap it).
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').then((s) => s.split(') ')[1]?.[0], () => 'gone');
    expect(['gone', 'Z']).toContain(state);
  });

  it('pushes and pulls through the guest view of paths and refuses escapes', async () => {
    const g = await newGuest();
    const hostFile = join(work, 'push-src.txt');
    await writeFile(hostFile, 'payload\n');
    await pushFile(g, hostFile, '/root/p.txt', { perms: '0600', user: 1000, group: 1000 });
    expect((await sh(g, 'stat -c "%a %u %g" /root/p.txt; cat /root/p.txt')).out).toBe('600 1000 1000\npayload\n');
    await expect(pushFile(g, hostFile, '/no/such/dir/f')).rejects.toMatchObject({ code: 'EMU_GUEST_NO_SUCH_FILE' });
    await expect(pushFile(g, hostFile, '/../../etc/escaped')).rejects.toMatchObject({ code: 'EMU_GUEST_PATH_ESCAPE' });
    await expect(pushFile(g, hostFile, 'relative')).rejects.toBeInstanceOf(GuestError);
    // An absolute link resolves inside the guest; a relative one climbing out is refused.
    await symlink('/etc/hostname', join(g, 'root/abs-link'));
    await mkdir(join(g, 'root/d'), { recursive: true });
    await symlink('../../../../../../etc/passwd', join(g, 'root/d/up-link'));
    const pulled = join(work, 'pulled.txt');
    await pullFile(g, '/root/abs-link', pulled);
    expect(await readFile(pulled, 'utf8')).toBe(await readFile(join(g, 'etc/hostname'), 'utf8'));
    await expect(pullFile(g, '/root/d/up-link', pulled)).rejects.toMatchObject({ code: 'EMU_GUEST_PATH_ESCAPE' });
    await expect(pushFile(g, hostFile, '/root/d/up-link')).rejects.toMatchObject({ code: 'EMU_GUEST_PATH_ESCAPE' });
  });

  it('runs a command without a shell like pct exec does (no `command` binary, exit 127)', async () => {
    const g = await newGuest();
    const r = await execInGuest(g, ['command', '-v', 'curl']);
    expect(r.exitCode).toBe(127);
    expect((await execInGuest(g, ['test', '-f', '/usr/bin/curl'])).exitCode).toBe(0);
    expect((await execInGuest(g, ['cat'], { stdin: 'from stdin' })).stdout.toString()).toBe('from stdin');
    expect((await execInGuest(g, ['sh', '-c', 'echo $FOO'], { env: { FOO: 'bar' } })).stdout.toString()).toBe('bar\n');
  });
});
