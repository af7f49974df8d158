/**
 * `phoenix openshift status|kubeconfig|kubeadmin-password|destroy`: the OpenShift view of the cluster.
 * Clusters are created by `apply` (they are part of the spec); this is the focused view, and the
 * only way credentials leave the secret store: on request, to stdout.
 */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, type CliIO } from '../io.js';

const actions = () => import('../actions/openshift.js');

export function registerOpenShift(program: Command, io: CliIO): void {
  const ocp = program.command('openshift').description('OpenShift clusters: install state and credentials');
  ocp
    .command('status')
    .description('install state of every OpenShift cluster (or one)')
    .argument('[cluster]', 'cluster name')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .addOption(new Option('--output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table' as const))
    .action(async (cluster, opts) => (await actions()).openshiftStatus(io, cluster, opts));
  ocp
    .command('kubeconfig')
    .description('print the kubeconfig of an installed cluster (stdout only; never logged)')
    .argument('<cluster>', 'cluster name')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .addHelpText('after', '\nExample:\n  phoenix openshift kubeconfig lab > ~/.kube/lab && KUBECONFIG=~/.kube/lab oc get nodes\n')
    .action(async (cluster, opts) => (await actions()).reveal(io, cluster, 'kubeconfig', opts));
  ocp
    .command('kubeadmin-password')
    .description('print the kubeadmin password of an installed cluster (stdout only)')
    .argument('<cluster>', 'cluster name')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .action(async (cluster, opts) => (await actions()).reveal(io, cluster, 'kubeadmin', opts));
  ocp
    .command('destroy')
    .description('remove a cluster: its VMs, the agent ISO on every node, its credentials and install record')
    .argument('<cluster>', 'cluster name')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .option('--yes', 'confirm')
    .option('--timeout <seconds>', 'give up waiting after this long', '1800')
    .action(async (cluster, opts) => (await actions()).destroyCluster(io, cluster, opts));
}
