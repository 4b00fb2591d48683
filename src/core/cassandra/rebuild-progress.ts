// Progress of one node's rebuild from successive `nodetool netstats` samples: bytes and percent,
// rate over a sliding window, ETA, and stall detection (no byte received for `stallMs`). Pure,
// with an injected clock so the tests drive time.
import { formatDuration } from '../wait.ts'
import type { ReceiveProgress } from './netstats.ts'

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`
}

export interface StallInfo {
  /** How long no byte has arrived. */
  forMs: number
  /** Peers that still owe bytes ("127.0.0.1 12.0 KiB/40.0 KiB"); empty when no session is known yet. */
  peers: string[]
}

interface Sample {
  at: number
  done: number
}

interface SessionState {
  peer: string
  done: number
  total: number
  /** a Receiving line was seen: a later listing without it means the session completed */
  seen: boolean
}

export class NodeProgress {
  readonly node: string
  private readonly stallMs: number
  private readonly windowMs: number
  private readonly now: () => number
  /**
   * Highest numbers seen per stream session (plan + peer). netstats drops a session's Receiving
   * line once it completes (captured: the peer line stays, the numbers go), and a resumed rebuild
   * is a new plan, so the sum over sessions is what this node received while we watched.
   */
  private readonly sessions = new Map<string, SessionState>()
  private samples: Sample[] = []
  private lastGrowthAt: number
  last?: ReceiveProgress
  readonly startedAt: number

  constructor(node: string, o: { stallMs: number; windowMs?: number; now?: () => number }) {
    this.node = node
    this.stallMs = o.stallMs
    this.windowMs = o.windowMs ?? 5 * 60_000
    this.now = o.now ?? Date.now
    this.startedAt = this.now()
    this.lastGrowthAt = this.startedAt
  }

  private sum(f: (s: SessionState) => number): number {
    let n = 0
    for (const s of this.sessions.values()) n += f(s)
    return n
  }

  get doneBytes(): number {
    return this.sum((s) => s.done)
  }

  get totalBytes(): number {
    return this.sum((s) => s.total)
  }

  /** Percent over every session seen; undefined while no total is known. */
  get percent(): number | undefined {
    const t = this.totalBytes
    return t > 0 ? (100 * this.doneBytes) / t : undefined
  }

  get complete(): boolean {
    const t = this.totalBytes
    return t > 0 && this.doneBytes >= t && [...this.sessions.values()].every((s) => s.seen)
  }

  /** Sessions still owed bytes, for messages ("127.0.1.1 1.0 MiB/8.0 MiB"). */
  pending(): SessionState[] {
    return [...this.sessions.values()].filter((s) => !s.seen || s.done < s.total)
  }

  /**
   * The rebuild exited 0: every session seen has received all it announced. (Whole-SSTable
   * streaming counts bytes per finished file, so the last sample before the exit may lag.)
   */
  succeeded(): void {
    for (const s of this.sessions.values()) if (s.seen) s.done = s.total
  }

  sample(p: ReceiveProgress): void {
    const at = this.now()
    this.last = p
    const before = this.doneBytes
    for (const x of p.sessions) {
      const key = `${x.planId}/${x.peer}`
      const cur = this.sessions.get(key) ?? { peer: x.peer, done: 0, total: 0, seen: false }
      if (x.receiving) {
        cur.done = Math.max(cur.done, x.receiving.doneBytes)
        cur.total = Math.max(cur.total, x.receiving.bytes)
        cur.seen = true
      } else if (cur.seen) {
        cur.done = cur.total // listed without numbers after having them: the session completed
      }
      this.sessions.set(key, cur)
    }
    const done = this.doneBytes
    if (done > before) this.lastGrowthAt = at
    this.samples.push({ at, done })
    while (this.samples.length > 2 && at - this.samples[0].at > this.windowMs) this.samples.shift()
  }

  /** Bytes per second over the window; undefined until two samples span some time. */
  rate(): number | undefined {
    if (this.samples.length < 2) return undefined
    const a = this.samples[0]
    const b = this.samples[this.samples.length - 1]
    if (b.at <= a.at) return undefined
    return ((b.done - a.done) * 1000) / (b.at - a.at)
  }

  /** Time left at the current rate; undefined when unknown (no total yet, or no progress). */
  etaMs(): number | undefined {
    const r = this.rate()
    const left = this.totalBytes - this.doneBytes
    if (this.totalBytes === 0) return undefined
    if (left <= 0) return 0
    if (!r || r <= 0) return undefined
    return (left * 1000) / r
  }

  /** Stalled: nothing received for stallMs while bytes are still owed (or no session at all). */
  stall(): StallInfo | undefined {
    if (this.complete) return undefined
    const forMs = this.now() - this.lastGrowthAt
    if (forMs < this.stallMs) return undefined
    const peers = this.pending().map((p) => (p.seen ? `${p.peer} ${formatBytes(p.done)}/${formatBytes(p.total)}` : `${p.peer} (session not prepared)`))
    return { forMs, peers }
  }

  /** One log line: "pod: 1.2 MiB / 4.0 MiB (30.0%), 100.0 KiB/s, ETA 28s, from 127.0.0.1 (30.0%)". */
  line(): string {
    const pct = this.percent
    const r = this.rate()
    const eta = this.etaMs()
    const parts = [
      this.totalBytes > 0 ? `${formatBytes(this.doneBytes)} / ${formatBytes(this.totalBytes)} (${pct!.toFixed(1)}%)` : 'waiting for stream sessions',
      r !== undefined ? `${formatBytes(Math.round(r))}/s` : undefined,
      eta !== undefined ? `ETA ${formatDuration(eta)}` : this.totalBytes > 0 ? 'ETA ?' : undefined,
      `elapsed ${formatDuration(this.now() - this.startedAt)}`
    ].filter(Boolean)
    const peers = [...this.sessions.values()].map((p) => `${p.peer} ${p.total > 0 ? ((100 * p.done) / p.total).toFixed(1) : '0.0'}%`)
    return `${this.node}: ${parts.join(', ')}${peers.length ? `; from ${peers.join(', ')}` : ''}`
  }
}
