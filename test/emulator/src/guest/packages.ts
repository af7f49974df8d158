/**
 * The package archive the guest's apt-get installs from. Each package lists the files it puts in
 * the rootfs (shim scripts from guest-shims/bin, literal text, or symlinks), the services it
 * enables and starts on install (Debian policy), the repository host it needs in sources.list(.d)
 * (empty: the distribution archive) and its dependencies. Names not listed here still install from
 * the distribution archive with documentation files only, so arbitrary build dependencies work.
 */
import type { GuestOs } from './os-template.js';

export type FileSpec = { shim: string; mode?: number } | { text: string; mode?: number } | { link: string };

export interface PackageDef {
  name: string;
  version: string;
  section: string;
  maintainer: string;
  description: string;
  installedSize: number;
  /** Host names of which at least one must be in an updated apt source; [] = distribution archive. */
  repos: string[];
  depends: string[];
  files: Record<string, FileSpec>;
  services: string[];
  /** Shell run inside the guest after the files are in place (bash, as root). */
  postinst?: string;
}

const UBUNTU_MAINT = 'Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>';

function unit(description: string, execStart: string, opts: { after?: string; type?: string; extra?: string } = {}): string {
  return [
    '[Unit]',
    `Description=${description}`,
    `After=${opts.after ?? 'network-online.target'}`,
    '',
    '[Service]',
    ...(opts.type === undefined ? [] : [`Type=${opts.type}`]),
    `ExecStart=${execStart}`,
    ...(opts.extra === undefined ? [] : [opts.extra]),
    'Restart=always',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const shim = (name: string): FileSpec => ({ shim: name });

/** Packages every template has (dpkg, apt, shells, core utilities): installed at build, never removable here. */
export const ESSENTIAL = [
  'base-files',
  'bash',
  'dash',
  'coreutils',
  'debianutils',
  'dpkg',
  'apt',
  'passwd',
  'libc-bin',
  'systemd',
  'hostname',
  'gzip',
  'tar',
  'sed',
  'grep',
  'findutils',
];

export function packageCatalog(os: GuestOs): PackageDef[] {
  const deb = os.id === 'debian';
  const dockerVersion = deb ? `5:27.3.1-1~debian.12~bookworm` : `5:27.3.1-1~ubuntu.${os.versionId}~${os.codename}`;
  const py = os.pythonVersion.split('.').slice(0, 2).join('.');
  const maint = deb ? 'Debian Maintainers <debian-devel@lists.debian.org>' : UBUNTU_MAINT;
  const base = (name: string, version: string, files: Record<string, FileSpec> = {}, more: Partial<PackageDef> = {}): PackageDef => ({
    name,
    version,
    section: 'utils',
    maintainer: maint,
    description: `${name} package`,
    installedSize: 1024,
    repos: [],
    depends: [],
    files,
    services: [],
    ...more,
  });
  const nvidiaRepos = ['developer.download.nvidia.com', 'nvidia.github.io'];
  const cudaDistro = `${os.id}${os.versionId.replace('.', '')}`;
  return [
    base('base-files', deb ? '12.4+deb12u7' : '13ubuntu10.1'),
    base('bash', deb ? '5.2.15-2+b7' : '5.2.21-2ubuntu4', {}, { description: 'GNU Bourne Again SHell', section: 'shells' }),
    base('dash', deb ? '0.5.12-2' : '0.5.12-6ubuntu5', {}, { section: 'shells' }),
    base('coreutils', deb ? '9.1-1' : '9.4-3ubuntu6', { '/usr/bin/date': shim('date'), '/usr/bin/install': shim('install') }),
    base('debianutils', deb ? '5.7-0.5~deb12u1' : '5.17build1'),
    base('dpkg', deb ? '1.21.22' : '1.22.6ubuntu6.1', { '/usr/bin/dpkg': shim('dpkg'), '/usr/bin/dpkg-query': shim('dpkg') }, {
      section: 'admin',
      description: 'Debian package management system',
    }),
    base('apt', deb ? '2.6.1' : '2.7.14build2', {
      '/usr/bin/apt-get': shim('apt'),
      '/usr/bin/apt': shim('apt'),
      '/usr/bin/apt-cache': shim('apt'),
    }, { section: 'admin', description: 'commandline package manager' }),
    base('passwd', deb ? '1:4.13+dfsg1-1+b1' : '1:4.13+dfsg1-4ubuntu3.2', Object.fromEntries(
      ['useradd', 'groupadd', 'usermod', 'userdel', 'groupdel', 'chpasswd'].map((n) => [`/usr/sbin/${n}`, shim('users')]),
    ), { section: 'admin' }),
    base('libc-bin', deb ? '2.36-9+deb12u8' : '2.39-0ubuntu8.3', { '/usr/bin/getent': shim('users'), '/usr/bin/locale': shim('locale') }, {
      section: 'libs',
    }),
    base('systemd', deb ? '252.30-1~deb12u2' : '255.4-1ubuntu8.4', {
      '/usr/bin/systemctl': shim('systemctl'),
      '/usr/bin/journalctl': shim('systemctl'),
      '/usr/sbin/service': shim('systemctl'),
      '/usr/bin/systemd-detect-virt': shim('systemctl'),
    }, { section: 'admin' }),
    base('hostname', deb ? '3.23+nmu1' : '3.23+nmu2ubuntu2', { '/usr/bin/hostname': shim('hostname') }, { section: 'admin' }),
    base('gzip', deb ? '1.12-1' : '1.12-1ubuntu3'),
    base('tar', deb ? '1.34+dfsg-1.2+deb12u1' : '1.35+dfsg-3build1'),
    base('sed', deb ? '4.9-1' : '4.9-2build1'),
    base('grep', deb ? '3.8-5' : '3.11-4build1'),
    base('findutils', deb ? '4.9.0-4' : '4.9.0-5build1'),
    base('procps', deb ? '2:4.0.2-3' : '2:4.0.4-4ubuntu3', {}, { section: 'admin' }),
    base('iputils-ping', deb ? '3:20221126-1' : '3:20240117-1build1', { '/usr/bin/ping': shim('ping') }, { section: 'net' }),
    base('ca-certificates', deb ? '20230311' : '20240203', { '/usr/sbin/update-ca-certificates': shim('update-ca-certificates') }, {
      description: 'Common CA certificates',
      postinst: 'mkdir -p /usr/local/share/ca-certificates /etc/ssl/certs',
    }),
    base('curl', deb ? '7.88.1-10+deb12u8' : '8.5.0-2ubuntu10.4', { '/usr/bin/curl': shim('curl') }, { section: 'web' }),
    base('wget', deb ? '1.21.3-1+b2' : '1.21.4-1ubuntu4.1', { '/usr/bin/wget': shim('wget') }, { section: 'web' }),
    base('gnupg', deb ? '2.2.40-1.1' : '2.4.4-2ubuntu17', { '/usr/bin/gpg': shim('gpg') }),
    base('gpg', deb ? '2.2.40-1.1' : '2.4.4-2ubuntu17', { '/usr/bin/gpg': shim('gpg') }),
    base('lsb-release', deb ? '12.0-1' : '12.0-2', { '/usr/bin/lsb_release': shim('lsb_release') }, { section: 'misc' }),
    base('locales', deb ? '2.36-9+deb12u8' : '2.39-0ubuntu8.3', {
      '/usr/sbin/locale-gen': shim('locale-gen'),
      '/usr/sbin/update-locale': shim('update-locale'),
    }, { section: 'localization', postinst: 'emu_locales_postinst' }),
    base('sudo', deb ? '1.9.13p3-1+deb12u1' : '1.9.15p5-3ubuntu5', { '/usr/bin/sudo': shim('sudo') }, { section: 'admin' }),
    base('openssh-server', deb ? '1:9.2p1-2+deb12u3' : '1:9.6p1-3ubuntu13.5', {
      '/usr/sbin/sshd': shim('daemon'),
      '/usr/lib/systemd/system/ssh.service': { text: unit('OpenBSD Secure Shell server', '/usr/sbin/sshd -D') },
    }, { section: 'net', services: ['ssh'] }),
    base('cron', deb ? '3.0pl1-162' : '3.0pl1-184ubuntu2', {
      '/usr/sbin/cron': shim('daemon'),
      '/usr/lib/systemd/system/cron.service': { text: unit('Regular background program processing daemon', '/usr/sbin/cron -f') },
    }, { section: 'admin', services: ['cron'] }),
    base('python3', deb ? '3.11.2-1+b1' : '3.12.3-0ubuntu2', {
      '/usr/bin/python3': shim('python3'),
      [`/usr/bin/python${py}`]: { link: 'python3' },
    }, { section: 'python', description: 'interactive high-level object-oriented language (default python3 version)' }),
    base('python3-pip', deb ? '23.0.1+dfsg-1' : '24.0+dfsg-1ubuntu1.1', {
      '/usr/bin/pip3': shim('pip'),
      '/usr/bin/pip': shim('pip'),
    }, { section: 'python', depends: ['python3'] }),
    base('python3-venv', deb ? '3.11.2-1+b1' : '3.12.3-0ubuntu2', {}, { section: 'python', depends: ['python3'] }),
    base('python3-dev', deb ? '3.11.2-1+b1' : '3.12.3-0ubuntu2', {}, { section: 'python', depends: ['python3'] }),
    base('jq', deb ? '1.6-2.1' : '1.7.1-3build1', { '/usr/bin/jq': shim('jq') }),
    base('git', deb ? '1:2.39.5-0+deb12u1' : '1:2.43.0-1ubuntu7.1', { '/usr/bin/git': shim('tool') }, { section: 'vcs' }),
    base('vim', deb ? '2:9.0.1378-2' : '2:9.1.0016-1ubuntu7.3', { '/usr/bin/vim': shim('tool') }, { section: 'editors' }),
    base('htop', deb ? '3.2.2-2' : '3.3.0-4build1', { '/usr/bin/htop': shim('tool') }),
    base('rsync', deb ? '3.2.7-1' : '3.2.7-1ubuntu1', { '/usr/bin/rsync': shim('tool') }, { section: 'net' }),
    base('s-tui', deb ? '1.1.4-2' : '1.1.4-2', { '/usr/bin/s-tui': shim('tool') }),
    base('unzip', deb ? '6.0-28' : '6.0-28ubuntu4', { '/usr/bin/unzip': { link: 'busybox' } }),
    base('build-essential', deb ? '12.9' : '12.10ubuntu1', {
      '/usr/bin/gcc': shim('tool'),
      '/usr/bin/g++': shim('tool'),
      '/usr/bin/make': shim('tool'),
    }, { section: 'devel' }),
    base('pkg-config', deb ? '1.8.1-1' : '1.8.1-2build1', { '/usr/bin/pkg-config': shim('tool') }, { section: 'devel' }),
    base('fuse-overlayfs', deb ? '1.10-1' : '1.13-1', { '/usr/bin/fuse-overlayfs': shim('tool') }),
    base('openssl', deb ? '3.0.15-1~deb12u1' : '3.0.13-0ubuntu3.4', { '/usr/bin/openssl': shim('tool') }),
    base('nginx', deb ? '1.22.1-9' : '1.24.0-2ubuntu7.1', {
      '/usr/sbin/nginx': shim('daemon'),
      '/usr/lib/systemd/system/nginx.service': {
        text: unit('A high performance web server and a reverse proxy server', '/usr/sbin/nginx -g daemon on; master_process on;', { type: 'forking' }),
      },
    }, { section: 'httpd', services: ['nginx'] }),
    {
      name: 'containerd.io',
      version: '1.7.22-1',
      section: 'devel',
      maintainer: 'Containerd team <help@containerd.io>',
      description: 'An open and reliable container runtime',
      installedSize: 121000,
      repos: ['download.docker.com'],
      depends: [],
      files: {
        '/usr/bin/containerd': shim('daemon'),
        '/usr/bin/runc': shim('tool'),
        '/usr/lib/systemd/system/containerd.service': { text: unit('containerd container runtime', '/usr/bin/containerd') },
      },
      services: ['containerd'],
    },
    {
      name: 'docker-ce-cli',
      version: dockerVersion,
      section: 'admin',
      maintainer: 'Docker <support@docker.com>',
      description: 'Docker CLI: the open-source application container engine',
      installedSize: 37000,
      repos: ['download.docker.com'],
      depends: [],
      files: { '/usr/bin/docker': shim('docker') },
      services: [],
    },
    {
      name: 'docker-ce',
      version: dockerVersion,
      section: 'admin',
      maintainer: 'Docker <support@docker.com>',
      description: 'Docker: the open-source application container engine',
      installedSize: 101513,
      repos: ['download.docker.com'],
      depends: ['containerd.io', 'docker-ce-cli'],
      files: {
        '/usr/bin/dockerd': shim('daemon'),
        '/usr/lib/systemd/system/docker.service': {
          text: unit('Docker Application Container Engine', '/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock', {
            after: 'network-online.target containerd.service',
          }),
        },
      },
      services: ['docker'],
    },
    {
      name: 'docker-compose-plugin',
      version: '2.29.7-1',
      section: 'admin',
      maintainer: 'Docker <support@docker.com>',
      description: 'Docker Compose (V2) plugin for the Docker CLI.',
      installedSize: 61000,
      repos: ['download.docker.com'],
      depends: [],
      files: { '/usr/libexec/docker/cli-plugins/docker-compose': shim('docker') },
      services: [],
    },
    {
      name: 'docker-buildx-plugin',
      version: '0.17.1-1',
      section: 'admin',
      maintainer: 'Docker <support@docker.com>',
      description: 'Docker Buildx cli plugin.',
      installedSize: 84000,
      repos: ['download.docker.com'],
      depends: [],
      files: { '/usr/libexec/docker/cli-plugins/docker-buildx': shim('tool') },
      services: [],
    },
    base('docker.io', deb ? '20.10.24+dfsg1-1+b3' : '24.0.7-0ubuntu4.1', {
      '/usr/bin/docker': shim('docker'),
      '/usr/bin/dockerd': shim('daemon'),
      '/usr/lib/systemd/system/docker.service': { text: unit('Docker Application Container Engine', '/usr/bin/dockerd -H fd://') },
    }, { section: 'admin', services: ['docker'] }),
    ...['libnvidia-container1', 'libnvidia-container-tools', 'nvidia-container-toolkit-base'].map(
      (name): PackageDef => ({
        name,
        version: '1.17.4-1',
        section: 'utils',
        maintainer: 'NVIDIA CORPORATION <cudatools@nvidia.com>',
        description: `NVIDIA container runtime component (${name})`,
        installedSize: 3000,
        repos: nvidiaRepos,
        depends: [],
        files:
          name === 'nvidia-container-toolkit-base'
            ? { '/usr/bin/nvidia-ctk': shim('nvidia-ctk'), '/usr/bin/nvidia-container-runtime': shim('tool') }
            : name === 'libnvidia-container-tools'
              ? { '/usr/bin/nvidia-container-cli': shim('tool') }
              : {},
        services: [],
        // As the package's postinst does: the default config.toml, kept when it exists.
        ...(name === 'nvidia-container-toolkit-base'
          ? { postinst: '[ -f /etc/nvidia-container-runtime/config.toml ] || /usr/bin/nvidia-ctk config default --output=/etc/nvidia-container-runtime/config.toml' }
          : {}),
      }),
    ),
    {
      name: 'nvidia-container-toolkit',
      version: '1.17.4-1',
      section: 'utils',
      maintainer: 'NVIDIA CORPORATION <cudatools@nvidia.com>',
      description: 'NVIDIA Container toolkit',
      installedSize: 2500,
      repos: nvidiaRepos,
      depends: ['nvidia-container-toolkit-base', 'libnvidia-container-tools', 'libnvidia-container1'],
      files: { '/usr/bin/nvidia-container-runtime-hook': shim('tool') },
      services: [],
    },
    ...['12-4', '12-6', '12-8', '13-0'].map(
      (v): PackageDef => {
        const dotted = v.replace('-', '.');
        return {
          name: `cuda-toolkit-${v}`,
          version: `${dotted}.1-1`,
          section: 'devel',
          maintainer: 'cudatools <cudatools@nvidia.com>',
          description: `CUDA Toolkit ${dotted} meta-package`,
          installedSize: 4_500_000,
          repos: ['developer.download.nvidia.com'],
          depends: [],
          files: {
            [`/usr/local/cuda-${dotted}/bin/nvcc`]: shim('nvcc'),
            [`/usr/local/cuda-${dotted}/version.json`]: { text: `{\n   "cuda" : {\n      "name" : "CUDA SDK",\n      "version" : "${dotted}.1"\n   }\n}\n` },
            '/usr/local/cuda': { link: `/usr/local/cuda-${dotted}` },
          },
          services: [],
        };
      },
    ),
    {
      name: 'nvidia-utils-580',
      version: '580.95.05-0ubuntu1',
      section: 'utils',
      maintainer: UBUNTU_MAINT,
      description: 'NVIDIA driver support binaries',
      installedSize: 1900,
      repos: [],
      depends: [],
      files: { '/usr/bin/nvidia-smi': shim('nvidia-smi') },
      services: [],
      postinst: 'emu_nvidia_userspace 580.95.05',
    },
    {
      name: 'step-cli',
      version: '0.28.2-1',
      section: 'utils',
      maintainer: 'Smallstep Labs <techadmin@smallstep.com>',
      description: 'A zero trust swiss army knife for working with X509, OAuth, JWT, OATH OTP, etc.',
      installedSize: 40000,
      repos: ['packages.smallstep.com', 'dl.smallstep.com'],
      depends: [],
      files: { '/usr/bin/step-cli': shim('step'), '/usr/bin/step': { link: 'step-cli' } },
      services: [],
    },
    {
      name: 'step-ca',
      version: '0.28.1-1',
      section: 'utils',
      maintainer: 'Smallstep Labs <techadmin@smallstep.com>',
      description: 'An online certificate authority and related tools for secure automated certificate management',
      installedSize: 52000,
      repos: ['packages.smallstep.com', 'dl.smallstep.com'],
      depends: [],
      files: { '/usr/bin/step-ca': shim('step') },
      services: [],
    },
    {
      name: 'cuda-keyring',
      version: '1.1-1',
      section: 'utils',
      maintainer: 'cudatools <cudatools@nvidia.com>',
      description: 'GPG keyring for the CUDA repository',
      installedSize: 30,
      repos: ['developer.download.nvidia.com'],
      depends: [],
      files: {
        '/usr/share/keyrings/cuda-archive-keyring.gpg': { text: '\u0099\u0002\u000d\u0004cuda-archive-keyring\n' },
        [`/etc/apt/sources.list.d/cuda-${cudaDistro}-x86_64.list`]: {
          text: `deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg] https://developer.download.nvidia.com/compute/cuda/repos/${cudaDistro}/x86_64/ /\n`,
        },
      },
      services: [],
    },
  ];
}
