// The steady-state gate and the abort guard of a drill, as chaos tools do it: no fault unless the
// mesh is in its steady state (the split check passed) and every region that must absorb the
// traffic is healthy at that moment (enough ready replicas, and it answered); during the fault,
// if the survivors stop answering (error share over a limit within a window), stop at once.
// Pure: observations in, a decision out.
import type { Probe } from './timing.ts'

export interface SurvivorState {
  region: string
  /** ready replicas of its deployment, when the topology names it (undefined: unknown) */
  ready?: number
  /** classified responses from it during the split check */
  answered: number
}

export interface GateDecision {
  ok: boolean
  reasons: string[]
}

export function steadyState(o: { splitPassed: boolean; splitReason: string; survivors: SurvivorState[]; minReady: number }): GateDecision {
  const reasons: string[] = []
  if (!o.splitPassed) reasons.push(`the split check did not pass (${o.splitReason}): the mesh is not in its steady state`)
  for (const s of o.survivors) {
    if (s.ready !== undefined && s.ready < o.minReady) {
      reasons.push(`${s.region} must absorb the traffic but has ${s.ready} ready replica(s), fewer than min-healthy-replicas ${o.minReady}`)
    } else if (s.answered === 0) {
      reasons.push(`${s.region} must absorb the traffic but did not answer once during the split check`)
    }
  }
  return { ok: reasons.length === 0, reasons }
}

/**
 * The abort guard: after `graceMs` from the fault (the failover's transition), the share of errors
 * among the probes of the last `windowMs` must stay at or below `maxErrorRate`.
 */
export class AbortGuard {
  private readonly recent: Probe[] = []
  private readonly o: { faultAt: number; graceMs: number; windowMs: number; maxErrorRate: number }
  reason?: string

  constructor(o: { faultAt: number; graceMs: number; windowMs: number; maxErrorRate: number }) {
    this.o = o
  }

  /** True when the drill must stop now. */
  observe(p: Probe): boolean {
    this.recent.push(p)
    while (this.recent.length && this.recent[0].t < p.t - this.o.windowMs) this.recent.shift()
    if (p.t - this.o.faultAt < this.o.graceMs + this.o.windowMs) return false
    const errors = this.recent.filter((x) => x.kind !== 'ok').length
    const rate = errors / this.recent.length
    if (this.recent.length >= 3 && rate > this.o.maxErrorRate) {
      this.reason = `${errors} of the last ${this.recent.length} probes failed (${(rate * 100).toFixed(0)}% > abort-error-rate ${(this.o.maxErrorRate * 100).toFixed(0)}%) after the failover should have happened: the survivors stopped answering`
      return true
    }
    return false
  }
}
