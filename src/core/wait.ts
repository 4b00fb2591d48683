// Deadlines, sleeps and polling with backoff: every wait in the suite has a deadline and says
// what it was waiting for when it gives up.
import { TimeoutError } from './errors.ts'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export class Deadline {
  readonly ms: number
  readonly end: number
  private readonly now: () => number
  constructor(ms: number, now: () => number = Date.now) {
    this.ms = ms
    this.now = now
    this.end = now() + ms
  }
  remaining(): number {
    return Math.max(0, this.end - this.now())
  }
  expired(): boolean {
    return this.remaining() === 0
  }
}

export interface BackoffOptions {
  initialMs?: number
  maxMs?: number
  factor?: number
  /** 0..1: the share of each delay that is randomised, so parallel pollers do not march in step. */
  jitter?: number
}

/** Delay before attempt n (0-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, o: BackoffOptions = {}, rand: () => number = Math.random): number {
  const { initialMs = 1000, maxMs = 30000, factor = 2, jitter = 0.2 } = o
  const base = Math.min(maxMs, initialMs * Math.pow(factor, attempt))
  return Math.round(base * (1 - jitter + jitter * rand()))
}

export interface PollOptions extends BackoffOptions {
  timeoutMs: number
  /** What is awaited, for the timeout message ("peering a-to-b to be Connected"). */
  what: string
  /** Called on timeout to describe the last state seen. */
  lastState?: () => string
  hint?: string
}

/** Calls `check` until it returns a value other than undefined, backing off between calls. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, o: PollOptions): Promise<T> {
  const deadline = new Deadline(o.timeoutMs)
  for (let attempt = 0; ; attempt++) {
    const v = await check()
    if (v !== undefined) return v
    if (deadline.expired()) {
      const state = o.lastState ? `; last state: ${o.lastState()}` : ''
      throw new TimeoutError(`timed out after ${formatDuration(o.timeoutMs)} waiting for ${o.what}${state}`, o.hint)
    }
    await sleep(Math.min(backoffDelay(attempt, o), deadline.remaining()))
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 }

/** Parses "90s", "5m", "1h30m", "250ms" or a bare number of seconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim()
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000)
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
  let total = 0
  let m: RegExpExecArray | null
  let consumed = 0
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * UNITS[m[2]]
    consumed = re.lastIndex
  }
  return consumed === t.length && consumed > 0 ? Math.round(total) : undefined
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(1)}s`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const r = Math.round(s % 60)
  return [h ? `${h}h` : '', m ? `${m}m` : '', r ? `${r}s` : ''].join('') || '0s'
}
