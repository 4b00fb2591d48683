// rebuild-dc: stream the existing data into the new datacenter (procedure section D).
//   1. Find the new DC's nodes: Cassandra pods of the target cluster matched to `nodetool status`.
//   2. Gates: source DC in the ring and up, every new node UN, the keyspaces replicate to both DCs
//      (a rebuild before expand-keyspaces streams nothing and "succeeds").
//   3. Plan: order (racks, ordinals; one lane per rack with parallel-racks) and, per node, what an
//      earlier run left: done (skip), still running (re-attach), failed or interrupted (run again).
//   4. Rebuild: `nodetool rebuild -- <source dc>` started in each pod as a background job and
//      polled with netstats: bytes, percent, ETA, stall detection.
//   5. Verify: load per node of both DCs; partition keys sampled from the source DC by token range
//      (bounded, paced) must be found at LOCAL_ONE in the new DC unless written after this run
//      started or expired since (core/cassandra/spot-check.ts).
//   6. Optionally a full repair of the new DC's nodes.
// With method crd, steps 3-4 are the Apigee operator's: a CassandraDataReplication applied in the
// new region, its progress read from the ApigeeDatastore status (core/cassandra/rebuild-crd.ts).
import * as core from '@actions/core'
import { runAction } from '../../core/entry.ts'
import { ActionError, PreflightError } from '../../core/errors.ts'
import type { Kubectl, PodInfo } from '../../core/kube/kubectl.ts'
import { cassandraPods, readyPod } from '../../core/kube/region.ts'
import { ACTION_PERMISSIONS, DEFAULT_NAMES, requirePermissions } from '../../core/kube/permissions.ts'
import { textTable, type Cell } from '../../core/report.ts'
import { Deadline, formatDuration } from '../../core/wait.ts'
import { Cqlsh } from '../../core/cassandra/cqlsh.ts'
import { Nodetool, readDatastoreCredentials, type CassandraPods, type DatastoreCredentials } from '../../core/cassandra/nodetool.ts'
import type { RingNode } from '../../core/cassandra/status.ts'
import { type Decision, rebuildArgs, rebuildGates, rebuildLanes, targetNodes, type TargetNode } from '../../core/cassandra/rebuild-plan.ts'
import { inspectNode, type NodeResult, planProbe, type PodProbe, probeOf, readCoverage, readRings, readStreamedRanges, rebuildLanes as runLanes, type RebuildContext } from '../../core/cassandra/rebuild.ts'
import { rebuildByOperator } from '../../core/cassandra/rebuild-crd.ts'
import { formatBytes } from '../../core/cassandra/rebuild-progress.ts'
import { compareLoad, loadSummary, readKeyspaces, rebuildScope } from '../../core/cassandra/rebuild-verify.ts'
import { spotCheck, spotCheckError } from '../../core/cassandra/spot-check.ts'
import { SPOT_CHECK_HEADERS, spotCheckRows } from '../../core/cassandra/spot-check-plan.ts'
import { readRebuildInputs, type RebuildConfig } from './inputs.ts'
import { acquireLease, runHolder, type HeldLease } from '../../core/kube/lease.ts'

const podAddress = (p: PodInfo): string | undefined => (p.hostNetwork ? p.hostIP : p.podIP) ?? p.podIP

export async function run(): Promise<void> {
  await runAction('rebuild-dc', async ({ inputs, report }) => {
    const t0 = Date.now()
    const cfg = readRebuildInputs(inputs)
    const deadline = new Deadline(cfg.timeoutMs)
    const mode = cfg.parallelRacks ? 'one node per rack at a time' : 'one node at a time'
    core.info(`rebuild-dc: ${cfg.targetDc} from ${cfg.sourceDc}${cfg.keyspaces.length ? ` (keyspaces ${cfg.keyspaces.join(', ')})` : ''}, ${mode}${cfg.dryRun ? ', dry run' : ''}`)

    // 0. The identity holds every permission this step needs, on both clusters (asked, not tried).
    const need = ACTION_PERMISSIONS['rebuild-dc']({ ...DEFAULT_NAMES, namespace: cfg.namespace, credentialsSecret: cfg.secret }, { crd: cfg.method === 'crd' })
    await requirePermissions([{ kube: cfg.target, wanted: need.target ?? [] }, { kube: cfg.source, wanted: need.source ?? [] }], 'docs/rbac/rebuild-dc.yaml', core.info)

    // One writer at a time: the Lease in the source region's cluster (not for a dry run).
    const lease = cfg.dryRun ? undefined : await acquireLease(cfg.source, { namespace: cfg.namespace, ...cfg.lease, holder: runHolder(), log: (l) => core.info(l), releaseOnSignal: false })
    try {
      await rebuild(cfg, report, { t0, deadline, mode, lease })
    } finally {
      await lease?.release()
    }
  })
}

async function rebuild(cfg: RebuildConfig, report: ReportLike, { t0, deadline, mode, lease }: { t0: number; deadline: Deadline; mode: string; lease?: HeldLease }): Promise<void> {
  // 1. The new DC's nodes and their pods.
  const kube = cfg.target
  // A dry run of a whole promotion reaches this stage before its install has run: say what the
  // real run will do then (it finds the nodes in the ring).
  if (cfg.dryRun && (await kube.getPods(cfg.namespace, cfg.selector)).length === 0) return planBeforeInstall(cfg, report, t0)
  // the source side (another cluster: its pods are the source DC's) is read while the target's ring is
  const early = cfg.sameCluster ? undefined : sourceEarly(cfg)
  const [pods, creds] = await Promise.all([cassandraPods(kube, cfg.namespace, cfg.selector), credentials(cfg, kube)])
  const ready = [readyPod(pods, kube)]
  const where: CassandraPods = { kube, namespace: cfg.namespace, container: cfg.container }
  const nodetool = new Nodetool(where, creds.jmx)
  const cql = new Cqlsh(where, creds.ddl, CQL_OPTIONS)
  // Each new node's evidence for the plan: its pod's job dirs (and, in a dry run, netstats: see
  // planProbe) and what it records as streamed (a cqlsh), read while the ring is. Neither needs
  // the ring: with a cluster of its own the new region's ready pods are its nodes (the ring
  // confirms which).
  const nodeReads = new Map<string, NodeReads>()
  const readNode = (pod: string): NodeReads => {
    let r = nodeReads.get(pod)
    if (!r) {
      r = { probe: planProbe({ nodetool, stateDir: cfg.stateDir }, pod, { netstats: cfg.dryRun }), streamed: readStreamedRanges(cql, pod) }
      for (const p of [r.probe, r.streamed]) p.catch(() => undefined) // awaited by the plan; a gate may fail first
      nodeReads.set(pod, r)
    }
    return r
  }
  if (!cfg.sameCluster && cfg.method !== 'crd') for (const p of pods.filter((x) => x.ready)) readNode(p.name)
  const ring = await nodetool.status(ready[0].name)
  const targets = targetNodes(ring, pods.map((p) => ({ name: p.name, ready: p.ready, address: podAddress(p) })), cfg.targetDc)

  // 2. Gates.
  const request = { sourceDc: cfg.sourceDc, keyspaces: cfg.keyspaces }
  const gateErrors = rebuildGates(ring, request, cfg.targetDc, targets)
  const firstTarget = targets.find((t) => t.up)?.pod ?? ready[0].name
  if (cfg.method !== 'crd' && !gateErrors.length) for (const n of targets) readNode(n.pod)
  // CQL goes to a source pod: before its rebuild a new node cannot even log in (its system_auth
  // replicas are empty, and Cassandra 4.1+ authenticates at LOCAL_QUORUM)
  const source = await sourceSide(cfg, ring, nodetool, cql, early)
  const schemaPod = source ?? { cql, pod: firstTarget }
  const keyspaces = await readKeyspacesOrExplain(schemaPod.cql, schemaPod.pod, cfg, source?.keyspaces).catch((e: unknown) => {
    // no source pod (a wrong source-datacenter, say) and a new node cannot log in yet: the ring gates say why
    throw gateErrors.length ? gateFailure(gateErrors) : e
  })
  const scope = rebuildScope(keyspaces, cfg.sourceDc, cfg.targetDc, cfg.keyspaces)
  if (scope.unknown.length) gateErrors.push(new ActionError(`input 'keyspaces': no keyspace named ${scope.unknown.join(', ')}`, 'list existing keyspaces (exact case), or leave it empty for all'))
  if (scope.missing.length && cfg.dryRun) {
    // a dry run of a whole promotion: the expand stage before this one adds them
    report.note(`Keyspace(s) ${scope.missing.join(', ')} do not replicate to ${cfg.targetDc} yet: the real run needs expand-keyspaces first, and then rebuilds them too.`)
  } else if (scope.missing.length) {
    gateErrors.push(
      new PreflightError(
        `keyspace(s) ${scope.missing.join(', ')} do not replicate to ${cfg.targetDc} yet: a rebuild now would stream nothing for them`,
        `run expand-keyspaces first (ALTER KEYSPACE ... '${cfg.targetDc}': N), then rebuild-dc`
      )
    )
  }
  if (scope.noSource.length) {
    gateErrors.push(
      new PreflightError(
        `keyspace(s) ${scope.noSource.join(', ')} have no replica in the source datacenter ${cfg.sourceDc}: a rebuild would stream nothing for them (Cassandra only logs "Unable to find sufficient sources" and exits 0)`,
        `check source-datacenter, or replicate those keyspaces to ${cfg.sourceDc}; leave them out of 'keyspaces'`
      )
    )
  }
  if (gateErrors.length) throw gateFailure(gateErrors)
  core.info(`keyspaces covered: ${scope.covered.map((k) => k.name).join(', ') || '(none)'}`)

  // 3-4 with method crd: the Apigee operator rebuilds the nodes (rebuild-crd.ts); 5-6 as below
  if (cfg.method === 'crd') {
    const order = rebuildLanes(targets, false).flat()
    const op = { kube, namespace: cfg.namespace, nodetool, sourceDc: cfg.sourceDc, targetDc: cfg.targetDc, ...cfg.crd!, targets: order, pollMs: cfg.pollMs, progressMs: cfg.progressMs, stallMs: cfg.stallMs, deadline, log: (l: string) => core.info(l) }
    const { results, planned } = await rebuildByOperator(op, report, cfg.dryRun)
    if (planned) return setOutputs(report, [], results.filter((r) => r.outcome === 'skipped').map((r) => r.node), 0, t0)
    return conclude({ cfg, report, results, order, nodetool, cql, source, deadline, t0 })
  }

  // 3. Plan: order and what each node needs.
  const lanes = rebuildLanes(targets, cfg.parallelRacks)
  // describering per keyspace (a nodetool JVM each): only read when a node needs the evidence
  let rings: ReturnType<typeof readRings> | undefined
  const ringsOnce = (): ReturnType<typeof readRings> => (rings ??= readRings(nodetool, firstTarget, scope.covered.map((k) => k.name)))
  const ctx: RebuildContext = {
    nodetool,
    stateDir: cfg.stateDir,
    request,
    pollMs: cfg.pollMs,
    progressMs: cfg.progressMs,
    stallMs: cfg.stallMs,
    deadline,
    log: (l) => core.info(l),
    coverage: async (node, fresh) => {
      try {
        return await readCoverage(cql, node, scope.covered.map((k) => k.name), ringsOnce, fresh ? undefined : nodeReads.get(node.pod)?.streamed)
      } catch (e) {
        // expected on a node never rebuilt: it cannot authenticate CQL logins yet (empty system_auth)
        core.info(`${node.pod}: system.available_ranges_v2 not readable (${e instanceof Error ? e.message.split('\n')[0] : e}); relying on the job state`)
        return 'unknown'
      }
    }
  }
  const decisions = new Map<string, Decision>()
  // one probe per node, all at once (started with the ring read above)
  const inspected = await Promise.all(targets.map((n) => inspectNode(ctx, n, nodeReads.get(n.pod)!.probe.then((p) => probeOf(p, n)))))
  targets.forEach((n, i) => decisions.set(n.pod, inspected[i].decision))
  const planRows: Cell[][] = lanes.flatMap((lane, li) => lane.map((n, i) => [cfg.parallelRacks ? `${li + 1}.${i + 1}` : i + 1, n.pod, n.address, n.rack, decisions.get(n.pod)!.action, decisions.get(n.pod)!.why]))
  const planHeaders = ['order', 'pod', 'address', 'rack', 'action', 'why']
  core.info(`plan (nodetool rebuild ${rebuildArgs(request).join(' ')}; ${mode}):\n${textTable(planHeaders, planRows)}`)
  report.table('Plan', planHeaders, planRows)
  report.set('plan', { sourceDc: cfg.sourceDc, targetDc: cfg.targetDc, parallelRacks: cfg.parallelRacks, lanes: lanes.map((l) => l.map((n) => ({ pod: n.pod, rack: n.rack, action: decisions.get(n.pod)!.action }))) })
  const todo = targets.filter((n) => decisions.get(n.pod)!.action !== 'skip')
  if (cfg.dryRun) {
    report.status = 'planned'
    report.note(`Dry run: ${todo.length} of ${targets.length} node(s) would be rebuilt from ${cfg.sourceDc}; nothing was started.`)
    setOutputs(report, [], targets.filter((n) => !todo.includes(n)), 0, t0)
    return
  }

  // 4. Rebuild. A cancel (SIGINT/SIGTERM from the runner) only stops the watching: the jobs run
  // on in the pods and the next run re-attaches to them.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      core.warning(`${sig}: stopped watching; the rebuilds keep running in the pods and a re-run of rebuild-dc re-attaches to them`)
      process.exit(sig === 'SIGINT' ? 130 : 143)
    })
  }
  let results: NodeResult[] = []
  if (todo.length) {
    results = await runLanes(ctx, lanes, decisions)
  } else {
    core.info(`every node of ${cfg.targetDc} is already rebuilt from ${cfg.sourceDc}: nothing to do`)
    results = targets.map((node) => ({ node, outcome: 'skipped', bytes: 0, ms: 0, why: decisions.get(node.pod)!.why }))
  }
  await conclude({ cfg, report, results, order: lanes.flat(), nodetool, cql, source, deadline, t0 })
}

type ReportLike = Parameters<Parameters<typeof runAction>[1]>[0]['report']

async function planBeforeInstall(cfg: RebuildConfig, report: ReportLike, t0: number): Promise<void> {
  const sourcePods = cfg.sameCluster ? [] : await cfg.source.getPods(cfg.namespace, cfg.selector).catch(() => [])
  const nodes = sourcePods.length ? `its ${sourcePods.length} node(s) (as many as the source region runs)` : 'each of its nodes'
  const how = cfg.method === 'crd' ? 'through a CassandraDataReplication applied in the new region' : `with nodetool rebuild ${rebuildArgs({ sourceDc: cfg.sourceDc, keyspaces: cfg.keyspaces }).join(' ')}, ${cfg.parallelRacks ? 'one node per rack at a time' : 'one node at a time'}`
  core.info(`no Cassandra pod of ${cfg.targetDc} on ${cfg.target.label} yet: the install stage has not run`)
  report.status = 'planned'
  report.table('Plan', ['datacenter', 'action', 'detail'], [[cfg.targetDc, 'rebuild', `${nodes} from ${cfg.sourceDc} ${how}`]])
  report.note(`Dry run: '${cfg.targetDc}' has no Cassandra pod on ${cfg.target.label} yet (the install stage runs before this one). Once it is installed and its keyspaces expanded, the real run rebuilds ${nodes} from '${cfg.sourceDc}'; nothing was started.`)
  setOutputs(report, [], [], 0, t0)
}

const gateFailure = (errors: ActionError[]): ActionError => (errors.length === 1 ? errors[0] : new PreflightError(errors.map((e) => e.describe()).join('\n')))

interface Conclusion {
  cfg: RebuildConfig
  report: ReportLike
  results: NodeResult[]
  /** the new DC's nodes in rebuild order (the repair follows it) */
  order: TargetNode[]
  nodetool: Nodetool
  cql: Cqlsh
  source: CqlSide | undefined
  deadline: Deadline
  t0: number
}

/** Steps 4 (results) to 6 for both methods: tables, outputs, failure, verify, optional repair. */
async function conclude({ cfg, report, results, order, nodetool, cql, source, deadline, t0 }: Conclusion): Promise<void> {
  const rebuilt = results.filter((r) => r.outcome === 'rebuilt').map((r) => r.node)
  const skipped = results.filter((r) => r.outcome === 'skipped').map((r) => r.node)
  const bytes = results.reduce((s, r) => s + r.bytes, 0)
  const resultRows: Cell[][] = results.map((r) => [r.node.pod, r.node.rack, r.outcome, formatBytes(r.bytes), formatDuration(r.ms), r.error ? r.error.split('\n')[0] : r.why])
  report.table('Nodes', ['pod', 'rack', 'outcome', 'received', 'time', 'note'], resultRows)
  report.set('nodes', results.map((r) => ({ pod: r.node.pod, address: r.node.address, rack: r.node.rack, outcome: r.outcome, bytes: r.bytes, ms: r.ms, error: r.error })))
  setOutputs(report, rebuilt, skipped, bytes, t0)
  const failed = results.filter((r) => r.outcome === 'failed')
  if (failed.length) {
    const notStarted = results.filter((r) => r.outcome === 'not-started').map((r) => r.node.pod)
    throw new ActionError(
      `${failed.map((r) => r.error ?? r.node.pod).join('\n')}${notStarted.length ? `\nnot started: ${notStarted.join(', ')}` : ''}`,
      undefined
    )
  }
  if (!rebuilt.length) report.status = 'unchanged'

  // 5. Verify.
  if (cfg.verify) await verify(cfg, nodetool, cql, source, order, report, t0)

  // 6. Optional full repair.
  if (cfg.repair) {
    for (const n of order) {
      core.info(`${n.pod}: nodetool repair -full`)
      await nodetool.run(n.pod, ['repair', '-full'], { timeoutMs: Math.max(60_000, deadline.remaining()), echoOutput: true })
    }
    report.note(`Full repair ran on ${order.length} node(s) of ${cfg.targetDc}.`)
  }
  report.note(`${rebuilt.length} node(s) rebuilt, ${skipped.length} already done; ${formatBytes(bytes)} received in ${formatDuration(Date.now() - t0)}.`)
}

function setOutputs(report: ReportLike, rebuilt: TargetNode[], skipped: TargetNode[], bytes: number, t0: number): void {
  report.output('rebuilt-nodes', rebuilt.map((n) => n.pod).join(','))
  report.output('skipped-nodes', skipped.map((n) => n.pod).join(','))
  report.output('bytes-streamed', bytes)
  report.output('duration', Math.round((Date.now() - t0) / 1000))
}

/** A new node's reads for the plan, started before the ring is known. */
interface NodeReads {
  probe: Promise<PodProbe>
  streamed: ReturnType<typeof readStreamedRanges>
}

interface CqlSide {
  cql: Cqlsh
  pod: string
  /** the schema, when it was read early from this pod */
  keyspaces?: ReturnType<typeof readKeyspaces>
}

const CQL_OPTIONS = { requestTimeoutS: 120 }

interface SourceEarly {
  pods: PodInfo[]
  /** the source's DDL credentials, or why they could not be read (an error only once a pod needs them) */
  creds: Promise<DatastoreCredentials>
  /** the first ready pod with the schema read started on it: the ring confirms it is of the source DC, or it is not used */
  guess?: CqlSide
}

/** The source cluster's pods and credentials, and a schema read on its first ready pod, started before the ring is known. */
function sourceEarly(cfg: RebuildConfig): Promise<SourceEarly> {
  const creds = cfg.ddl ? Promise.resolve({ ddl: cfg.ddl }) : readDatastoreCredentials(cfg.source, cfg.namespace, cfg.secret, { ddl: true })
  creds.catch(() => undefined) // thrown where a pod needs them, as before
  return cfg.source.getPods(cfg.namespace, cfg.selector).catch(() => []).then(async (pods) => {
    const first = pods.find((p) => p.ready)
    const c = first ? await creds.catch(() => undefined) : undefined
    if (!first || !c) return { pods, creds }
    const cql = new Cqlsh({ kube: cfg.source, namespace: cfg.namespace, container: cfg.container }, c.ddl, CQL_OPTIONS)
    const keyspaces = readKeyspaces(cql, first.name)
    keyspaces.catch(() => undefined) // awaited only when the ring confirms the pod
    return { pods, creds, guess: { cql, pod: first.name, keyspaces } }
  })
}

/** A ready pod of the source DC (in the source cluster) with its cqlsh, or undefined when none is found. */
async function sourceSide(cfg: RebuildConfig, ring: RingNode[], nodetool: Nodetool, cql: Cqlsh, early?: Promise<SourceEarly>): Promise<CqlSide | undefined> {
  const srcKube = cfg.sameCluster ? nodetool.pods.kube : cfg.source
  const srcAddrs = new Set(ring.filter((n) => n.datacenter === cfg.sourceDc && n.status === 'U').map((n) => n.address))
  const e = early ? await early : undefined
  const pods = e?.pods ?? (await srcKube.getPods(cfg.namespace, cfg.selector).catch(() => []))
  const pod = pods.find((p) => p.ready && srcAddrs.has(podAddress(p) ?? ''))
  if (!pod) return undefined
  if (e?.guess?.pod === pod.name) return e.guess
  const creds = cfg.sameCluster || cfg.ddl ? { ddl: cql.creds } : await (e?.creds ?? readDatastoreCredentials(srcKube, cfg.namespace, cfg.secret, { ddl: true }))
  return { cql: new Cqlsh({ kube: srcKube, namespace: cfg.namespace, container: cfg.container }, creds.ddl, cql.o), pod: pod.name }
}

async function readKeyspacesOrExplain(cql: Cqlsh, pod: string, cfg: RebuildConfig, early?: ReturnType<typeof readKeyspaces>): ReturnType<typeof readKeyspaces> {
  try {
    return await (early ?? readKeyspaces(cql, pod))
  } catch (e) {
    if (e instanceof ActionError && /AuthenticationFailed|Bad credentials|Cannot achieve consistency/i.test(e.message)) {
      throw new PreflightError(
        `cannot log in to CQL on ${pod}: ${e.message.split('\n').find((l) => /Bad credentials|consistency/i.test(l))?.trim() ?? 'authentication failed'}`,
        `no source pod of ${cfg.sourceDc} was found to read the schema (set source-context / source-region), and a node of ${cfg.targetDc} cannot authenticate before system_auth replicates and is rebuilt there: run expand-keyspaces first`
      )
    }
    throw e
  }
}

async function verify(cfg: RebuildConfig, nodetool: Nodetool, cql: Cqlsh, source: CqlSide | undefined, targets: TargetNode[], report: ReportLike, t0: number): Promise<void> {
  const ring: RingNode[] = await nodetool.status(targets[0].pod)
  const load = compareLoad(ring, cfg.sourceDc, cfg.targetDc)
  const rows: Cell[][] = load.rows.map((r) => [r.datacenter, r.address, r.rack, r.load === undefined ? '?' : formatBytes(r.load)])
  core.info(`${loadSummary(load, cfg.sourceDc, cfg.targetDc)}\n${textTable(['dc', 'address', 'rack', 'load'], rows)}`)
  report.table('Load after rebuild', ['dc', 'address', 'rack', 'load'], rows)
  report.set('load', load)
  if (load.ratio !== undefined && load.ratio < cfg.minLoadRatio) {
    core.warning(`${loadSummary(load, cfg.sourceDc, cfg.targetDc)}: below min-load-ratio ${cfg.minLoadRatio} (a lower RF in the new DC explains it; missing data does too)`)
  }
  if (cfg.spotCheckTables === 0) return

  // Sampled keys: read from a pod of the source DC, looked up through a pod of the new DC, each at
  // LOCAL_ONE so that each side sees only its own DC's replicas.
  if (!source) {
    const where = cfg.sameCluster ? nodetool.pods.kube.label : cfg.source.label
    throw new ActionError(`spot check: no ready pod of ${cfg.sourceDc} found with '${cfg.selector}' on ${where}`, 'set source-context (or topology regions.<source>.kube.context) to the source cluster, or spot-check-tables: 0')
  }
  const tgtPod = targets[0].pod
  const scope = rebuildScope(await readKeyspaces(source.cql, source.pod), cfg.sourceDc, cfg.targetDc, cfg.keyspaces)
  const started = Date.now()
  const results = await spotCheck({
    source,
    target: { cql, pod: tgtPod },
    keyspaces: scope.covered.map((k) => k.name).filter((k) => !k.startsWith('system')),
    keys: cfg.spotCheckKeys,
    maxTables: cfg.spotCheckTables,
    ratePerS: cfg.spotCheckRate,
    // keys written after this run started need not be in the new DC yet (rows written during the rebuild)
    sinceMicros: BigInt(t0) * 1000n,
    log: (l) => core.info(l)
  })
  const spotRows: Cell[][] = spotCheckRows(results)
  const total = results.reduce((a, r) => ({ keys: a.keys + r.sampled, q: a.q + r.source.queries + r.target.queries, rows: a.rows + r.source.rows + r.target.rows }), { keys: 0, q: 0, rows: 0 })
  const took = Date.now() - started
  const head = `spot check: ${total.keys} key(s) sampled in ${results.length} table(s) from ${source.pod} (${cfg.sourceDc}), looked up through ${tgtPod} (${cfg.targetDc}), LOCAL_ONE; load ${total.q} queries, ${total.rows} rows in ${formatDuration(took)} (at most ${cfg.spotCheckRate} queries/s per DC)`
  core.info(`${head}\n${textTable(SPOT_CHECK_HEADERS, spotRows)}`)
  report.table('Spot check (sampled keys, LOCAL_ONE)', SPOT_CHECK_HEADERS, spotRows)
  report.note(head)
  report.set('spotCheck', { keys: total.keys, queries: total.q, rows: total.rows, ms: took, ratePerS: cfg.spotCheckRate, tables: results })
  const err = spotCheckError(results, cfg.sourceDc, cfg.targetDc, tgtPod)
  if (err) throw err
}

/** JMX and DDL credentials: the inputs when given, else the credentials secret of the target cluster. */
async function credentials(cfg: RebuildConfig, kube: Kubectl): Promise<DatastoreCredentials> {
  const need = { jmx: !cfg.jmx, ddl: !cfg.ddl }
  const fromSecret = need.jmx || need.ddl ? await readDatastoreCredentials(kube, cfg.namespace, cfg.secret, need) : {}
  return { jmx: cfg.jmx ?? fromSecret.jmx, ddl: cfg.ddl ?? fromSecret.ddl }
}
