/**
 * The distributions a guest rootfs can look like, chosen from the Proxmox template name
 * (e.g. `local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst`). Unknown names get Debian 12,
 * the default template of `pveam available --section system` on PVE 8.
 */

export interface GuestOs {
  /** Key of the cached base rootfs. */
  key: string;
  id: 'debian' | 'ubuntu';
  versionId: string;
  codename: string;
  prettyName: string;
  osRelease: string;
  debianVersion: string;
  lsbRelease: string | null;
  sourcesList: string;
  /** Archive host names apt reaches for the base repositories. */
  archiveHosts: string[];
  pythonVersion: string;
  /** Packages the template ships installed, beyond the essential set. */
  templatePackages: string[];
}

const DEBIAN_12: GuestOs = {
  key: 'debian-12',
  id: 'debian',
  versionId: '12',
  codename: 'bookworm',
  prettyName: 'Debian GNU/Linux 12 (bookworm)',
  osRelease: [
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
    'NAME="Debian GNU/Linux"',
    'VERSION_ID="12"',
    'VERSION="12 (bookworm)"',
    'VERSION_CODENAME=bookworm',
    'ID=debian',
    'HOME_URL="https://www.debian.org/"',
    'SUPPORT_URL="https://www.debian.org/support"',
    'BUG_REPORT_URL="https://bugs.debian.org/"',
    '',
  ].join('\n'),
  debianVersion: '12.7\n',
  lsbRelease: null,
  sourcesList: [
    'deb http://deb.debian.org/debian bookworm main contrib',
    '',
    'deb http://deb.debian.org/debian bookworm-updates main contrib',
    '',
    '# security updates',
    'deb http://security.debian.org bookworm-security main contrib',
    '',
  ].join('\n'),
  archiveHosts: ['deb.debian.org', 'security.debian.org'],
  pythonVersion: '3.11.2',
  templatePackages: ['ca-certificates', 'curl', 'wget', 'locales', 'openssh-server', 'cron', 'procps', 'iputils-ping'],
};

function ubuntu(version: '22.04' | '24.04'): GuestOs {
  const noble = version === '24.04';
  const codename = noble ? 'noble' : 'jammy';
  const point = noble ? '24.04.1' : '22.04.5';
  const nick = noble ? 'Noble Numbat' : 'Jammy Jellyfish';
  return {
    key: `ubuntu-${version}`,
    id: 'ubuntu',
    versionId: version,
    codename,
    prettyName: `Ubuntu ${point} LTS`,
    osRelease: [
      `PRETTY_NAME="Ubuntu ${point} LTS"`,
      'NAME="Ubuntu"',
      `VERSION_ID="${version}"`,
      `VERSION="${point} LTS (${nick})"`,
      `VERSION_CODENAME=${codename}`,
      'ID=ubuntu',
      'ID_LIKE=debian',
      'HOME_URL="https://www.ubuntu.com/"',
      'SUPPORT_URL="https://help.ubuntu.com/"',
      'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"',
      'PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"',
      `UBUNTU_CODENAME=${codename}`,
      'LOGO=ubuntu-logo',
      '',
    ].join('\n'),
    debianVersion: noble ? 'trixie/sid\n' : 'bookworm/sid\n',
    lsbRelease: [
      'DISTRIB_ID=Ubuntu',
      `DISTRIB_RELEASE=${version}`,
      `DISTRIB_CODENAME=${codename}`,
      `DISTRIB_DESCRIPTION="Ubuntu ${point} LTS"`,
      '',
    ].join('\n'),
    sourcesList: [
      `deb http://archive.ubuntu.com/ubuntu ${codename} main restricted universe multiverse`,
      '',
      `deb http://archive.ubuntu.com/ubuntu ${codename}-updates main restricted universe multiverse`,
      '',
      `deb http://archive.ubuntu.com/ubuntu ${codename}-security main restricted universe multiverse`,
      '',
    ].join('\n'),
    archiveHosts: ['archive.ubuntu.com', 'security.ubuntu.com'],
    pythonVersion: noble ? '3.12.3' : '3.10.12',
    templatePackages: [
      'ca-certificates',
      'curl',
      'wget',
      'gnupg',
      'lsb-release',
      'locales',
      'python3',
      'sudo',
      'openssh-server',
      'cron',
      'procps',
      'iputils-ping',
    ],
  };
}

export const GUEST_OSES: readonly GuestOs[] = [DEBIAN_12, ubuntu('22.04'), ubuntu('24.04')];

/** The distribution a template name stands for (Debian 12 when it names none we know). */
export function guestOsFor(osTemplate: string | undefined): GuestOs {
  const name = (osTemplate ?? '').toLowerCase();
  if (/ubuntu-24\.04|ubuntu-24|noble/.test(name)) return ubuntu('24.04');
  if (/ubuntu-22\.04|ubuntu-22|jammy/.test(name)) return ubuntu('22.04');
  if (/ubuntu/.test(name)) return ubuntu('24.04');
  return DEBIAN_12;
}
