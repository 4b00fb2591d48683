// Before a datacenter leaves a keyspace's replication (expand-keyspaces mode remove): the DCs
// that remain must hold the data and keep enough replicas for the consistency the clients use.
//   - Data: rows counted at LOCAL_ONE through a coordinator of each remaining DC are compared
//     with the counts through a coordinator of the DC being removed. A remaining DC that was
//     never rebuilt (expand-keyspaces added it, rebuild-dc never ran) shows fewer rows: refused.
//     A DC whose node refuses the user's login has no roles in its system_auth: it was never
//     rebuilt. Being removed, it holds nothing the others lack (main skips the comparison);
//     remaining, it is refused.
//   - Replicas: a remaining DC whose live nodes are fewer than LOCAL_QUORUM of its RF
//     (floor(RF/2)+1) could not serve the keyspace's reads and writes at Apigee's consistency.
// Pure functions over what was read; the reads are in main (one counting session per DC).
import { PreflightError } from '../errors.ts'
import { liveNodes } from './gates.ts'
import { altered, rfOf, type Plan } from './keyspaces.ts'
import type { TableRef } from './row-counts.ts'
import type { RingNode } from './status.ts'

export const localQuorum = (rf: number): number => Math.floor(rf / 2) + 1

/** The DCs each altered keyspace keeps (RF > 0 after the change). */
export function remainingDcs(plan: Plan): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>()
  for (const i of altered(plan)) {
    const keep: Record<string, number> = {}
    for (const [dc, v] of Object.entries(i.after ?? {})) if ((rfOf(v) ?? 0) > 0) keep[dc] = rfOf(v)!
    out.set(i.keyspace, keep)
  }
  return out
}

/** Remaining DCs whose live nodes cannot form LOCAL_QUORUM for the RF they keep. */
export function quorumProblems(plan: Plan, ring: RingNode[]): PreflightError[] {
  const errs: PreflightError[] = []
  for (const [ks, keep] of remainingDcs(plan)) {
    for (const [dc, rf] of Object.entries(keep)) {
      const live = liveNodes(ring, dc).length
      const need = localQuorum(rf)
      if (live < need) {
        errs.push(
          new PreflightError(
            `keyspace '${ks}' would be left with '${dc}' (RF ${rf}) alone answering for it, but '${dc}' has ${live} live node(s): LOCAL_QUORUM needs ${need}`,
            `bring '${dc}' to ${need}+ live nodes, or lower its RF for '${ks}' (expand-keyspaces replication-factors) before removing '${plan.targetDc}'`
          )
        )
      }
    }
  }
  return errs
}

export interface DcCounts {
  dc: string
  /** The node that coordinated the counts (for the message). */
  via: string
  counts: (number | undefined)[]
  /** The node refused the login: the DC's system_auth holds no roles (never rebuilt). */
  noRoles?: boolean
}

/**
 * Tables where a remaining DC holds fewer rows (LOCAL_ONE) than the DC being removed, grouped
 * into one refusal per (keyspace, DC): never-rebuilt DCs are named with the rebuild that fixes them.
 */
export function dataProblems(plan: Plan, tables: TableRef[], removed: DcCounts, remaining: DcCounts[]): PreflightError[] {
  const keep = remainingDcs(plan)
  const errs: PreflightError[] = []
  const fix = (dc: string): string => `rebuild '${dc}' from '${plan.targetDc}' first (rebuild-dc source-datacenter: ${plan.targetDc}, target-datacenter: ${dc}), then remove '${plan.targetDc}'`
  for (const r of remaining) {
    if (r.noRoles) {
      errs.push(new PreflightError(`'${r.dc}' does not hold the data '${plan.targetDc}' holds: its node ${r.via} refuses the login that ${removed.via} accepts (no roles in its system_auth); '${r.dc}' was probably never rebuilt`, fix(r.dc)))
      continue
    }
    const short = new Map<string, string[]>()
    tables.forEach((t, i) => {
      if (!(r.dc in (keep.get(t.keyspace) ?? {}))) return
      const want = removed.counts[i]
      const have = r.counts[i]
      if (want === undefined || want === 0) return
      if (have === undefined || have < want) short.set(t.keyspace, [...(short.get(t.keyspace) ?? []), `${t.table} ${have ?? '?'} of ${want}`])
    })
    for (const [ks, list] of short) {
      errs.push(
        new PreflightError(
          `keyspace '${ks}': '${r.dc}' does not hold the data '${plan.targetDc}' holds (rows at LOCAL_ONE via ${r.via} vs ${removed.via}: ${list.slice(0, 5).join(', ')}${list.length > 5 ? `, ... ${list.length - 5} more` : ''}); '${r.dc}' was probably never rebuilt`,
          fix(r.dc)
        )
      )
    }
  }
  return errs
}
