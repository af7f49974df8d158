import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  CommandFailedError,
  FailedPreconditionError,
  InvalidArgumentError,
  LockedError,
  NodeDownError,
  NotFoundError,
  TimeoutError,
} from '@phoenix/shared';
import { mapToolFailure, parseParamErrors } from './tool-errors.js';

const fail = (tool: string, args: string[], stderr: string, exitCode = 255) =>
  mapToolFailure({ tool, subcommand: args[0] ?? '', args, exitCode, stdout: '', stderr }, new Error('execa'));

describe('mapping the tools’ real error texts', () => {
  it.each([
    ['pct', ['config', '999'], "Configuration file 'nodes/pve/lxc/999.conf' does not exist", NotFoundError, 2],
    ['qm', ['config', '999'], "Configuration file 'nodes/pve/qemu-server/999.conf' does not exist", NotFoundError, 2],
    ['qm', ['status', '999'], "unable to find configuration file for VM 999 on node 'pve'", NotFoundError, 255],
    ['zfs', ['list', 'rpool/x'], "cannot open 'rpool/x': dataset does not exist", NotFoundError, 1],
    ['zpool', ['list', 'foo'], "cannot open 'foo': no such pool", NotFoundError, 1],
    ['pvesm', ['list', 'x'], "storage 'x' does not exist", NotFoundError, 255],
    ['pct', ['clone', '900', '901'], "snapshot 'final-form' does not exist", NotFoundError, 255],
    ['pct', ['create', '100'], "CT 100 already exists on node 'pve'", AlreadyExistsError, 255],
    ['qm', ['create', '100'], "unable to create VM 100 - VM 100 already exists on node 'pve'", AlreadyExistsError, 255],
    ['pct', ['snapshot', '100', 's'], "snapshot name 's1' already used", AlreadyExistsError, 255],
    ['pct', ['start', '100'], 'CT is locked (create)', LockedError, 255],
    ['qm', ['set', '100'], 'VM is locked (clone)', LockedError, 255],
    ['pct', ['set', '100'], "trying to acquire lock...\ncan't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout", LockedError, 255],
    ['pct', ['start', '100'], 'CT 100 already running', FailedPreconditionError, 255],
    ['pct', ['template', '100'], 'unable to create template, because CT contains snapshots', FailedPreconditionError, 0],
    ['pct', ['list'], 'ipcc_send_rec[1] failed: Connection refused', NodeDownError, 255],
    ['pvesh', ['get', '/nodes'], 'cluster not ready - no quorum?', NodeDownError, 255],
    ['qm', ['agent', '100', 'ping'], 'command failed: got timeout', TimeoutError, 255],
    ['pct', ['start', '100'], 'something odd happened', CommandFailedError, 255],
  ] as const)('%s %j: %s', (tool, args, stderr, cls, code) => {
    const err = fail(tool, [...args], stderr, code);
    expect(err).toBeInstanceOf(cls);
    expect(err.cause).toBeDefined();
    expect(err.details['exitCode']).toBe(code);
  });

  it('turns 400 Parameter verification failed into InvalidArgumentError with every parameter line', () => {
    const stderr = [
      '400 Parameter verification failed.',
      'cores: value must have a minimum value of 1',
      'net0: invalid format - format error',
      'net0.ip: invalid format - value does not look like a valid CIDR network',
      '',
      'pct set <vmid> [OPTIONS]',
    ].join('\n');
    const err = fail('pct', ['set', '100', '--cores', '0', '--net0', 'name=eth0,ip=bad'], stderr);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('cores');
    expect(err.message).toContain('cores: value must have a minimum value of 1');
    expect(err.message).toContain('net0: invalid format - format error');
    expect(err.message).toContain('(got "0")');
    expect(err.details['params']).toHaveLength(3);
    expect(parseParamErrors(stderr).map((p) => p.param)).toEqual(['cores', 'net0', 'net0.ip']);
  });

  it('maps the usage-style 400 errors and nextid conflicts', () => {
    expect(fail('pct', ['snapshot', '100'], '400 not enough arguments\npct snapshot <vmid> <snapname> [OPTIONS]')).toBeInstanceOf(InvalidArgumentError);
    expect(fail('pvesh', ['get', '/cluster/nextid'], '400 Parameter verification failed.\nvmid: VM 100 already exists\n')).toBeInstanceOf(AlreadyExistsError);
    expect(fail('pveam', ['download', 'local', 'x'], '400 Parameter verification failed.\ntemplate: no such template\n')).toBeInstanceOf(NotFoundError);
  });
});
