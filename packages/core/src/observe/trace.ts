/**
 * Trace export in the Trace Event Format (the JSON that Chrome's
 * `about:tracing` and Perfetto open): one track per CPU, complete slices
 * (`ph: 'X'`) for system calls, faults and lock waits, instant events
 * (`ph: 'i'`) for IPIs and TLB flushes. Timestamps are simulated
 * microseconds. A cap bounds the event count; when it cuts, the file says
 * so in its metadata and in a final instant event.
 * @module
 */

/** One trace event. */
export interface TraceEvent {
  /** Event name. */
  name: string;
  /** Category (`syscall`, `fault`, `lock`, `ipi`, `tlb`, …). */
  cat: string;
  /** Phase: `X` complete slice, `i` instant, `M` metadata. */
  ph: 'X' | 'i' | 'M';
  /** Start time, simulated µs. */
  ts: number;
  /** Duration, µs (slices). */
  dur?: number;
  /** Process id (always 1: the machine). */
  pid: number;
  /** Thread id: the CPU number. */
  tid: number;
  /** Instant scope: thread. */
  s?: 't';
  /** Extra arguments. */
  args?: Record<string, number | string>;
}

/** The trace file. */
export interface TraceFile {
  /** The events. */
  traceEvents: TraceEvent[];
  /** Display unit. */
  displayTimeUnit: 'ns';
  /** Notes about the trace. */
  metadata: TraceMetadata;
}

/** What the trace file says about itself. */
export interface TraceMetadata {
  /** Producer. */
  producer: string;
  /** Events recorded. */
  events: number;
  /** True when the cap cut the trace. */
  truncated: boolean;
  /** The cap. */
  maxEvents: number;
}

/** Default cap on recorded events. */
export const DEFAULT_TRACE_EVENTS = 200_000;

/** Records events while a kernel runs. */
export class TraceRecorder {
  private readonly events: TraceEvent[] = [];
  private truncated = false;
  /** The cap. */
  readonly maxEvents: number;

  constructor(maxEvents = DEFAULT_TRACE_EVENTS) {
    this.maxEvents = maxEvents;
  }

  private push(e: TraceEvent): void {
    if (this.events.length >= this.maxEvents) {
      this.truncated = true;
      return;
    }
    this.events.push(e);
  }

  /** A slice [startNs, endNs) on `cpu`. */
  slice(cpu: number, cat: string, name: string, startNs: number, endNs: number, args?: Record<string, number | string>): void {
    const e: TraceEvent = { name, cat, ph: 'X', ts: startNs / 1000, dur: Math.max(0, endNs - startNs) / 1000, pid: 1, tid: cpu };
    if (args !== undefined) e.args = args;
    this.push(e);
  }

  /** An instant event on `cpu` at `ns`. */
  instant(cpu: number, cat: string, name: string, ns: number, args?: Record<string, number | string>): void {
    const e: TraceEvent = { name, cat, ph: 'i', s: 't', ts: ns / 1000, pid: 1, tid: cpu };
    if (args !== undefined) e.args = args;
    this.push(e);
  }

  /** The trace file, with one named track per CPU. */
  toJSON(cpus: number): TraceFile {
    const meta: TraceEvent[] = [{ name: 'process_name', cat: '__metadata', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: 'mmlab machine' } }];
    for (let c = 0; c < cpus; c++) meta.push({ name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid: 1, tid: c, args: { name: `CPU ${c}` } });
    const body = this.events.slice();
    if (this.truncated) {
      const last = body.length > 0 ? body[body.length - 1]!.ts : 0;
      body.push({ name: `trace cut at ${this.maxEvents} events`, cat: 'mmlab', ph: 'i', s: 't', ts: last, pid: 1, tid: 0 });
    }
    return {
      traceEvents: [...meta, ...body],
      displayTimeUnit: 'ns',
      metadata: { producer: 'mmlab', events: this.events.length, truncated: this.truncated, maxEvents: this.maxEvents },
    };
  }
}
