// Resource use of one process over one scenario, from Linux's /proc: peak resident memory and CPU seconds.
// The kernel's own high-water mark (VmHWM) is reset at the start when we may (writing 5 to clear_refs), so a
// process that serves several phases reports each phase's own peak; a 100 ms poll of VmRSS covers kernels
// or users where the reset is refused.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of `pid` in seconds, or undefined once the process is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

function statusKb(pid: number, field: string): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Monotonic microseconds, the clock V8's CPU profiles use for their timestamps. */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Every sampled phase of this run, so that a profile can be cut down to the measured windows. */
export const sampledPhases: { readonly pid: number; readonly label: string; readonly startUs: number; readonly endUs: number }[] = [];

export interface ProcUsage {
  readonly peakRssBytes: number;
  readonly cpuSeconds: number;
}

/** Samples one process from start() to stop(). */
export class ProcSampler {
  readonly #pid: number;
  #cpuStart = 0;
  #cpuLast = 0;
  #peakKb = 0;
  #timer: NodeJS.Timeout | undefined;
  #startUs = 0;

  readonly #label: string;

  /** `label` names the phase in profile summaries. */
  constructor(pid: number, label = '') {
    this.#pid = pid;
    this.#label = label;
  }

  start(): this {
    try {
      writeFileSync(`/proc/${this.#pid}/clear_refs`, '5');
    } catch {
      // Not ours to reset: the lifetime peak stands in, still an upper bound.
    }
    this.#startUs = monotonicUs();
    this.#cpuStart = this.#cpuLast = cpuSeconds(this.#pid) ?? 0;
    this.#peakKb = statusKb(this.#pid, 'VmRSS') ?? 0;
    this.#timer = setInterval(() => this.#sample(), 100);
    this.#timer.unref();
    return this;
  }

  #sample(): void {
    const rss = statusKb(this.#pid, 'VmRSS');
    if (rss !== undefined && rss > this.#peakKb) this.#peakKb = rss;
    const cpu = cpuSeconds(this.#pid);
    if (cpu !== undefined) this.#cpuLast = cpu;
  }

  /** Call before the process exits: a reaped process has no /proc entry left to read. */
  stop(): ProcUsage {
    this.#sample();
    clearInterval(this.#timer);
    sampledPhases.push({ pid: this.#pid, label: this.#label, startUs: this.#startUs, endUs: monotonicUs() });
    const hwm = statusKb(this.#pid, 'VmHWM') ?? 0;
    return { peakRssBytes: Math.max(hwm, this.#peakKb) * 1024, cpuSeconds: this.#cpuLast - this.#cpuStart };
  }
}
