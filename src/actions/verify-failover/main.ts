// verify-failover: the runbook of procedure.md section E, measured.
//   1. read and check every input (nothing is touched before they are all valid)
//   2. ask every cluster the drill uses for the permissions it needs (SelfSubjectAccessReview),
//      then precheck the mesh's objects where the topology (mesh:) says they are
//   3. restore what an earlier, killed run left behind (the deployment annotation, its HTTPChaos);
//      refuse, changing nothing, while another run's HTTPChaos is live
//   4. split check: a sequential test of the observed shares against the expected weights
//   5. fault: scale a region to 0 / make its pods fail (HTTPChaos) / run the caller's command;
//      measure the failover from a steady probe stream
//   6. restore (always, also on SIGINT/SIGTERM and in the post step); measure until the region
//      serves again
//   7. report: verdicts, a table per phase, a chart of shares over time, JSON, outputs
import * as core from '@actions/core'
import { runAction } from '../../core/entry.ts'
import { ActionError, PreflightError } from '../../core/errors.ts'
import { FaultController, restoreFromAnnotation, type RestoreResult } from '../../core/failover/fault.ts'
import { describeAction } from '../../core/failover/http-chaos.ts'
import { readPlan, type FailoverPlan } from '../../core/failover/plan.ts'
import { AbortGuard, steadyState, type SurvivorState } from '../../core/failover/gate.ts'
import { measurePartial, readPartial, reportPartial, type PartialPrediction, type PartialResult } from '../../core/failover/partial.ts'
import { distributeWeights, precheck } from '../../core/failover/precheck.ts'
import { Prober } from '../../core/failover/probe.ts'
import { shareChart } from '../../core/failover/render.ts'
import { pct, shareRows, splitVerdict, SplitSprt } from '../../core/failover/stats.ts'
import { analyzeFault, analyzeRestore, type FaultTiming, type Probe, type RestoreTiming } from '../../core/failover/timing.ts'
import { Kubectl } from '../../core/kube/kubectl.ts'
import { acquireLease, readLeaseInputs, runHolder, type HeldLease } from '../../core/kube/lease.ts'
import { DRILL_PERMISSIONS, requirePermissions, type Permission } from '../../core/kube/permissions.ts'
import { aksKube } from '../../core/kube/aks-region.ts'
import type { Report } from '../../core/report.ts'
import { loadTopology, type Region, type Topology } from '../../core/topology.ts'
import { formatDuration } from '../../core/wait.ts'

export async function run(): Promise<void> {
  await runAction('verify-failover', async ({ inputs, report }) => {
    const topoPath = inputs.string('topology')
    const topo = topoPath ? loadTopology(topoPath) : undefined
    // regions with aks: in the topology: their clusters through ARM + kubelogin, one session each
    const opened = new Map<string, Kubectl | undefined>()
    aksCluster = (r) => {
      if (r === undefined) return undefined
      if (!opened.has(r)) opened.set(r, aksKube(inputs, topo?.regions[r], { topology: topo }))
      return opened.get(r)
    }
    const leaseInputs = readLeaseInputs(inputs)
    const plan = readPlan(inputs, topo)!
    // the Azure inputs of AKS regions are checked with the others, before anything is probed
    for (const r of new Set([...plan.regions, plan.fault.region, plan.mesh?.region])) aksCluster(r)
    inputs.done()
    showPlan(plan, report)
    if (plan.dryRun) {
      report.status = 'planned'
      report.note('dry-run: nothing was probed or changed.')
      return
    }
    await checkPermissions(plan, topo)
    const locality = await checkMesh(plan, topo, report)

    const prober = new Prober({ url: plan.url, rules: plan.rules, intervalMs: plan.intervalMs, timeoutMs: plan.requestTimeoutMs })
    const fault =
      plan.fault.mode === 'none'
        ? undefined
        : new FaultController(
            { mode: plan.fault.mode, region: plan.fault.region!, kube: plan.fault.kube, command: plan.fault.command, restoreCommand: plan.fault.restoreCommand, chaos: plan.fault.chaos },
            { saveState: core.saveState, info: core.info, warning: core.warning, open: () => faultKubectl(plan) }
          )
    // A drill that injects a fault changes traffic: it holds the lock (the Lease in the faulted
    // region's cluster, Cassandra namespace) so it never runs during a promotion or another drill.
    const k = plan.fault.kube
    const lease = k ? await acquireLease(faultKubectl(plan), { namespace: leaseNamespace(topo), ...leaseInputs, holder: runHolder(), log: core.info, releaseOnSignal: false }) : undefined
    const stopSignals = handleSignals(prober, fault, report, lease)
    try {
      if (fault && (await restoreLeftover(fault, report))) {
        // The split check must not start before the restored region serves again.
        const region = plan.fault.region!
        const back = await prober.run('recover', { until: (p) => p.kind === 'ok' && p.region === region, maxMs: plan.restoreTimeoutMs })
        if (!back.some((p) => p.kind === 'ok' && p.region === region) && !prober.isStopped) {
          throw new PreflightError(`${region} did not serve within ${formatDuration(plan.restoreTimeoutMs)} after restoring the earlier drill's leftover`, 'check the deployment and the ingress, then re-run')
        }
        core.info(`${region} serves again after ${formatDuration(back.length ? back[back.length - 1].t - back[0].t : 0)}`)
      }
      const splitResult = await splitPhase(plan, prober, report)
      const split = splitResult.passed
      let failoverOk = true
      let restoreOk = true
      if (fault && !prober.isStopped) {
        // Steady-state gate: nothing is injected unless the mesh is healthy where it must absorb.
        const gate = steadyState({ splitPassed: split, splitReason: splitResult.reason, survivors: await survivors(plan, topo, splitResult.counts), minReady: plan.minHealthyReplicas })
        report.output('gate', gate.ok ? 'pass' : 'refused')
        if (!gate.ok) {
          chart(plan, prober.log, report)
          report.set('probes', prober.log)
          report.set('gate', gate)
          report.table('Steady-state gate: REFUSED (no fault injected, nothing changed)', ['reason'], gate.reasons.map((r) => [r]))
          report.output('verdict', 'fail')
          throw new ActionError(`verify-failover: no fault injected on ${plan.fault.region}, nothing changed:\n${gate.reasons.map((r) => `  - ${r}`).join('\n')}`, 'bring the surviving regions to their steady state (replicas ready, the split check passing), then re-run')
        }
        const r = await faultPhases(plan, prober, fault, report, locality)
        failoverOk = r.failoverOk
        restoreOk = r.restoreOk
        if (r.aborted) {
          chart(plan, prober.log, report)
          report.set('probes', prober.log)
          report.output('verdict', 'fail')
          throw new ActionError(`verify-failover: ABORTED, the fault on ${plan.fault.region} was undone at once: ${r.aborted}`, 'check the surviving regions now: they could not carry the traffic; the fault was restored')
        }
      }
      chart(plan, prober.log, report)
      report.set('probes', prober.log)
      const verdict = split && failoverOk && restoreOk ? 'pass' : 'fail'
      report.output('verdict', verdict)
      if (verdict === 'fail') {
        const what = [!split && 'the split check', !failoverOk && 'the failover', !restoreOk && 'the restore'].filter(Boolean).join(', ')
        throw new ActionError(`verify-failover: ${what} failed; see the summary`, 'read the phase tables: the split verdict names the region and shares; the failover table the errors and times')
      }
    } finally {
      // Whatever happened above: undo the fault (idempotent) before leaving.
      if (fault && !prober.isStopped) await fault.restore().catch((e) => core.error(`restore failed: ${(e as Error).message}; the post step retries`))
      // A cancel writes the one report itself (with what it restored) and exits: wait for it.
      if (cancelling) await new Promise<never>(() => undefined)
      prober.close()
      stopSignals()
      await lease?.release()
    }
  })
}

function showPlan(plan: FailoverPlan, report: Report): void {
  const rows: Array<[string, string]> = [
    ['ingress', plan.url],
    ['expected shares', plan.regions.map((r) => `${r} ${pct(plan.expected[r])}`).join(', ')],
    ['classification', plan.regions.map((r) => `${r}: ${plan.rules[r].source}`).join('; ')],
    [
      'split test',
      plan.splitTest === 'sprt'
        ? `SPRT alpha ${plan.alpha} beta ${plan.beta} against ${plan.alternatives.map((a) => `${a.region} ${pct(a.share)}`).join(', ') || '-'}; at most ${plan.maxRequests} requests, then the fixed-N test (N ${plan.fixedN})`
        : `fixed N = ${plan.fixedN} (${plan.regions.length === 2 ? 'exact binomial' : 'chi-square'}), alpha ${plan.alpha}, power ${1 - plan.beta}`
    ],
    ['probes', `every ${formatDuration(plan.intervalMs)}, timeout ${formatDuration(plan.requestTimeoutMs)}`],
    [
      'fault',
      plan.fault.mode === 'none'
        ? 'none'
        : `${plan.fault.mode} on ${plan.fault.region} for ${formatDuration(plan.fault.durationMs)}${plan.fault.kube ? ` (deployment ${plan.fault.kube.namespace}/${plan.fault.kube.deployment}${plan.fault.kube.context ? `, context ${plan.fault.kube.context}` : ''})` : ''}${plan.fault.chaos ? ` (httpchaos/${plan.fault.chaos.name}: ${describeAction(plan.fault.chaos.action)}${plan.fault.chaos.pods ? ` on ${plan.fault.chaos.pods} pod(s)` : ''}${plan.fault.chaos.port ? ` on port ${plan.fault.chaos.port}` : ''}, Chaos Mesh ends it after ${formatDuration(plan.fault.chaos.durationMs)})` : ''}; failover = ${plan.consecutive} consecutive survivor responses`
    ]
  ]
  for (const [k, v] of rows) core.info(`${k}: ${v}`)
  report.table('Plan', ['', ''], rows)
  report.set('plan', { ...plan, rules: Object.fromEntries(Object.entries(plan.rules).map(([r, x]) => [r, x.source])) })
}

type Locality = { weights: Record<string, number>; from: string }

/** The lock's namespace: Cassandra's (topology cassandra.namespace). */
const leaseNamespace = (topo: Topology | undefined): string => topo?.cassandra.namespace ?? 'apigee'
/** A region's AKS cluster (regions.<r>.aks) when no context / kubeconfig names another; set by run(). */
let aksCluster: (region: string | undefined) => Kubectl | undefined = () => undefined
const given = (t: { context?: string; kubeconfig?: string }): boolean => Boolean(t.context || t.kubeconfig)
const meshKubectl = (m: NonNullable<FailoverPlan['mesh']>): Kubectl =>
  (!given(m) && aksCluster(m.region)) || new Kubectl({ context: m.context, kubeconfig: m.kubeconfig, label: m.region ? `mesh (region ${m.region})` : 'mesh' })
const regionKubectl = (r: string, t: Region): Kubectl => (!given(t.kube) && aksCluster(r)) || new Kubectl({ context: t.kube.context, kubeconfig: t.kube.kubeconfig, label: `region ${r}` })
/** The fault region's cluster (scale-to-zero, http-chaos: the inputs, else the topology). */
const faultKubectl = (plan: FailoverPlan): Kubectl =>
  (!given(plan.fault.kube!) && aksCluster(plan.fault.region)) || new Kubectl({ context: plan.fault.kube!.context, kubeconfig: plan.fault.kube!.kubeconfig, label: `region ${plan.fault.region}` })
const serviceNamespace = (t: Region): string => t.service.namespace ?? t.kube.namespace ?? 'default'

/**
 * Before anything is read or changed: every cluster the drill talks to holds the permissions of
 * docs/rbac/verify-failover.yaml that this drill uses (the mesh's objects, the deployments the
 * gate reads, the fault region's deployment / HTTPChaos and the lock); all missing ones at once.
 */
async function checkPermissions(plan: FailoverPlan, topo: Topology | undefined): Promise<void> {
  const checks: { kube: Kubectl; wanted: Permission[] }[] = []
  if (plan.mesh) checks.push({ kube: meshKubectl(plan.mesh), wanted: DRILL_PERMISSIONS.mesh(plan.mesh.namespace) })
  if (plan.fault.mode !== 'none') {
    for (const r of plan.regions.filter((x) => x !== plan.fault.region)) {
      const t = topo?.regions[r]
      if (t?.service.deployment) checks.push({ kube: regionKubectl(r, t), wanted: DRILL_PERMISSIONS.service(serviceNamespace(t)) })
    }
  }
  const k = plan.fault.kube
  if (k) checks.push({ kube: faultKubectl(plan), wanted: DRILL_PERMISSIONS.fault(plan.fault.mode, k.namespace, leaseNamespace(topo)) })
  await requirePermissions(checks, 'docs/rbac/verify-failover.yaml', core.info)
}

/** Reads the mesh's DestinationRules and VirtualServices with kubectl and checks them (Istio's rules); returns the distribute weights, if any. */
async function checkMesh(plan: FailoverPlan, topo: Topology | undefined, report: Report): Promise<Locality | undefined> {
  const m = plan.mesh
  if (!m) {
    report.note('Prechecks on the mesh skipped: no `mesh-namespace` input, topology `mesh.namespace` or service namespace says where the DestinationRules and VirtualServices are.')
    return undefined
  }
  const kubectl = meshKubectl(m)
  let list: { items?: Array<Record<string, any>> } | undefined // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    list = await kubectl.getJson(['destinationrules,virtualservices'], m.namespace)
  } catch (e) {
    throw new PreflightError(`could not read the DestinationRules and VirtualServices in namespace ${m.namespace}${m.context ? ` (context ${m.context})` : ''}: ${(e as Error).message}`, 'check topology mesh: { namespace, region } (or inputs mesh-namespace / mesh-context) and that Istio is installed there')
  }
  const items = list?.items ?? []
  const pods = plan.fault.mode === 'http-chaos' ? await podCounts(plan, topo) : undefined
  const findings = precheck(
    { namespace: m.namespace, destinationRules: items.filter((o) => o.kind === 'DestinationRule'), virtualServices: items.filter((o) => o.kind === 'VirtualService'), pods, failing: plan.fault.chaos?.pods },
    plan.expected,
    plan.fault.mode,
    plan.fault.region
  )
  report.table('Prechecks', ['level', 'finding', 'fix'], findings.length ? findings.map((f) => [f.level, f.message, f.fix]) : [['ok', `the mesh objects in ${m.namespace} fit the drill`, '']])
  for (const f of findings.filter((x) => x.level === 'warning')) core.warning(`${f.message} (${f.fix})`)
  const errors = findings.filter((f) => f.level === 'error')
  if (errors.length) throw new PreflightError(`mesh precheck failed:\n${errors.map((f) => `  - ${f.message}\n    fix: ${f.fix}`).join('\n')}`)
  const dr = items.find((o) => o.kind === 'DestinationRule' && distributeWeights(o))
  return dr && { weights: distributeWeights(dr)!, from: `DestinationRule ${dr.metadata?.namespace ?? m.namespace}/${dr.metadata?.name} localityLbSetting.distribute[0]` }
}

/** Replicas of the drilled service per region, where the topology names its cluster and deployment. */
async function podCounts(plan: FailoverPlan, topo: Topology | undefined): Promise<Record<string, number> | undefined> {
  const out: Record<string, number> = {}
  for (const r of plan.regions) {
    const t = topo?.regions[r]
    if (!t?.service.deployment) return undefined
    const d = await regionKubectl(r, t).getJson<{ spec?: { replicas?: number } }>(['deployment', t.service.deployment], serviceNamespace(t))
    out[r] = d?.spec?.replicas ?? 0
  }
  return out
}

/** Restores what a killed earlier run left (the annotation, the HTTPChaos); true when it did. */
async function restoreLeftover(fault: FaultController, report: Report): Promise<boolean> {
  const c = await fault.check()
  const k = fault.spec.kube!
  if (c.chaos) {
    const name = fault.spec.chaos!.name
    core.warning(`httpchaos/${name} in namespace ${k.namespace} is a leftover of ${c.chaos.owner} (${c.chaos.why}): deleting it first`)
    const r = await fault.clearChaosLeftover(c.chaos.owner)
    report.note(`Restored first: an earlier drill (${c.chaos.owner}) had left \`httpchaos/${name}\` (${c.chaos.why}); ${r?.action ?? 'it was gone meanwhile'}.`)
    report.set('restoredLeftover', { httpchaos: name, owner: c.chaos.owner, why: c.chaos.why })
    return r !== undefined
  }
  if (c.leftover === undefined) return false
  core.warning(`deployment ${k.deployment} carries the annotation of an earlier drill (original replicas ${c.leftover}): restoring it first`)
  const r = await restoreFromAnnotation((!given(k) && aksCluster(fault.spec.region)) || new Kubectl({ context: k.context, kubeconfig: k.kubeconfig }), k, { info: core.info, warning: core.warning })
  report.note(`Restored first: an earlier drill had left deployment \`${k.deployment}\` at ${c.replicas} replica(s); ${r?.action ?? 'nothing to do'}.`)
  report.set('restoredLeftover', { from: c.replicas, to: c.leftover })
  return r !== undefined
}

/** Set once a signal arrived: the cancel path owns the report from then on. */
let cancelling: Promise<void> | undefined

function handleSignals(prober: Prober, fault: FaultController | undefined, report: Report, lease?: HeldLease): () => void {
  const onSignal = (sig: NodeJS.Signals): void => {
    if (cancelling) {
      core.info(`${sig} again: still restoring`)
      return
    }
    core.warning(`${sig}: cancelling the drill and restoring`)
    prober.stop()
    const restore: Promise<RestoreResult | undefined> = fault ? fault.restore() : Promise.resolve(undefined)
    cancelling = restore
      .then((r) => {
        report.error = `cancelled by ${sig}; ${r ? r.action : fault?.injected === false ? 'nothing had been changed' : 'nothing left to restore'}`
        report.note(`**Cancelled by ${sig}.** Restore: ${r ? `${r.action} at ${new Date(r.at).toISOString()}` : 'nothing to restore (no fault in place)'}.`)
      })
      .catch((e) => {
        report.error = `cancelled by ${sig}; restore failed: ${(e as Error).message} (the post step retries)`
      })
      .finally(async () => {
        report.status = 'failed'
        core.setFailed(report.error ?? `cancelled by ${sig}`)
        prober.close()
        await lease?.release()
        await report.finish()
        process.exit(1)
      })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

async function splitPhase(plan: FailoverPlan, prober: Prober, report: Report): Promise<{ passed: boolean; reason: string; counts: Record<string, number> }> {
  const sprt = new SplitSprt(plan.expected, plan.alternatives, { alpha: plan.alpha, beta: plan.beta })
  const limit = plan.splitTest === 'sprt' ? plan.maxRequests : plan.fixedN
  const errors: Record<string, number> = {}
  let nErrors = 0
  const started = Date.now()
  await prober.run('split', {
    until: (p) => {
      if (p.kind === 'ok') sprt.observe(p.region!)
      else {
        errors[p.kind] = (errors[p.kind] ?? 0) + 1
        nErrors++
      }
      if (nErrors > plan.maxErrors) return true
      if (plan.splitTest === 'sprt' && sprt.decision !== 'continue') return true
      return sprt.n >= limit
    }
  })
  const n = sprt.n
  let decision: 'pass' | 'fail' | 'inconclusive'
  let reason: string
  let method: string
  if (prober.isStopped) {
    decision = 'inconclusive'
    reason = 'cancelled'
    method = '-'
  } else if (nErrors > plan.maxErrors) {
    decision = 'fail'
    reason = `${nErrors} error response(s) (${Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(', ')}) exceed max-errors ${plan.maxErrors}`
    method = 'errors'
  } else ({ decision, reason, method } = splitVerdict(sprt, plan.alternatives, { alpha: plan.alpha, beta: plan.beta }, plan.splitTest === 'sprt'))
  const rows = shareRows(plan.regions, plan.expected, sprt.counts, plan.alpha)
  report.table(`Split check: ${decision.toUpperCase()} (N = ${n}, ${method})`, ['region', 'expected', 'responses', 'observed', `${pct(1 - plan.alpha)} Clopper-Pearson`, 'expected inside'], rows)
  report.note(`**Split: ${decision}** - ${reason}.${nErrors ? ` Errors: ${nErrors}.` : ''} Took ${formatDuration(Date.now() - started)}.`)
  core.info(`split check: ${decision} after ${n} classified responses: ${reason}`)
  report.output('split-verdict', decision)
  report.output('split-n', n)
  report.output('split-shares', JSON.stringify(Object.fromEntries(plan.regions.map((r) => [r, n ? +(sprt.counts[r] / n).toFixed(4) : 0]))))
  report.set('split', { decision, reason, method, n, counts: sprt.counts, errors, arms: sprt.arms })
  return { passed: decision === 'pass', reason, counts: { ...sprt.counts } }
}

/** The regions that must absorb the fault region's traffic, with their ready replicas where the topology names them. */
async function survivors(plan: FailoverPlan, topo: Topology | undefined, answered: Record<string, number>): Promise<SurvivorState[]> {
  const out: SurvivorState[] = []
  for (const r of plan.regions.filter((x) => x !== plan.fault.region && plan.expected[x] > 0)) {
    const t = topo?.regions[r]
    let ready: number | undefined
    if (t?.service.deployment) {
      const d = await regionKubectl(r, t).getJson<{ spec?: { replicas?: number }; status?: { readyReplicas?: number } }>(['deployment', t.service.deployment], serviceNamespace(t))
      ready = Math.min(d?.spec?.replicas ?? 0, d?.status?.readyReplicas ?? 0)
    }
    out.push({ region: r, ready, answered: answered[r] ?? 0 })
  }
  return out
}

async function faultPhases(plan: FailoverPlan, prober: Prober, fault: FaultController, report: Report, locality: Locality | undefined): Promise<{ failoverOk: boolean; restoreOk: boolean; aborted?: string }> {
  const region = plan.fault.region!
  const pods = plan.fault.chaos?.pods
  // chaos-pods: part of the region fails; the measure is the shift Envoy makes, not a failover
  let partial: PartialPrediction | undefined
  if (pods !== undefined) {
    partial = await readPartial(faultKubectl(plan), plan.fault.kube!, { regions: plan.regions, region, pods, locality })
    core.info(partial ? `partial failure: ${pods} of ${partial.ready} ${region} pods; Envoy's prediction ${plan.regions.map((r) => `${r} ${pct(partial!.predicted[r])}`).join(', ')} (${partial.weightsFrom})` : `chaos-pods ${pods} covers every ready ${region} pod: a whole-region failover`)
  }
  core.info(`fault: ${plan.fault.mode} on ${region}`)
  let faultAt: number | undefined
  let timing: FaultTiming | undefined
  let shift: PartialResult | undefined
  let restored: RestoreResult | undefined
  let rt: RestoreTiming | undefined
  let aborted: string | undefined
  try {
    faultAt = await fault.inject()
    if (faultAt === undefined) return { failoverOk: false, restoreOk: true }
    const guard = new AbortGuard({ faultAt, graceMs: plan.abortWindowMs, windowMs: plan.abortWindowMs, maxErrorRate: plan.abortErrorRate })
    const probes = await prober.run('fault', { until: (p) => guard.observe(p), maxMs: plan.fault.durationMs - (Date.now() - faultAt) })
    aborted = guard.reason
    if (aborted) core.error(`survivors stopped answering: ${aborted}; restoring now`)
    // a partial failure is measured once the transition the abort guard allows is over
    if (partial) shift = measurePartial(probes, faultAt + plan.abortWindowMs, partial, { alpha: plan.alpha, beta: plan.beta })
    else timing = analyzeFault(probes, faultAt, region, plan.consecutive)
  } finally {
    if (!prober.isStopped) restored = await fault.restore()
  }
  // cancelled: the signal path restores and reports; no phase tables of a drill cut short
  if (prober.isStopped) return { failoverOk: false, restoreOk: false }
  const restoreAt = restored?.at ?? Date.now()
  const probes = await prober.run('restore', { until: (p) => p.kind === 'ok' && p.region === region, maxMs: plan.restoreTimeoutMs })
  // cancelled while measuring the restore: the same, the cancel's report is the only one
  if (prober.isStopped) return { failoverOk: false, restoreOk: false }
  rt = analyzeRestore(probes, restoreAt, region)
  const failoverOk = shift ? shift.verdict.decision === 'pass' : timing!.failoverAt !== undefined
  const restoreOk = rt?.restoreMs !== undefined
  report.output('failover-verdict', failoverOk ? 'pass' : 'fail')
  report.output('fault-at', Math.round(faultAt))
  if (shift) {
    core.info(`partial failure: ${shift.verdict.decision} (${shift.verdict.reason})`)
    reportPartial(report, partial!, shift, plan.alpha)
  } else reportFailover(plan, report, faultAt, timing!)
  const fmt = (ms: number | undefined): string => (ms === undefined ? '-' : formatDuration(ms))
  report.table(`Restore: ${restoreOk ? 'PASS' : 'FAIL'}`, ['measure', 'value'], [
    ['restore', restored ? `${restored.action} at ${new Date(restored.at).toISOString()}` : 'nothing to restore'],
    [`${region} serves again after`, fmt(rt?.restoreMs)],
    ['errors until then', Object.entries(rt?.errors ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'none']
  ])
  if (!restoreOk) report.note(`**Restore: fail** - ${region} did not answer within ${formatDuration(plan.restoreTimeoutMs)} after the restore.`)
  const out = (k: string, v: number | undefined): void => {
    if (v !== undefined) report.output(k, Math.round(v))
  }
  out('restore-at', restored?.at)
  out('restore-ms', rt?.restoreMs)
  out('restored-at', rt?.servedAt)
  report.set('restore', { ...restored, ...rt })
  if (aborted) report.note(`**ABORTED** - ${aborted}. The fault was undone at once (${restored?.action ?? 'nothing to restore'}).`)
  return { failoverOk, restoreOk, aborted }
}

/** The failover table, its verdict note and outputs (a whole region failed). */
function reportFailover(plan: FailoverPlan, report: Report, faultAt: number, timing: FaultTiming): void {
  const region = plan.fault.region!
  const failoverOk = timing.failoverAt !== undefined
  const fmt = (ms: number | undefined): string => (ms === undefined ? '-' : formatDuration(ms))
  const errs = Object.entries(timing.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'
  report.table(`Failover: ${failoverOk ? 'PASS' : 'FAIL'} (${plan.fault.mode} on ${region})`, ['measure', 'value'], [
    ['fault issued', new Date(faultAt).toISOString()],
    ['last response from ' + region, fmt(timing.lastFailedMs)],
    [`failover (first of ${plan.consecutive} consecutive survivor responses)`, fmt(timing.failoverMs)],
    [`stable (the ${plan.consecutive}th answered)`, fmt(timing.stableMs)],
    ['errors before failover', `${timing.errorsTotal} (${errs})`],
    ['after failover', `${timing.afterFailover.survivors}/${timing.afterFailover.probes} from survivors, ${timing.afterFailover.failedRegion} from ${region}, ${timing.afterFailover.errors} errors`],
    ['probes in the fault phase', timing.probes]
  ])
  if (!failoverOk) report.note(`**Failover: fail** - no run of ${plan.consecutive} consecutive survivor responses formed within ${formatDuration(plan.fault.durationMs)}.`)
  for (const [k, v] of [['failover-ms', timing.failoverMs], ['failover-at', timing.failoverAt], ['last-failed-ms', timing.lastFailedMs], ['stable-ms', timing.stableMs]] as const) {
    if (v !== undefined) report.output(k, Math.round(v))
  }
  report.output('errors', JSON.stringify(timing.errors))
  report.set('failover', { region, mode: plan.fault.mode, faultAt, ...timing })
}

function chart(plan: FailoverPlan, log: Probe[], report: Report): void {
  const marks: Array<{ label: string; at: number }> = []
  const first = (phase: string): number | undefined => log.find((p) => p.phase === phase)?.t
  const f = first('fault')
  const r = first('restore')
  if (f !== undefined) marks.push({ label: 'fault', at: f })
  if (r !== undefined) marks.push({ label: 'restore', at: r })
  const c = shareChart(log, plan.regions, marks)
  if (c) report.note(c)
}
