// rebuild-dc end to end on real Cassandra (4.1 by default; CASSANDRA_VERSION=5.0.9 for 5.0), driven
// through the bundle as the runner runs it:
// dc-41 (1 node, seeded with incompressible rows) and dc-42 (2 nodes in racks ra-1 / ra-2) behind
// two Kubernetes API doubles that the real kubectl talks to. Streaming is throttled on the source
// (1 Mbit/s for partial SSTables, 1 MiB/s for whole ones) so a rebuild lasts long enough to be killed
// mid-stream, or to be met by ours while someone runs one by hand.
// Run under the sandbox lock (taken by the test): the Cassandra addresses are fixed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseStatus } from '../../../src/core/cassandra/status.ts'
import { runAction, startStep, type StepResult } from '../../../sandbox/runner.ts'
import { argvScanner, ensureBundles, haveSandbox, lockSandbox, regionInputs, secretLeaks, startMiniWorld, visible, type MiniWorld } from '../expand-keyspaces/harness.ts'

const d = haveSandbox() ? describe : describe.skip
if (!haveSandbox()) it('sandbox tools are installed (npm run setup)', () => expect(haveSandbox()).toBe(true))

// DC numbers pick the loopback block (127.0.<n>.x): unique ones avoid other suites' nodes
const SRC = 'dc-41'
const TGT = 'dc-42'
const ROWS = Number(process.env.REBUILD_TEST_ROWS ?? 80) // x 64 KiB random = 5 MiB

d('rebuild-dc on the sandbox', () => {
  let w: MiniWorld
  let release: () => void
  let stateDir: string
  let scanner: ReturnType<typeof argvScanner>
  const all: StepResult[] = []
  let rerunResult: StepResult | undefined
  let written = 0

  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
    'source-datacenter': SRC,
    'target-datacenter': TGT,
    ...regionInputs(w),
    'poll-interval': '1s',
    'progress-interval': '2s',
    'stall-timeout': '2m',
    'state-dir': stateDir,
    ...extra
  })
  const run = async (extra: Record<string, string> = {}): Promise<StepResult> => {
    const r = await runAction('rebuild-dc', inputs(extra), { env: w.env })
    all.push(r)
    return r
  }
  const out = (r: StepResult): string => visible(r.stdout + r.stderr)
  interface SpotTable { table: string; sampled: number; found: number; missing: number; newer: number; gone: number }
  /** The spot check part of the action's JSON report. */
  const spotCheckOf = (r: StepResult): { keys: number; queries: number; ms: number; tables: SpotTable[] } => JSON.parse(readFileSync(r.outputs['report-path'], 'utf8')).data.spotCheck
  /** Inserts into app.live (a third with a 3 s TTL) and app.fleeting (all with a 3 s TTL, new keys) on the source node until stopped; returns the rows written. */
  const continuousWrites = (): { stop: () => Promise<number> } => {
    let on = true
    let n = 0
    const src = w.cluster.nodes().find((x) => x.datacenter === SRC)!
    const loop = (async () => {
      while (on) {
        const batch = Array.from({ length: 15 }, (_, i) =>
          i % 3 === 2 ? `INSERT INTO app.fleeting (id, v) VALUES (${n + i}, 'f') USING TTL 3` : `INSERT INTO app.live (id, at, v) VALUES (${(n + i) % 500}, now(), 'w')${(n + i) % 3 === 0 ? ' USING TTL 3' : ''}`
        )
        await w.cluster.cql(src.name, batch, { allowFailure: true })
        n += batch.length
        await new Promise((res) => setTimeout(res, 200))
      }
    })()
    return { stop: async () => ((on = false), await loop, n) }
  }
  /** The job folder of the i-th dc-2 node in the "pod" (exec runs locally: same filesystem). */
  const hostDir = async (i: number): Promise<string> => {
    const n = w.cluster.nodes().filter((x) => x.datacenter === TGT)[i]
    const ring = parseStatus((await w.cluster.nodetool(n.name, ['status'])).stdout)
    return join(stateDir, ring.find((x) => x.address === n.address)!.hostId)
  }

  beforeAll(async () => {
    release = await lockSandbox()
    ensureBundles(['rebuild-dc'])
    w = await startMiniWorld({ sourceDc: SRC, targetDc: TGT, sourceNodes: 1 })
    stateDir = join(w.dir, 'pod-state')
    const src = w.cluster.nodes().find((n) => n.datacenter === SRC)!
    await w.cluster.cql(src.name, [
      `CREATE KEYSPACE app WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1}`,
      'CREATE TABLE app.blobs (id int PRIMARY KEY, v blob)',
      'CREATE TABLE app."Small" (id int PRIMARY KEY, v text)',
      // rows that expire during the rebuild and the spot check, and a table written all along
      'CREATE TABLE app.sessions (org text, id int, v text, PRIMARY KEY ((org, id)))',
      'CREATE TABLE app.live (id int, at timeuuid, v text, PRIMARY KEY (id, at))',
      'CREATE TABLE app.fleeting (id int PRIMARY KEY, v text)'
    ])
    for (let i = 0; i < ROWS; i += 20) {
      const batch = Array.from({ length: Math.min(20, ROWS - i) }, (_, k) => `INSERT INTO app.blobs (id, v) VALUES (${i + k}, 0x${randomBytes(64 * 1024).toString('hex')})`)
      await w.cluster.cql(src.name, batch, { timeoutMs: 120_000 })
    }
    await w.cluster.cql(src.name, Array.from({ length: 50 }, (_, i) => `INSERT INTO app."Small" (id, v) VALUES (${i}, 'row ${i}')`))
    // TTL'd rows streamed by the rebuild (a composite partition key)
    await w.cluster.cql(src.name, Array.from({ length: 300 }, (_, i) => `INSERT INTO app.sessions (org, id, v) VALUES ('o${i % 3}', ${i}, 's') USING TTL ${3600 + i}`))
    await w.cluster.nodetool(src.name, ['flush'])
    // the new region: two nodes in two racks, pods in the target cluster with the creds secret
    const seeds = [src.address]
    const specs = [w.cluster.dcSpecs(TGT, 1, { first: 0, rack: 'ra-1', seeds })[0], w.cluster.dcSpecs(TGT, 1, { first: 1, rack: 'ra-2', seeds })[0]]
    w.cluster.start(specs)
    await w.cluster.waitUp([src, ...specs])
    // (a DC can be named in replication only once it has live nodes)
    await w.cluster.cql(src.name, [`CREATE KEYSPACE only_new WITH replication = {'class': 'NetworkTopologyStrategy', '${TGT}': 1}`])
    w.addRegion(w.target, TGT)
    // slow streaming down so that a rebuild can be interrupted
    for (const cmd of ['setinterdcstreamthroughput', 'setstreamthroughput']) {
      await w.cluster.nodetool(src.name, [cmd, '1']) // partial SSTables (vnode ranges split them): 1 Mbit/s
      await w.cluster.nodetool(src.name, [cmd, '-e', '1']) // entire SSTables: 1 MiB/s
    }
    scanner = argvScanner([w.jmxPassword, w.ddlPassword])
  }, 3_600_000) // includes waiting for the sandbox lock

  afterAll(async () => {
    await w?.close()
    release?.()
  }, 120_000)

  it('refuses to rebuild before the keyspaces replicate to the new DC, naming them; nothing started', async () => {
    const r = await run()
    expect(r.code).not.toBe(0)
    expect(out(r)).toMatch(/keyspace\(s\) app, system_auth, system_distributed, system_traces do not replicate to dc-42 yet/)
    expect(out(r)).toMatch(/run expand-keyspaces first/)
    expect(existsSync(stateDir)).toBe(false)
  })

  it('dry-run prints the plan (order, racks, action) and starts nothing', async () => {
    const src = w.cluster.nodes().find((n) => n.datacenter === SRC)!
    await w.cluster.cql(
      src.name,
      ['app', 'system_auth', 'system_distributed', 'system_traces'].map((k) => `ALTER KEYSPACE ${k} WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1, '${TGT}': 1}`)
    )
    const r = await run({ 'dry-run': 'true' })
    expect(r.code).toBe(0)
    expect(out(r)).toMatch(/1\s+apigee-cassandra-default-0\s+127\.0\.42\.1\s+ra-1\s+start\s+not rebuilt yet/)
    expect(out(r)).toMatch(/2\s+apigee-cassandra-default-1\s+127\.0\.42\.2\s+ra-2\s+start/)
    expect(r.outputs['rebuilt-nodes']).toBe('')
    expect(existsSync(stateDir)).toBe(false)
  })

  it('killed mid-stream (SIGKILL), a re-run skips the done node, re-attaches to the running one and verifies while writes and TTLs go on', async () => {
    // attempt 1 of a run, lost (SIGKILL: its Lease stays); "Re-run jobs" is attempt 2 of that run
    const attempt = (n: number): Record<string, string> => ({ GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'org/platform', GITHUB_RUN_ID: '4711', GITHUB_RUN_ATTEMPT: String(n) })
    const step = startStep('rebuild-dc', 'main', inputs({ verify: 'false' }), { env: { ...w.env, ...attempt(1) } })
    let seen = ''
    step.child.stdout!.on('data', (b: Buffer) => (seen += b.toString()))
    // wait until node 1 (second in order) is streaming, then kill the step like a lost runner
    const until = Date.now() + 300_000
    while (!/apigee-cassandra-default-1: \d.* \/ .*\(\d/.test(seen) && Date.now() < until) await new Promise((r) => setTimeout(r, 250))
    expect(seen).toMatch(/apigee-cassandra-default-0: rebuild finished \(exit 0\)/)
    step.child.kill('SIGKILL')
    const killed = await step.done
    expect(killed.signal).toBe('SIGKILL')
    expect(existsSync(join(await hostDir(1), 'rc'))).toBe(false) // still streaming in the pod

    // writes go on while the re-run re-attaches, waits and checks (from its plan on: the writer's
    // cqlsh processes would otherwise slow the re-run's start, and node 1 could finish first)
    const rerun = startStep('rebuild-dc', 'main', inputs({ 'spot-check-keys': '400', 'spot-check-rate': '200' }), { env: { ...w.env, ...attempt(2) } })
    let planned = ''
    rerun.child.stdout!.on('data', (b: Buffer) => (planned += b.toString()))
    const until2 = Date.now() + 300_000
    while (!/plan \(nodetool rebuild/.test(planned) && Date.now() < until2) await new Promise((res) => setTimeout(res, 100))
    const writer = continuousWrites()
    const r = await rerun.done
    all.push(r)
    written = await writer.stop()
    rerunResult = r
    expect(r.code).toBe(0)
    const o = out(r)
    expect(o).toMatch(/apigee-cassandra-default-0 .*already rebuilt from this source/)
    expect(o).toMatch(/apigee-cassandra-default-1 .*our rebuild is still running: re-attaching/)
    expect(o).not.toMatch(/apigee-cassandra-default-1: nodetool rebuild .* started/) // never started twice
    expect(r.outputs['skipped-nodes']).toBe('apigee-cassandra-default-0')
    expect(r.outputs['rebuilt-nodes']).toBe('apigee-cassandra-default-1')
    expect(Number(r.outputs['bytes-streamed'])).toBeGreaterThan(0)
  }, 600_000)

  it('the spot check of that re-run holds under continuous writes and TTLs: every sampled key found or excused, within the key budget and the rate', () => {
    const r = rerunResult!
    expect(r.code).toBe(0)
    expect(written).toBeGreaterThan(50) // rows kept arriving during the re-attached rebuild and the check
    const spot = spotCheckOf(r)
    expect(spot.tables.map((t) => t.table).sort()).toEqual(['app.Small', 'app.blobs', 'app.fleeting', 'app.live', 'app.sessions'])
    for (const t of spot.tables) {
      expect(t.missing).toBe(0)
      expect(t.sampled).toBeGreaterThan(0)
      expect(t.found + t.newer + t.gone).toBe(t.sampled)
    }
    // 80 keys wanted per table, from random points of 32 slices of the ring: a good share of each
    for (const [table, rows] of [['app.blobs', ROWS], ['app.Small', 50], ['app.sessions', 300]] as const) {
      const t = spot.tables.find((x) => x.table === table)!
      expect(t.sampled).toBeGreaterThan(Math.min(80, rows) / 3)
      expect(t.found).toBe(t.sampled) // streamed rows (app.sessions: a composite key, TTL'd) all in the new DC
    }
    // rows with a 3 s TTL, sampled alive, had expired by their lookup seconds later: excused, not missing
    expect(spot.tables.find((t) => t.table === 'app.fleeting')!.gone).toBeGreaterThan(0)
    expect(spot.keys).toBeLessThanOrEqual(400)
    expect(spot.queries / (spot.ms / 1000)).toBeLessThanOrEqual(2 * 200) // two sides, each at most 200 queries/s
    expect(out(r)).toMatch(/spot check: \d+ key\(s\) sampled in 5 table\(s\).*load \d+ queries, \d+ rows in/)
    expect(out(r)).not.toMatch(/cqlsh's driver could not be used/) // the queries ran through the driver, paced
  })

  it('a re-run after success changes nothing', async () => {
    const r = await run()
    expect(r.code).toBe(0)
    expect(r.outputs['rebuilt-nodes']).toBe('')
    expect(r.outputs['skipped-nodes']).toBe('apigee-cassandra-default-0,apigee-cassandra-default-1')
    expect(out(r)).toMatch(/nothing to do/)
    expect(out(r)).not.toMatch(/nodetool rebuild .* started/)
  }, 300_000)

  it('the spot check fails when rows really are missing: a keyspace the rebuild never streamed', async () => {
    const src = w.cluster.nodes().find((n) => n.datacenter === SRC)!
    // data only in dc-41, then replicated to dc-42 without a rebuild: the nodes' job says done
    await w.cluster.cql(src.name, [`CREATE KEYSPACE gap WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1}`, 'CREATE TABLE gap.t (id int PRIMARY KEY, v text)'])
    await w.cluster.cql(src.name, Array.from({ length: 120 }, (_, i) => `INSERT INTO gap.t (id, v) VALUES (${i}, 'v')`))
    await w.cluster.cql(src.name, [`ALTER KEYSPACE gap WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1, '${TGT}': 1}`])
    const r = await run({ 'spot-check-keys': '200' })
    expect(r.code).not.toBe(0)
    expect(out(r)).not.toMatch(/nodetool rebuild .* started/)
    const gap = spotCheckOf(r).tables.find((t) => t.table === 'gap.t')!
    expect(gap.sampled).toBeGreaterThan(0)
    expect(gap.missing).toBe(gap.sampled) // nothing of gap reached dc-42
    expect(out(r)).toMatch(/spot check failed: keys that exist in dc-41 and were written before this run are missing in dc-42 .*gap\.t \d+ of \d+ \(tokens -?\d+/)
    for (const t of spotCheckOf(r).tables.filter((x) => x.table !== 'gap.t')) expect(t.missing).toBe(0)
    await w.cluster.cql(src.name, ['DROP KEYSPACE gap'])
  }, 300_000)

  it('refuses a keyspace without replicas in the source DC (Cassandra would exit 0 having streamed nothing)', async () => {
    const r = await run({ keyspaces: 'only_new', verify: 'false' })
    expect(r.code).not.toBe(0)
    expect(out(r)).toMatch(/keyspace\(s\) only_new have no replica in the source datacenter dc-41: a rebuild would stream nothing/)
    expect(out(r)).not.toMatch(/nodetool rebuild .* started/)
  }, 300_000)

  it('a rebuild that is not ours: the dry run shows it, the real run meets Cassandra\'s refusal, waits for it and finds every range streamed', async () => {
    const src = w.cluster.nodes().find((n) => n.datacenter === SRC)!
    const tgt = w.cluster.nodes().filter((n) => n.datacenter === TGT)
    const ROWS_LATE = 100 // x 64 KiB = 6.4 MiB, half per new node: about 25 s each at the source's 1 Mbit/s (ranges split the SSTables)
    await w.cluster.cql(src.name, [`CREATE KEYSPACE late WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1, '${TGT}': 1}`, 'CREATE TABLE late.blobs (id int PRIMARY KEY, v blob)'])
    for (let i = 0; i < ROWS_LATE; i += 20) {
      await w.cluster.cql(src.name, Array.from({ length: 20 }, (_, k) => `INSERT INTO late.blobs (id, v) VALUES (${i + k}, 0x${randomBytes(64 * 1024).toString('hex')})`), { timeoutMs: 120_000 })
    }
    await w.cluster.nodetool(src.name, ['flush', 'late'])
    // someone runs nodetool rebuild by hand on the first new node (no job of ours, no state dir)
    const byHand = w.cluster.nodetool(tgt[0].name, ['rebuild', '-ks', 'late', '--', SRC], { timeoutMs: 300_000 })
    const until = Date.now() + 60_000
    while (!/Rebuild/.test((await w.cluster.nodetool(tgt[0].name, ['netstats'])).stdout) && Date.now() < until) await new Promise((r) => setTimeout(r, 200))

    const dry = await run({ keyspaces: 'late', 'dry-run': 'true' })
    expect(dry.code).toBe(0)
    expect(out(dry)).toMatch(/1\s+apigee-cassandra-default-0\s+127\.0\.42\.1\s+ra-1\s+attach\s+Cassandra is rebuilding \(netstats\) without a live wrapper/)
    expect(out(dry)).toMatch(/2\s+apigee-cassandra-default-1\s+127\.0\.42\.2\s+ra-2\s+start/)

    const r = await run({ keyspaces: 'late', verify: 'false' })
    all.push(r)
    const manual = await byHand
    expect(manual.code).toBe(0)
    expect(r.code).toBe(0)
    const o = out(r)
    expect(o).toMatch(/apigee-cassandra-default-0: Node is still rebuilding \(not our job\): waiting for it, then running ours/)
    expect(o).toMatch(/apigee-cassandra-default-0: the rebuild that was not ours streamed every range/)
    expect(r.outputs['skipped-nodes']).toBe('apigee-cassandra-default-0')
    expect(r.outputs['rebuilt-nodes']).toBe('apigee-cassandra-default-1')
    // the world: every row in the new DC at LOCAL_ONE (RF 1 there: half on each node, the by-hand
    // rebuild's half and ours), read through each of its nodes
    for (const n of tgt) expect((await w.cluster.selectJson<{ n: number }>(n.name, 'SELECT JSON COUNT(*) AS n FROM late.blobs', { consistency: 'LOCAL_ONE' }))[0].n).toBe(ROWS_LATE)
  }, 600_000)

  it('a stream that fails (source node killed) fails the action naming the node, never counted as done', async () => {
    const src = w.cluster.nodes().find((n) => n.datacenter === SRC)!
    await w.cluster.cql(src.name, [`CREATE KEYSPACE fail_ks WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1, '${TGT}': 1}`, 'CREATE TABLE fail_ks.t (id int PRIMARY KEY, v blob)'])
    await w.cluster.cql(src.name, Array.from({ length: 40 }, (_, i) => `INSERT INTO fail_ks.t (id, v) VALUES (${i}, 0x${randomBytes(64 * 1024).toString('hex')})`), { timeoutMs: 120_000 })
    await w.cluster.nodetool(src.name, ['flush'])
    const step = startStep('rebuild-dc', 'main', inputs({ keyspaces: 'fail_ks', verify: 'false' }), { env: w.env })
    let seen = ''
    step.child.stdout!.on('data', (b: Buffer) => (seen += b.toString()))
    const until = Date.now() + 300_000
    while (!/apigee-cassandra-default-0: nodetool rebuild .* started/.test(seen) && Date.now() < until) await new Promise((r) => setTimeout(r, 250))
    await new Promise((r) => setTimeout(r, 3000))
    process.kill(w.cluster.pid(src.name)!, 'SIGKILL') // the source datacenter's only node dies mid-stream
    const r = await step.done
    all.push(r)
    expect(r.code).not.toBe(0)
    expect(out(r)).toMatch(/apigee-cassandra-default-0 \(127\.0\.42\.1\): (nodetool rebuild -ks fail_ks -- dc-41 failed \(exit \d+\)|rebuild stalled)/)
    expect(out(r)).toMatch(/not started: apigee-cassandra-default-1/)
    expect(r.outputs['rebuilt-nodes']).toBe('')
  }, 600_000)

  it('never shows the JMX or CQL password in argv, logs, summaries or outputs', () => {
    const { hits, samples } = scanner.stop()
    expect(samples).toBeGreaterThan(10)
    expect(hits).toEqual([])
    expect(all.length).toBeGreaterThan(3)
    expect(secretLeaks(all, [w.jmxPassword, w.ddlPassword])).toEqual([])
  })
})
