// A log-linear latency histogram (the HdrHistogram idea, tiny): exact below 128, then 64 sub-buckets per
// power of two, so every recorded value is kept to within 1/64 (1.6%) — far finer than the run-to-run
// noise of a shared machine, in a fixed 2,048-slot array however many millions of samples arrive.

const EXACT = 128;
const SUB = 64;
const SLOTS = 2048;

function slotOf(v: number): number {
  if (v < EXACT) return v;
  const bits = v < 2 ** 31 ? 32 - Math.clz32(v) : Math.floor(Math.log2(v)) + 1;
  const shift = bits - 7;
  const slot = EXACT + (shift - 1) * SUB + (Math.floor(v / 2 ** shift) - SUB);
  return Math.min(slot, SLOTS - 1);
}

/** The middle of the slot's value range: what a percentile falling in that slot reports. */
function valueOf(slot: number): number {
  if (slot < EXACT) return slot;
  const shift = Math.floor((slot - EXACT) / SUB) + 1;
  const mantissa = ((slot - EXACT) % SUB) + SUB;
  return mantissa * 2 ** shift + 2 ** (shift - 1);
}

export class Histogram {
  readonly #counts = new Float64Array(SLOTS);
  #n = 0;
  #min = Infinity;
  #max = 0;
  #sum = 0;

  /** Records one non-negative value (the bench records microseconds); fractions are truncated. */
  record(value: number): void {
    const v = Math.max(0, Math.floor(value));
    this.#counts[slotOf(v)]! += 1;
    this.#n++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#n;
  }

  /** Value at or below which `p` percent of the samples fall; NaN when empty. */
  percentile(p: number): number {
    if (this.#n === 0) return NaN;
    if (p <= 0) return this.#min;
    if (p >= 100) return this.#max;
    const rank = Math.ceil((p / 100) * this.#n);
    let seen = 0;
    for (let s = 0; s < SLOTS; s++) {
      seen += this.#counts[s]!;
      if (seen >= rank) return Math.min(Math.max(valueOf(s), this.#min), this.#max);
    }
    return this.#max;
  }

  summary(): LatencySummary {
    return {
      count: this.#n,
      minUs: this.#n === 0 ? NaN : this.#min,
      meanUs: this.#n === 0 ? NaN : this.#sum / this.#n,
      p50Us: this.percentile(50),
      p90Us: this.percentile(90),
      p99Us: this.percentile(99),
      p999Us: this.percentile(99.9),
      p9999Us: this.percentile(99.99),
      maxUs: this.#n === 0 ? NaN : this.#max,
    };
  }
}

export interface LatencySummary {
  readonly count: number;
  readonly minUs: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly p9999Us: number;
  readonly maxUs: number;
}

/** Percentiles the chart and the JSON carry, in order. */
export const PERCENTILES = [50, 90, 99, 99.9, 99.99] as const;
