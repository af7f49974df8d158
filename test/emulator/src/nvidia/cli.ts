/**
 * nvidia-smi's command line: parses argv like the real tool (options in any order, short options
 * with a separate value, long ones with `=`), reads the node's GPU state for every sample and
 * writes to an output sink. Used by the host executable (main.ts) and by the guest-side shim,
 * which reaches it over the guest host-link (guest/host-link.ts) with a filtered view of the GPUs.
 *
 * Messages go to stdout as the real tool prints them; exit codes are nvidia-smi's:
 * 0 ok, 2 invalid argument, 6 query unsuccessful / no device, 9 driver not loaded,
 * 18 driver/library version mismatch.
 */
import { appendFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { badFieldMessage, COMPUTE_APP_FIELDS, csvHeader, csvRow, GPU_FIELDS, parseFormat, resolveFields } from './query.js';
import type { AppRow, CsvFormat, QueryContext } from './query.js';
import { renderTextReport } from './report-text.js';
import { renderXmlReport } from './report-xml.js';
import { readGpuState, updateGpuByUuid } from './state.js';
import type { DriverInfo, EmulatedGpu, GpuState } from './state.js';
import { renderList, renderSummary } from './summary.js';
import { DMON_GROUP_ORDER, dmonHeader, dmonRows, renderTopo } from './topo-dmon.js';
import type { DmonOptions } from './topo-dmon.js';
import { watts } from './text-format.js';

export const EXIT = { OK: 0, INVALID: 2, NOT_FOUND: 6, NO_DRIVER: 9, VERSION_MISMATCH: 18, OTHER: 255 } as const;

export const MSG_NO_DRIVER =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. " +
  'Make sure that the latest NVIDIA driver is installed and running.\n\n';
export const MSG_NO_DEVICES = 'No devices were found\n';
const MSG_INVALID_COMBINATION = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n";

/** Where output goes; `closed()` turns true once the reader is gone (EPIPE, socket closed). */
export interface Output {
  write(text: string): Promise<void>;
  closed(): boolean;
}

/**
 * An Output over a stream that counts as closed once it fails (or emits one of `endEvents`);
 * `frame` turns each text into what goes on the wire.
 */
export function streamOutput(
  stream: NodeJS.WritableStream,
  frame: (text: string) => string | Buffer = (text) => text,
  endEvents: readonly string[] = ['error'],
): Output {
  let closed = false;
  for (const ev of endEvents) {
    stream.on(ev, () => {
      closed = true;
    });
  }
  return {
    closed: () => closed,
    write: (text) =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        stream.write(frame(text), (err) => {
          if (err) closed = true;
          resolve();
        });
      }),
  };
}

/** What a guest sees of the host driver (see guest/host-link.ts). */
export interface GuestView {
  /** Minor numbers of the /dev/nvidia<minor> nodes present in the guest (containers). */
  visibleMinors: readonly number[];
  /** PCI bus ids of the host GPUs passed through to the guest (VMs). */
  pciBusIds?: readonly string[];
  /** Version of the user-space driver installed in the guest. */
  userspaceVersion: string;
  /** The guest runs its own kernel driver (a VM with PCI passthrough), not the host's. */
  ownDriver?: boolean;
}

export interface RunContext {
  stateDir: string;
  out: Output;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  guest?: GuestView;
  now?: () => Date;
}

interface Options {
  help: boolean;
  version: boolean;
  list: boolean;
  query: boolean;
  xml: boolean;
  ids: string[] | null;
  file: string | null;
  loopMs: number | null;
  queryGpu: string | null;
  queryApps: string | null;
  format: string | null;
  persistence: string | null;
  powerLimit: string | null;
  sub: 'topo' | 'dmon' | null;
  topoMatrix: boolean;
  dmonCount: number | null;
  dmonDelayS: number;
  dmonGroups: string;
  dmonOut: string;
}

class UsageError extends Error {
  constructor(readonly text: string) {
    super(text.trim());
  }
}

const unknownOption = (arg: string): UsageError =>
  new UsageError(`ERROR: Option ${arg} is not recognized. Please run 'nvidia-smi -h'.\n`);

function positiveNumber(v: string | undefined): number {
  const n = v === undefined ? Number.NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(MSG_INVALID_COMBINATION);
  return n;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    help: false,
    version: false,
    list: false,
    query: false,
    xml: false,
    ids: null,
    file: null,
    loopMs: null,
    queryGpu: null,
    queryApps: null,
    format: null,
    persistence: null,
    powerLimit: null,
    sub: null,
    topoMatrix: false,
    dmonCount: null,
    dmonDelayS: 1,
    dmonGroups: 'puc',
    dmonOut: '',
  };
  let i = 0;
  if (argv[0] === 'topo' || argv[0] === 'dmon') {
    o.sub = argv[0];
    i = 1;
  }
  const valueOf = (arg: string): string => {
    const eq = arg.indexOf('=');
    if (eq >= 0) return arg.slice(eq + 1);
    const next = argv[i + 1];
    if (next === undefined) throw new UsageError(MSG_INVALID_COMBINATION);
    i++;
    return next;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const key = arg.startsWith('--') ? arg.split('=')[0] ?? arg : arg.replace(/=.*$/, '');
    if (o.sub === 'topo') {
      if (key === '-m' || key === '--matrix') o.topoMatrix = true;
      else throw unknownOption(arg);
      continue;
    }
    if (o.sub === 'dmon') {
      switch (key) {
        case '-c':
        case '--count':
          o.dmonCount = Math.trunc(positiveNumber(valueOf(arg)));
          break;
        case '-d':
        case '--delay':
          o.dmonDelayS = positiveNumber(valueOf(arg));
          break;
        case '-i':
        case '--id':
          o.ids = valueOf(arg).split(',');
          break;
        case '-s':
        case '--select': {
          const s = valueOf(arg);
          if (![...s].every((c) => DMON_GROUP_ORDER.includes(c))) throw new UsageError(MSG_INVALID_COMBINATION);
          o.dmonGroups = s;
          break;
        }
        case '-o':
        case '--options':
          o.dmonOut = valueOf(arg);
          break;
        default:
          throw unknownOption(arg);
      }
      continue;
    }
    switch (key) {
      case '-h':
      case '--help':
        o.help = true;
        break;
      case '--version':
        o.version = true;
        break;
      case '-L':
      case '--list-gpus':
        o.list = true;
        break;
      case '-q':
      case '--query':
        o.query = true;
        break;
      case '-x':
      case '--xml-format':
        o.xml = true;
        break;
      case '-i':
      case '--id':
        o.ids = valueOf(arg).split(',');
        break;
      case '-f':
      case '--filename':
        o.file = valueOf(arg);
        break;
      case '-l':
      case '--loop':
        o.loopMs = positiveNumber(valueOf(arg)) * 1000;
        break;
      case '-lms':
      case '--loop-ms':
        o.loopMs = positiveNumber(valueOf(arg));
        break;
      case '--query-gpu':
        o.queryGpu = valueOf(arg);
        break;
      case '--query-compute-apps':
        o.queryApps = valueOf(arg);
        break;
      case '--format':
        o.format = valueOf(arg);
        break;
      case '-pm':
      case '--persistence-mode':
        o.persistence = valueOf(arg);
        break;
      case '-pl':
      case '--power-limit':
        o.powerLimit = valueOf(arg);
        break;
      default:
        throw unknownOption(arg);
    }
  }
  const queries = (o.queryGpu !== null ? 1 : 0) + (o.queryApps !== null ? 1 : 0);
  if (queries > 1 || (queries === 1) !== (o.format !== null)) throw new UsageError(MSG_INVALID_COMBINATION);
  if ((o.list && (o.query || queries > 0)) || (o.xml && !o.query) || (o.query && queries > 0)) {
    throw new UsageError(MSG_INVALID_COMBINATION);
  }
  if (o.sub === 'topo' && !o.topoMatrix) throw new UsageError(MSG_INVALID_COMBINATION);
  return o;
}

const HELP = `NVIDIA System Management Interface -- v${'$VERSION'}

NVSMI provides monitoring information for Tesla and select Quadro devices.
The data is presented in either a plain text or an XML format, via stdout or a file.
NVSMI also provides several management operations for changing the device state.

nvidia-smi [OPTION1 [ARG1]] [OPTION2 [ARG2]] ...

    -h,   --help                Print usage information and exit.
          --version             Print version information and exit.

  LIST OPTIONS:

    -L,   --list-gpus           Display a list of GPUs connected to the system.

  SUMMARY OPTIONS:

    <no arguments>              Show a summary of GPUs connected to the system.

    [plus any of]

    -i,   --id=                 Target a specific GPU.
    -f,   --filename=           Log to a specified file, rather than to stdout.
    -l,   --loop=               Probe until Ctrl+C at specified second interval.

  QUERY OPTIONS:

    -q,   --query               Display GPU or Unit info.

    [plus any of]

    -i,   --id=                 Target a specific GPU or Unit.
    -x,   --xml-format          Produce XML output.
    -l,   --loop=               Probe until Ctrl+C at specified second interval.
    -lms, --loop-ms=            Probe until Ctrl+C at specified millisecond interval.

  SELECTIVE QUERY OPTIONS:

    Allows the caller to pass an explicit list of properties to query.

    [one of]

    --query-gpu                 Information about GPU.
    --query-compute-apps        List of active compute processes.

    [mandatory]

    --format=                   Comma separated list of format options:
                                  csv - comma separated values (MANDATORY)
                                  noheader - skip the first line with column headers
                                  nounits - don't print units for numerical values

  DEVICE MODIFICATION OPTIONS:

    -pm,  --persistence-mode=   Set persistence mode: 0/DISABLED, 1/ENABLED
    -pl,  --power-limit=        Specifies maximum power management limit in watts.

  SUBCOMMANDS:

    topo                        Displays device/system topology.
    dmon                        Displays device stats in scrolling format.
`;

/** Selects GPUs by index, UUID or PCI bus id; null when any id matches nothing. */
function selectGpus(gpus: readonly EmulatedGpu[], ids: readonly string[] | null): EmulatedGpu[] | null {
  if (ids === null) return [...gpus];
  const out: EmulatedGpu[] = [];
  for (const raw of ids) {
    const id = raw.trim();
    const g = gpus.find(
      (x) =>
        String(x.index) === id ||
        x.uuid.toLowerCase() === id.toLowerCase() ||
        x.pciBusId.toLowerCase() === id.toLowerCase() ||
        x.pciBusId.toLowerCase().endsWith(`:${id.toLowerCase()}`) ||
        x.pciBusId.slice(4).toLowerCase() === id.toLowerCase(),
    );
    if (g === undefined) return null;
    if (!out.includes(g)) out.push(g);
  }
  return out.sort((a, b) => a.index - b.index);
}

type Snapshot = { kind: 'ok'; driver: DriverInfo; gpus: EmulatedGpu[] } | { kind: 'fail'; text: string; code: number };

/** Reads the state as the caller sees it: the host, or a guest with some of the host's GPUs. */
async function snapshot(ctx: RunContext): Promise<Snapshot> {
  let state: GpuState | null;
  try {
    state = await readGpuState(ctx.stateDir, ctx.env ?? process.env);
  } catch (err) {
    return { kind: 'fail', text: `Unable to determine the device handle: ${(err as Error).message}\n`, code: EXIT.OTHER };
  }
  if (state === null || state.driver === null) return { kind: 'fail', text: MSG_NO_DRIVER, code: EXIT.NO_DRIVER };
  let driver: DriverInfo = state.driver;
  const vm = ctx.guest?.ownDriver === true;
  // GPUs bound to vfio-pci (for VM passthrough) are not the host driver's: only a VM sees them.
  let gpus = state.gpus
    .filter((g) => (vm ? g.driverBinding === 'vfio-pci' : g.driverBinding === 'nvidia'))
    .sort((a, b) => (a.pciBusId < b.pciBusId ? -1 : a.pciBusId > b.pciBusId ? 1 : 0))
    // nvidia-smi numbers the GPUs its driver enumerates, in PCI order.
    .map((g, i) => ({ ...g, index: i }));
  if (vm && ctx.guest !== undefined) {
    driver = { ...driver, version: ctx.guest.userspaceVersion };
  } else if (ctx.guest !== undefined && ctx.guest.userspaceVersion !== state.driver.version) {
    const nvml = ctx.guest.userspaceVersion.split('.').slice(0, 2).join('.');
    return {
      kind: 'fail',
      text: `Failed to initialize NVML: Driver/library version mismatch\nNVML library version: ${nvml}\n`,
      code: EXIT.VERSION_MISMATCH,
    };
  }
  if (ctx.guest !== undefined && vm) {
    const assigned = new Set((ctx.guest.pciBusIds ?? []).map((b) => b.toLowerCase()));
    gpus = gpus.filter((g) => assigned.has(g.pciBusId.toLowerCase())).map((g, i) => ({ ...g, index: i, minorNumber: i }));
  } else if (ctx.guest !== undefined) {
    const visible = new Set(ctx.guest.visibleMinors);
    gpus = gpus.filter((g) => visible.has(g.minorNumber)).map((g, i) => ({ ...g, index: i }));
  }
  if (gpus.length === 0) return { kind: 'fail', text: MSG_NO_DEVICES, code: EXIT.NOT_FOUND };
  return { kind: 'ok', driver, gpus };
}

function csvFor(fmtSpec: string): CsvFormat {
  const fmt = parseFormat(fmtSpec);
  if (fmt === null) throw new UsageError(MSG_INVALID_COMBINATION);
  return fmt;
}

async function setPersistence(ctx: RunContext, gpus: EmulatedGpu[], value: string): Promise<string> {
  const on = /^(1|enabled)$/i.test(value);
  if (!on && !/^(0|disabled)$/i.test(value)) throw new UsageError(MSG_INVALID_COMBINATION);
  let text = '';
  for (const g of gpus) {
    if (g.persistenceMode === on) {
      text += `Persistence mode is already ${on ? 'Enabled' : 'Disabled'} for GPU ${g.pciBusId}.\n`;
    } else {
      await updateGpuByUuid(ctx.stateDir, g.uuid, { persistenceMode: on });
      text += `${on ? 'Enabled' : 'Disabled'} persistence mode for GPU ${g.pciBusId}.\n`;
    }
  }
  return `${text}All done.\n`;
}

async function setPowerLimit(ctx: RunContext, gpus: EmulatedGpu[], value: string): Promise<[string, number]> {
  const limit = Number(value);
  if (!Number.isFinite(limit)) throw new UsageError(MSG_INVALID_COMBINATION);
  let text = '';
  for (const g of gpus) {
    if (limit < g.powerMinLimitW || limit > g.powerMaxLimitW) {
      return [
        `${text}Provided power limit ${watts(limit)} W is not a valid power limit which should be between ` +
          `${watts(g.powerMinLimitW)} W and ${watts(g.powerMaxLimitW)} W for GPU ${g.pciBusId}\n` +
          'Terminating early due to previous errors.\n',
        EXIT.INVALID,
      ];
    }
    await updateGpuByUuid(ctx.stateDir, g.uuid, { powerLimitW: limit });
    text += `Power limit for GPU ${g.pciBusId} was set to ${watts(limit)} W from ${watts(g.powerLimitW)} W.\n`;
  }
  return [`${text}All done.\n`, EXIT.OK];
}

/** `-f FILE`: output goes to the file (truncated first), messages too, as with the real tool. */
function fileOutput(path: string): Output {
  let first = true;
  return {
    closed: () => false,
    write: async (text) => {
      if (first) await writeFile(path, text);
      else await appendFile(path, text);
      first = false;
    },
  };
}

/** Runs one nvidia-smi invocation; resolves to its exit code. */
export async function runNvidiaSmi(argv: readonly string[], runCtx: RunContext): Promise<number> {
  let ctx = runCtx;
  const now = ctx.now ?? (() => new Date());
  let o: Options;
  try {
    o = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      await ctx.out.write(err.text);
      return EXIT.INVALID;
    }
    throw err;
  }
  if (o.file !== null) ctx = { ...ctx, out: fileOutput(o.file) };
  if (o.help) {
    const snap = await snapshot(ctx);
    await ctx.out.write(HELP.replace('$VERSION', snap.kind === 'ok' ? snap.driver.version : '580.159.04'));
    return EXIT.OK;
  }

  let fmt: CsvFormat | null = null;
  let gpuFields = null;
  let appFields = null;
  try {
    if (o.format !== null) fmt = csvFor(o.format);
  } catch (err) {
    if (err instanceof UsageError) {
      await ctx.out.write(err.text);
      return EXIT.INVALID;
    }
    throw err;
  }
  if (o.queryGpu !== null) {
    const r = resolveFields(GPU_FIELDS, o.queryGpu);
    if (!r.ok) {
      await ctx.out.write(badFieldMessage(r.bad));
      return EXIT.INVALID;
    }
    gpuFields = r.fields;
  }
  if (o.queryApps !== null) {
    const r = resolveFields(COMPUTE_APP_FIELDS, o.queryApps);
    if (!r.ok) {
      await ctx.out.write(badFieldMessage(r.bad));
      return EXIT.INVALID;
    }
    appFields = r.fields;
  }

  const dmonOpts: DmonOptions = {
    groups: o.dmonGroups,
    date: o.dmonOut.toUpperCase().includes('D'),
    time: o.dmonOut.toUpperCase().includes('T'),
  };
  const loopMs = o.sub === 'dmon' ? o.dmonDelayS * 1000 : o.loopMs;
  let sample = 0;
  for (;;) {
    if (ctx.signal?.aborted === true || ctx.out.closed()) return EXIT.OK;
    const snap = await snapshot(ctx);
    if (snap.kind === 'fail') {
      await ctx.out.write(snap.text);
      return snap.code;
    }
    const gpus = selectGpus(snap.gpus, o.ids);
    if (gpus === null) {
      await ctx.out.write(MSG_NO_DEVICES);
      return EXIT.NOT_FOUND;
    }
    const t = now();
    const qctx: QueryContext = { driver: snap.driver, now: t, count: snap.gpus.length };

    if (o.version) {
      const v = snap.driver.version;
      await ctx.out.write(
        `NVIDIA-SMI version  : ${v}\nNVML version        : ${v.split('.').slice(0, 2).join('.')}\n` +
          `DRIVER version      : ${v}\nCUDA Version        : ${snap.driver.cudaVersion}\n`,
      );
      return EXIT.OK;
    }
    if (o.persistence !== null || o.powerLimit !== null) {
      try {
        if (o.persistence !== null) await ctx.out.write(await setPersistence(ctx, gpus, o.persistence));
        if (o.powerLimit !== null) {
          const [text, code] = await setPowerLimit(ctx, gpus, o.powerLimit);
          await ctx.out.write(text);
          return code;
        }
      } catch (err) {
        if (err instanceof UsageError) {
          await ctx.out.write(err.text);
          return EXIT.INVALID;
        }
        throw err;
      }
      return EXIT.OK;
    }

    let text: string;
    if (o.sub === 'topo') text = renderTopo(gpus);
    else if (o.sub === 'dmon') text = (sample === 0 ? dmonHeader(dmonOpts) : '') + dmonRows(dmonOpts, gpus, t);
    else if (o.list) text = renderList(gpus);
    else if (gpuFields !== null && fmt !== null) {
      text = (sample === 0 && fmt.header ? csvHeader(gpuFields) : '') + gpus.map((g) => csvRow(gpuFields, g, qctx, fmt)).join('');
    } else if (appFields !== null && fmt !== null) {
      const rows: AppRow[] = gpus.flatMap((g) => g.computeApps.map((app) => ({ gpu: g, app })));
      text = (sample === 0 && fmt.header ? csvHeader(appFields) : '') + rows.map((r) => csvRow(appFields, r, qctx, fmt)).join('');
    } else if (o.query) text = o.xml ? renderXmlReport(snap.driver, gpus, t) : renderTextReport(snap.driver, gpus, t);
    else text = renderSummary(snap.driver, gpus, t);

    if (text !== '') await ctx.out.write(text);
    sample++;
    const once = o.sub === 'topo' || o.list || loopMs === null;
    if (once || (o.sub === 'dmon' && o.dmonCount !== null && sample >= o.dmonCount)) return EXIT.OK;
    try {
      await sleep(loopMs, undefined, ctx.signal === undefined ? {} : { signal: ctx.signal });
    } catch {
      return EXIT.OK;
    }
  }
}
