// P7: a whole promotion / the sum of its unavoidable parts, measured in one run. The demo's
// sandbox (scripts/demo/world.ts: real Cassandra, real kubectl against the Kubernetes API doubles,
// the ARM double, helloworld behind the weighted ingress), with a payload table loaded into the
// source region, then every stage of .github/workflows/promote-region.yml through the bundles with
// our workflow runner (sandbox/workflow-runner.ts), as `npm run demo` runs it. Measured:
//   promotion  the wall time of runWorkflow, preflight to verify
//   install    the install stage's step that runs install-command (the sandbox starts the new
//              region's Cassandra node and waits until it joined)
//   stream     what Cassandra spent streaming the rebuild, from each new node's own log: from
//              StorageService's `rebuild from dc:` to `[Stream #<plan>] All sessions completed` of
//              its Rebuild plan (Cassandra's range calculation included, our polling not), the
//              union of those intervals over the new nodes
//   drill      how long the verify stage held the fault: its outputs restore-at - fault-at
// Goal: promotion / (install + stream + drill) <= 1.3. What is left over (preflight, network,
// seed, expand, finalize, the gates, plans, polls and spot check of rebuild, the split check and
// restore of verify, the runner between jobs) is a fixed cost per promotion, so the ratio falls as
// the data grows: the printed per-stage table shows which stage's fixed cost dominates.
// Usage: [THROTTLE_MBIT=1] [FAULT_DURATION=30s] node bench/promotion.ts [rows]
//   rows (default 15000) of ~2.7 KiB random bytes in kvm_<org>_hybrid.bench_payload (RF 2 on the
//   source DC's 2 nodes); the new DC has one node (RF 1), which receives all of it.
//   THROTTLE_MBIT caps each source node's outbound streaming as in bench/rebuild.ts (0: no cap).
//   (takes /tmp/sandbox.lock; starts and stops 3 Cassandra nodes, addresses 127.31.x.x)
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_RUN_DIR } from '../sandbox/cassandra/cluster.ts'
import { seedKeyspaces } from '../sandbox/cassandra/seed.ts'
import { ROOT } from '../sandbox/runner.ts'
import { loadWorkflow, runWorkflow, type JobRun } from '../sandbox/workflow-runner.ts'
import { promoteInputs, SOURCE, startSandbox, stopSandbox, TARGET, type Sandbox } from '../scripts/demo/world.ts'
import { ensureBundles, haveSandbox, lockSandbox } from '../__tests__/actions/expand-keyspaces/harness.ts'
import { capStreaming, loadPayload, ROW_BYTES, tableMiB } from './payload.ts'

const ROWS = Number(process.argv[2] ?? 15000)
const MBIT = Number(process.env.THROTTLE_MBIT ?? 1)
const FAULT = process.env.FAULT_DURATION ?? '30s'
const GOAL = 1.3
const runDir = join(DEFAULT_RUN_DIR, '..', 'bench-promotion')
const workspace = join(DEFAULT_RUN_DIR, '..', 'bench-promotion-workspace')

/** Cassandra's log timestamp (`2026-12-05 09:19:23,461`, local time) in epoch ms. */
const logTime = (line: string): number | undefined => {
  const m = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3})/.exec(line)
  return m ? new Date(`${m[1]}T${m[2]}.${m[3]}`).getTime() : undefined
}

/** The rebuilds a node's log shows since it last started: [start, end] per `nodetool rebuild`. */
function rebuildIntervals(log: string): Array<[number, number]> {
  const lines = log.slice(log.lastIndexOf('--- sandbox: starting ')).split('\n')
  const out: Array<[number, number]> = []
  let start: number | undefined
  let plan: string | undefined
  for (const line of lines) {
    if (/StorageService\.java.* - rebuild from dc:/.test(line)) {
      start = logTime(line)
      plan = undefined
    } else if (start !== undefined && !plan) {
      plan = /\[Stream #([0-9a-f-]+)\] Executing streaming plan for Rebuild/.exec(line)?.[1]
    } else if (start !== undefined && plan && (line.includes(`[Stream #${plan}] All sessions completed`) || line.includes(`[Stream #${plan}] Stream failed`))) {
      out.push([start, logTime(line) ?? start])
      start = plan = undefined
    }
  }
  return out
}

/** Length of the union of intervals (nodes rebuilt one after another add up; overlapping ones do not). */
function unionMs(intervals: Array<[number, number]>): number {
  let total = 0
  let end = -Infinity
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue
    total += b - Math.max(a, end)
    end = b
  }
  return total
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
const stepOf = (run: JobRun | undefined, id: string) => run?.steps.find((s) => s.step.id === id)

if (!haveSandbox()) {
  console.error('bench/promotion: run npm run setup first (kubectl, cqlsh, nodetool, Cassandra jars)')
  process.exit(1)
}
ensureBundles(['preflight', 'create-vnet-peering', 'configure-seed-host', 'expand-keyspaces', 'rebuild-dc', 'verify-failover'])
const release = await lockSandbox()
const t0 = Date.now()
const log = (s: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}`)
let sb: Sandbox | undefined
let code = 1
try {
  rmSync(workspace, { recursive: true, force: true })
  mkdirSync(workspace, { recursive: true })
  const weights = { [SOURCE]: 50, [TARGET]: 50 }
  sb = await startSandbox({ runDir, workspace, addressBase: 31, rowsPerTable: 200, weights, replicas: 2, log: () => {} })
  log(`sandbox up in ${sec(sb.upMs)} (Cassandra ${sb.world.state.cassandraVersion}, ${SOURCE} dc-1 x2, ${TARGET} not installed)`)

  // the payload: a table of the runtime's kvm keyspace (RF 2 on dc-1), flushed on both source nodes
  const cluster = sb.world.cassandra
  const sources = cluster.nodes().filter((n) => n.datacenter === sb!.world.region(SOURCE).datacenter).map((n) => n.name)
  const table = `${seedKeyspaces(sb.world.state.org)[2]}.bench_payload`
  await cluster.cql(sources[0], [`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`])
  await loadPayload(cluster, sources[0], { table, rows: ROWS, dir: runDir })
  for (const n of sources) await cluster.nodetool(n, ['flush'])
  const mib = await tableMiB(cluster, sources[0], table)
  log(`loaded ${ROWS} rows of ${ROW_BYTES} random bytes into ${table}: ${mib.toFixed(1)} MiB on disk per source node`)
  await capStreaming(cluster, sources, MBIT)
  if (MBIT > 0) log(`streaming out of each source node capped at ${MBIT} Mbit/s`)

  // the whole promotion, every stage of the workflow
  const wf = loadWorkflow(join(ROOT, '.github/workflows/promote-region.yml'))
  const live = join(runDir, 'promotion.log')
  writeFileSync(live, '')
  const inputs = promoteInputs(sb, { expectedWeights: Object.entries(weights).map(([r, w]) => `${r}=${w}`).join(','), faultDuration: FAULT })
  const t1 = Date.now()
  const runs = await runWorkflow(wf, {
    inputs,
    env: sb.env,
    cwd: workspace,
    live: (chunk) => appendFileSync(live, chunk),
    onJobStart: (job) => log(`${job.id} ...`),
    onJobEnd: (run) => log(`${run.job.id} ${run.result} in ${sec(run.ms)}`)
  })
  const promotionMs = Date.now() - t1
  const failed = runs.filter((r) => r.result !== 'success')
  if (failed.length) throw new Error(`promotion failed at ${failed.map((r) => `${r.job.id} (${r.result})`).join(', ')}: see ${live}`)
  const job = (id: string): JobRun | undefined => runs.find((r) => r.job.id === id)

  // the unavoidable parts, each from this run
  const installMs = stepOf(job('install'), 'stage')?.ms ?? NaN
  await sb.world.refresh()
  const newPods = sb.world.region(TARGET).pods
  const intervals = newPods.flatMap((p) => (existsSync(p.log) ? rebuildIntervals(readFileSync(p.log, 'utf8')) : []))
  if (intervals.length < newPods.length) throw new Error(`found ${intervals.length} finished rebuilds in the logs of ${newPods.length} new node(s)`)
  const streamMs = unionMs(intervals)
  const verify = stepOf(job('verify'), 'stage')?.result?.outputs ?? {}
  const drillMs = Number(verify['restore-at']) - Number(verify['fault-at'])
  const rebuildOut = stepOf(job('rebuild'), 'stage')?.result?.outputs ?? {}
  const parts = installMs + streamMs + drillMs
  const p7 = promotionMs / parts

  // per stage: wall time, the unavoidable part inside it, the rest (its fixed cost)
  const inside: Record<string, number> = { install: installMs, rebuild: streamMs, verify: drillMs }
  console.log('stage       wall     unavoidable  fixed')
  for (const r of runs) {
    const u = inside[r.job.id] ?? 0
    console.log(`${r.job.id.padEnd(10)} ${sec(r.ms).padStart(7)} ${sec(u).padStart(10)} ${sec(r.ms - u).padStart(8)}`)
  }
  // the rebuild stage's own fixed costs: its spot check (bounded keys at a bounded rate) and the rest
  const reportPath = rebuildOut['report-path']
  const spot = reportPath && existsSync(reportPath) ? (JSON.parse(readFileSync(reportPath, 'utf8')).data?.spotCheck as { keys: number; queries: number; ms: number } | undefined) : undefined
  if (spot) console.log(`  rebuild's fixed cost: spot check ${sec(spot.ms)} (${spot.keys} keys, ${spot.queries} queries), the rest (gates, plan, lease, job start, polls) ${sec(job('rebuild')!.ms - streamMs - spot.ms)}`)
  const between = promotionMs - runs.reduce((a, r) => a + r.ms, 0)
  console.log(`${'(runner)'.padEnd(10)} ${sec(between).padStart(7)} ${sec(0).padStart(10)} ${sec(between).padStart(8)}`)
  console.log(`data: ${ROWS} rows, ${mib.toFixed(1)} MiB per source node, streamed into ${newPods.length} new node(s) (rebuild-dc bytes-streamed ${rebuildOut['bytes-streamed'] ?? '?'}), each source node capped at ${MBIT || 'no'} Mbit/s; fault-duration ${FAULT}`)
  console.log(`install (install-command step) ${sec(installMs)}, stream (Cassandra's log, rebuild start to all sessions completed) ${sec(streamMs)}, drill (verify restore-at - fault-at) ${sec(drillMs)}`)
  console.log(`P7 promotion / (install + stream + drill) = ${p7.toFixed(3)} (goal <= ${GOAL}) ${sec(promotionMs)} vs ${sec(parts)} ${p7 <= GOAL ? 'PASS' : 'FAIL'}`)
  const stages = Object.fromEntries(runs.map((r) => [r.job.id, r.ms]))
  console.log(JSON.stringify({ rows: ROWS, payloadMiB: Number(mib.toFixed(1)), throttleMbit: MBIT, faultDuration: FAULT, promotionMs, installMs, streamMs, drillMs, p7, stages, runnerMs: between, spotCheckMs: spot?.ms, bytesStreamed: Number(rebuildOut['bytes-streamed'] ?? NaN) }))
  code = 0
} catch (e) {
  console.error(`bench/promotion: ${(e as Error).message}`)
} finally {
  await stopSandbox({ arm: sb?.arm, runDir })
  release()
}
process.exit(code)
