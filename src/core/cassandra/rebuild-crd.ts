// The I/O half of rebuild-dc's CRD mode: instead of starting `nodetool rebuild` in the pods, apply
// a CassandraDataReplication in the new region and let the Apigee operator run the rebuilds;
// watch the ApigeeDatastore's status (per pod: running / complete / error) at the poll interval
// and, for the pods the operator reports running, the bytes received (`nodetool netstats`, the
// same NodeProgress as the nodetool path). Unlike the vendor's fixed 60 x 10 s wait this honours
// the action's timeout and stall-timeout, and a later run re-attaches (see rebuild-crd-plan.ts).
import YAML from 'yaml'
import { ActionError, TimeoutError } from '../errors.ts'
import type { Kubectl, KubeObject } from '../kube/kubectl.ts'
import type { Report } from '../report.ts'
import { textTable, type Cell } from '../report.ts'
import { type Deadline, formatDuration, sleep as realSleep } from '../wait.ts'
import { parseNetStats, receiveProgress, type ReceiveProgress } from './netstats.ts'
import type { Nodetool } from './nodetool.ts'
import type { TargetNode } from './rebuild-plan.ts'
import { NodeProgress } from './rebuild-progress.ts'
import type { NodeResult } from './rebuild.ts'
import {
  CDR_RESOURCE,
  DATASTORE_RESOURCE,
  decideReplication,
  operatorErrorHint,
  parseDatastore,
  parseDatastores,
  parseReplications,
  pickDatastore,
  type ReplicationDecision,
  replicationManifest,
  type ReplicationStatus,
  type ReplicationView,
  viewReplication
} from './rebuild-crd-plan.ts'

export interface OperatorContext {
  /** the new region's cluster */
  kube: Kubectl
  namespace: string
  /** nodetool in the new DC's pods, for netstats only */
  nodetool: Nodetool
  sourceDc: string
  targetDc: string
  organization: string
  datastore?: string
  targets: TargetNode[]
  pollMs: number
  progressMs: number
  stallMs: number
  deadline: Deadline
  log: (line: string) => void
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

export interface OperatorPlan {
  datastore: string
  decision: ReplicationDecision
  manifest: KubeObject
  /** the datastore's replication status when the plan was read */
  status?: ReplicationStatus
}

const where = (ctx: OperatorContext): string => `namespace '${ctx.namespace}' on ${ctx.kube.label}`

/** Reads the datastore and the replications, and decides (nothing is changed). */
export async function planReplication(ctx: OperatorContext): Promise<OperatorPlan> {
  const get = async (resource: string, kind: string): Promise<unknown> => {
    try {
      return await ctx.kube.getJson<unknown>([resource], ctx.namespace, { quiet: true })
    } catch (e) {
      if (e instanceof ActionError && /doesn't have a resource type|no matches for kind/i.test(e.message)) {
        throw new ActionError(`the cluster does not serve ${kind} (${resource}) on ${ctx.kube.label}: method crd needs the Apigee operator's CRDs`, 'install Apigee hybrid (operator and datastore) in the new region, or use method nodetool')
      }
      throw e
    }
  }
  const ds = pickDatastore(parseDatastores(await get(DATASTORE_RESOURCE, 'ApigeeDatastore')), ctx.datastore, where(ctx))
  const replications = parseReplications(await get(CDR_RESOURCE, 'CassandraDataReplication'))
  const decision = decideReplication({ replications, status: ds.replication, sourceDc: ctx.sourceDc, organization: ctx.organization, pods: ctx.targets.map((t) => t.pod) })
  const force = decision.action === 'apply' ? decision.force : false
  const manifest = replicationManifest({ name: decision.name, namespace: ctx.namespace, organization: ctx.organization, sourceDc: ctx.sourceDc, force })
  return { datastore: ds.name, decision, manifest, status: ds.replication }
}

/** kubectl apply -f - (after a delete when the same spec is there already: see `recreate`). */
export async function applyReplication(ctx: OperatorContext, plan: OperatorPlan): Promise<void> {
  const d = plan.decision
  if (d.action !== 'apply') return
  if (d.recreate) {
    ctx.log(`${d.name} already has this spec, so an apply would not start the operator again: deleting and creating it`)
    await ctx.kube.run(['delete', `${CDR_RESOURCE}/${d.name}`, '--ignore-not-found'], ctx.namespace)
  }
  await ctx.kube.apply(plan.manifest, ctx.namespace)
  ctx.log(`applied CassandraDataReplication ${d.name} (source ${ctx.sourceDc}, force: ${d.force}) in ${where(ctx)}`)
}

/** What the watch reads; the real one is kubectl + nodetool (readers below), tests pass their own. */
export interface WatchIo {
  status(): Promise<ReplicationStatus | undefined>
  /** receive progress of a pod's rebuild; undefined when netstats cannot be read */
  netstats(pod: string): Promise<ReceiveProgress | undefined>
}

export function kubeWatchIo(ctx: OperatorContext, datastore: string): WatchIo {
  return {
    status: async () => {
      const o = await ctx.kube.getJson<unknown>([DATASTORE_RESOURCE, datastore], ctx.namespace, { quiet: true })
      if (!o) throw new ActionError(`ApigeeDatastore '${datastore}' disappeared from ${where(ctx)}`, 'check the Apigee installation of the new region; a re-run re-attaches')
      return parseDatastore(o).replication
    },
    netstats: async (pod) => {
      const res = await ctx.nodetool.run(pod, ['netstats'], { quiet: true, allowFailure: true, timeoutMs: 120_000 })
      if (res.code !== 0) return undefined
      try {
        return receiveProgress(parseNetStats(res.stdout))
      } catch {
        return undefined
      }
    }
  }
}

/** Cassandra's messages can list every range: keep the first 300 characters. */
const clip = (m: string): string => (m.length > 300 ? `${m.slice(0, 300)}...` : m)

const podLine = (p: ReplicationView['pods'][number], progress: NodeProgress | undefined): string => {
  const bytes = progress && (progress.totalBytes > 0 || progress.doneBytes > 0) ? `; ${progress.line().slice(p.pod.length + 2)}` : ''
  return `${p.pod}: ${p.state}${p.message ? ` (${clip(p.message)})` : ''}${bytes}`
}

/**
 * Watches the operator until every pod is complete; returns one result per target (failed ones
 * carry the pod and the operator's message). `before`: the status when we applied (undefined
 * when attaching). Stall = neither the status nor any pod's bytes changed for stallMs.
 */
export async function watchReplication(ctx: OperatorContext, io: WatchIo, o: { name: string; before?: ReplicationStatus; applied: boolean }): Promise<NodeResult[]> {
  const now = ctx.now ?? Date.now
  const sleep = ctx.sleep ?? realSleep
  const t0 = now()
  const pods = ctx.targets.map((t) => t.pod)
  // per pod from when the operator first reports it running (its elapsed time starts there)
  const progress = new Map<string, NodeProgress>()
  const progressOf = (pod: string): NodeProgress => progress.get(pod) ?? progress.set(pod, new NodeProgress(pod, { stallMs: ctx.stallMs, now })).get(pod)!
  const firstSeen = new Map<string, number>()
  const doneAt = new Map<string, number>()
  // attaching: pods already complete when we looked were rebuilt before this run (reported as skipped)
  const doneBefore = new Set(o.applied ? [] : pods.filter((p) => o.before?.pods[p]?.state === 'complete'))
  let last = ''
  let lastChange = now()
  let lastPrint = now()
  let lastStates = new Map<string, string>()
  let view: ReplicationView | undefined
  /** One result per target; on failure `fail.pods` (else the running pods, else the first pod not complete) carry the error. */
  const results = (fail?: { pods?: string[]; error: string }): NodeResult[] => {
    const out = ctx.targets.map((node): NodeResult => {
      const p = view?.pods.find((x) => x.pod === node.pod)
      const bytes = progress.get(node.pod)?.doneBytes ?? 0
      const ms = (doneAt.get(node.pod) ?? now()) - (firstSeen.get(node.pod) ?? t0)
      if (p?.state === 'complete') {
        const before = doneBefore.has(node.pod)
        return { node, outcome: before ? 'skipped' : 'rebuilt', bytes, ms, why: before ? 'completed before this run attached' : (p.message ?? 'operator state complete') }
      }
      return { node, outcome: 'not-started', bytes, ms: 0, why: p?.message ?? `operator state ${p?.state ?? 'waiting'}` }
    })
    if (fail) {
      const open = out.filter((r) => r.outcome === 'not-started')
      const named = open.filter((r) => fail.pods?.includes(r.node.pod))
      const running = open.filter((r) => view?.pods.find((x) => x.pod === r.node.pod)?.state === 'running')
      const blamed = named.length ? named : running.length ? running : open.slice(0, 1)
      for (const r of blamed.length ? blamed : out.slice(0, 1)) Object.assign(r, { outcome: 'failed', why: 'failed', error: fail.error, ms: now() - (firstSeen.get(r.node.pod) ?? t0) })
    }
    return out
  }
  for (;;) {
    const status = await io.status()
    view = viewReplication(status, o.before, pods, o.applied)
    const json = JSON.stringify(status ?? null)
    if (json !== last) {
      last = json
      lastChange = now()
    }
    for (const p of view.pods) {
      if (p.state !== 'waiting' && !firstSeen.has(p.pod)) firstSeen.set(p.pod, now())
      if (p.state === 'complete' && !doneAt.has(p.pod)) doneAt.set(p.pod, now())
      if (lastStates.get(p.pod) !== p.state && (lastStates.has(p.pod) || p.state !== 'waiting')) ctx.log(`${p.pod}: operator state ${p.state}${p.message ? ` (${clip(p.message)})` : ''}`)
    }
    lastStates = new Map(view.pods.map((p) => [p.pod, p.state]))
    for (const p of view.pods.filter((x) => x.state === 'running')) {
      const pr = progressOf(p.pod)
      const before = pr.doneBytes
      const ns = await io.netstats(p.pod)
      if (ns) pr.sample(ns)
      if (pr.doneBytes > before) lastChange = now()
    }
    if (view.failed.length) {
      const f = view.failed[0]
      return results({
        pods: [f.pod],
        error: `${f.pod}: the Apigee operator reports error: ${clip(f.message ?? 'no message')}\n  fix: ${operatorErrorHint(f.message ?? '', ctx.sourceDc)}`
      })
    }
    if (view.missing.length) {
      return results({ pods: view.missing, error: `the Apigee operator reports complete, but not for ${view.missing.join(', ')}\n  fix: check that those pods belong to the datastore; a re-run re-applies with force: true` })
    }
    if (view.done) {
      ctx.log(`the operator reports every pod of ${ctx.targetDc} complete (${o.name}) after ${formatDuration(now() - t0)}`)
      return results()
    }
    if (now() - lastPrint >= ctx.progressMs) {
      ctx.log(view.fresh ? view.pods.map((p) => podLine(p, progress.get(p.pod))).join('\n') : `waiting for the operator to pick up ${o.name} (status unchanged since the apply, ${formatDuration(now() - t0)})`)
      lastPrint = now()
    }
    const quiet = now() - lastChange
    if (quiet >= ctx.stallMs) {
      return results({
        error: `the replication stalled: neither the ApigeeDatastore status nor any pod's received bytes changed for ${formatDuration(quiet)} (${view.fresh ? `state ${view.state ?? '?'}` : `the operator never picked up ${o.name}`})\n  fix: check the Apigee operator (kubectl -n apigee logs deploy/apigee-controller-manager) and nodetool netstats in the pods; the operator keeps going, a re-run re-attaches`
      })
    }
    if (ctx.deadline.expired()) {
      const e = new TimeoutError(`the replication is still running when this run's time ran out (${view.pods.map((p) => `${p.pod} ${p.state}`).join(', ')})`, 're-run rebuild-dc: it re-attaches to the operator\'s replication (nothing is applied again)')
      return results({ error: e.describe() })
    }
    await sleep(Math.min(ctx.pollMs, Math.max(1, ctx.deadline.remaining())))
  }
}

/**
 * The CRD path of steps 3-4: plan (printed, with the manifest), then apply and watch. Resolves
 * with one result per target; `planned` on a dry run (then only skips are results, the rest not started).
 */
export async function rebuildByOperator(ctx: OperatorContext, report: Report, dryRun: boolean): Promise<{ results: NodeResult[]; planned: boolean }> {
  const plan = await planReplication(ctx)
  const d = plan.decision
  const rows: Cell[][] = ctx.targets.map((t) => {
    const p = plan.status?.pods[t.pod]
    return [t.pod, t.address, t.rack, p?.state ?? '-', p?.message ?? '']
  })
  const headers = ['pod', 'address', 'rack', 'operator state', 'message']
  const what = d.action === 'apply' ? `apply CassandraDataReplication ${d.name} (force: ${d.force})` : d.action === 'attach' ? `re-attach to ${d.name}` : 'nothing to do'
  ctx.log(`plan (method crd, ApigeeDatastore ${plan.datastore} in ${where(ctx)}): ${what}: ${d.why}\n${textTable(headers, rows)}`)
  if (d.action === 'apply') ctx.log(`CassandraDataReplication${dryRun ? ' that would be applied' : ''}:\n${YAML.stringify(plan.manifest).trimEnd()}`)
  report.table('Plan (Apigee operator)', headers, rows)
  report.set('plan', { method: 'crd', datastore: plan.datastore, decision: d, manifest: plan.manifest })
  const all = (outcome: NodeResult['outcome']): NodeResult[] => ctx.targets.map((node) => ({ node, outcome, bytes: 0, ms: 0, why: d.why }))
  if (dryRun) {
    report.status = 'planned'
    report.note(`Dry run: ${d.action === 'apply' ? `would apply CassandraDataReplication ${d.name} (source ${ctx.sourceDc}, force: ${d.force})` : what}; nothing was applied.`)
    return { results: all(d.action === 'skip' ? 'skipped' : 'not-started'), planned: true }
  }
  if (d.action === 'skip') {
    ctx.log(`every node of ${ctx.targetDc} is already rebuilt from ${ctx.sourceDc} by the operator: nothing to do`)
    return { results: all('skipped'), planned: false }
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      ctx.log(`::warning::${sig}: stopped watching; the Apigee operator keeps rebuilding and a re-run of rebuild-dc re-attaches`)
      process.exit(sig === 'SIGINT' ? 130 : 143)
    })
  }
  await applyReplication(ctx, plan)
  return { results: await watchReplication(ctx, kubeWatchIo(ctx, plan.datastore), { name: d.name, before: plan.status, applied: d.action === 'apply' }), planned: false }
}
