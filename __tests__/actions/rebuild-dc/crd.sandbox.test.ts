// rebuild-dc with method crd on real Cassandra 5.0, driven through the bundle as the runner runs it:
// dc-43 (1 node, a few rows, streaming throttled) and dc-44 (2 nodes, racks ra-1 / ra-2) behind
// two Kubernetes API doubles that the real kubectl talks to, and the sandbox's emulation of the
// Apigee operator (sandbox/apigee-operator.ts) attached to the new region: it owns
// apigeedatastore/default and runs the real `nodetool rebuild -- <source>` in each dc-44 pod when
// a CassandraDataReplication is applied. The tests run in order on one world: the first apply is
// re-pointed at a wrong source (operator error), the re-run re-applies and rebuilds, the next
// skips, and a forced replication over rebuilt nodes shows Cassandra 5.0's refusal.
// Run under the sandbox lock (taken by the test): the Cassandra addresses are fixed.
// CRD_TEST_DEBUG=1 prints each step's output and the operator's log.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { runAction, startStep, type StepResult } from '../../../sandbox/runner.ts'
import { type ApigeeOperator, startApigeeOperator } from '../../../sandbox/apigee-operator.ts'
import { cassandraRuntime } from '../../../sandbox/cassandra/version.ts'
import { argvScanner, BIN, ensureBundles, haveSandbox, lockSandbox, regionInputs, secretLeaks, startMiniWorld, visible, type MiniWorld } from '../expand-keyspaces/harness.ts'

const d = haveSandbox() ? describe : describe.skip
if (!haveSandbox()) it('sandbox tools are installed (npm run setup)', () => expect(haveSandbox()).toBe(true))

// DC numbers pick the loopback block (127.0.<n>.x): unique ones avoid other suites' nodes
const SRC = 'dc-43'
const TGT = 'dc-44'
const ROWS = 120
const BLOBS = 16
const PODS = 'apigee-cassandra-default-0,apigee-cassandra-default-1'
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection'])

d('rebuild-dc method crd on the sandbox (Apigee operator emulation)', () => {
  let w: MiniWorld
  let op: ApigeeOperator
  let release: () => void
  let scanner: ReturnType<typeof argvScanner>
  const all: StepResult[] = []

  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
    method: 'crd',
    organization: 'org-crd',
    'source-datacenter': SRC,
    'target-datacenter': TGT,
    ...regionInputs(w),
    'poll-interval': '1s',
    'progress-interval': '2s',
    'stall-timeout': '2m',
    ...extra
  })
  const run = async (extra: Record<string, string> = {}): Promise<StepResult> => {
    const r = await runAction('rebuild-dc', inputs(extra), { env: w.env })
    all.push(r)
    if (process.env.CRD_TEST_DEBUG) console.log(out(r))
    return r
  }
  const out = (r: StepResult): string => visible(r.stdout + r.stderr)
  /** API writes to the new region's cluster since the access log was cleared (exec, a create on pods/exec, and the
   *  permission check, a create of SelfSubjectAccessReviews that the API server never stores, change nothing). */
  const writes = (): string[] =>
    w.target.accessLog.filter((e) => WRITES.has(e.verb) && e.subresource !== 'exec' && e.resource !== 'selfsubjectaccessreviews').map((e) => `${e.verb} ${e.resource}/${e.name}`)
  /** exit 0, else fail showing the step's output tail */
  const ok = (r: StepResult): void => {
    if (r.code !== 0) throw new Error(`rebuild-dc exited ${r.code}:\n${out(r).split('\n').slice(-40).join('\n')}`)
  }
  const cdrs = () => w.target.list('cassandradatareplications', 'apigee')
  /** real kubectl against the new region's API (async: this process serves that API). */
  const kubectl = (args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const c = spawn(join(BIN, 'kubectl'), ['--kubeconfig', w.kubeconfig, '--context', 'region-target', '--cache-dir', join(w.dir, 'kube-cache'), ...args])
      let stdout = ''
      let stderr = ''
      c.stdout.on('data', (b: Buffer) => (stdout += b))
      c.stderr.on('data', (b: Buffer) => (stderr += b))
      c.on('close', (code) => resolve({ code, stdout, stderr }))
      c.stdin.end(stdin ?? '')
    })
  const localOneCount = async (node: string): Promise<number> => {
    const rows = await w.cluster.selectJson<{ n: number }>(node, 'SELECT JSON COUNT(*) AS n FROM app.items', { consistency: 'LOCAL_ONE' })
    return Number(rows[0].n)
  }

  beforeAll(async () => {
    release = await lockSandbox()
    ensureBundles(['rebuild-dc'])
    w = await startMiniWorld({ sourceDc: SRC, targetDc: TGT, sourceNodes: 1 })
    const src = w.cluster.nodes().find((n) => n.datacenter === SRC)!
    await w.cluster.cql(src.name, [`CREATE KEYSPACE app WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1}`, 'CREATE TABLE app.items (id int PRIMARY KEY, v text)'])
    await w.cluster.cql(src.name, Array.from({ length: ROWS }, (_, i) => `INSERT INTO app.items (id, v) VALUES (${i}, 'item ${i}')`))
    // 1 MiB of incompressible rows, streamed slowly, so netstats sees bytes while a pod rebuilds
    await w.cluster.cql(src.name, ['CREATE TABLE app.blobs (id int PRIMARY KEY, v blob)', ...Array.from({ length: BLOBS }, (_, i) => `INSERT INTO app.blobs (id, v) VALUES (${i}, 0x${randomBytes(64 * 1024).toString('hex')})`)], { timeoutMs: 120_000 })
    await w.cluster.nodetool(src.name, ['flush'])
    for (const cmd of ['setinterdcstreamthroughput', 'setstreamthroughput']) {
      await w.cluster.nodetool(src.name, [cmd, '1']) // partial SSTables: 1 Mbit/s
      await w.cluster.nodetool(src.name, [cmd, '-e', '1']) // entire SSTables: 1 MiB/s
    }
    const seeds = [src.address]
    const specs = [w.cluster.dcSpecs(TGT, 1, { first: 0, rack: 'ra-1', seeds })[0], w.cluster.dcSpecs(TGT, 1, { first: 1, rack: 'ra-2', seeds })[0]]
    w.cluster.start(specs)
    await w.cluster.waitUp([src, ...specs])
    // what expand-keyspaces leaves behind: every keyspace replicates to both DCs
    await w.cluster.cql(
      src.name,
      ['app', 'system_auth', 'system_distributed', 'system_traces'].map((k) => `ALTER KEYSPACE ${k} WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1, '${TGT}': 1}`)
    )
    w.addRegion(w.target, TGT)
    op = startApigeeOperator({ kube: w.target, log: (l) => process.env.CRD_TEST_DEBUG && console.log(l) })
    scanner = argvScanner([w.jmxPassword, w.ddlPassword])
  }, 3_600_000) // includes waiting for the sandbox lock

  afterAll(async () => {
    await op?.stop()
    await w?.close()
    release?.()
  }, 180_000)

  it('a missing organization fails naming the input, before any request to the cluster', async () => {
    w.target.accessLog.length = 0
    const r = await run({ organization: '' })
    expect(r.code).toBe(1)
    expect(out(r)).toMatch(/input 'organization': is required/)
    expect(out(r)).toMatch(/kubectl -n apigee get apigeeorg/)
    expect(w.target.accessLog).toEqual([])
  })

  it('a wrong source DC is refused by the gates (as in the nodetool path); nothing is applied', async () => {
    w.target.accessLog.length = 0
    const r = await run({ 'source-datacenter': 'dc-99' })
    expect(r.code).toBe(1)
    expect(out(r)).toMatch(/source datacenter 'dc-99' is not in the ring \(datacenters: dc-4[34], dc-4[34]\)/)
    expect(writes()).toEqual([])
    expect(cdrs()).toEqual([])
  }, 300_000)

  it('dry-run prints the CassandraDataReplication it would apply and applies nothing', async () => {
    w.target.accessLog.length = 0
    const r = await run({ 'dry-run': 'true' })
    ok(r)
    const o = out(r)
    expect(o).toMatch(/plan \(method crd, ApigeeDatastore default in namespace 'apigee'.*\): apply CassandraDataReplication region-expansion \(force: false\): no CassandraDataReplication yet/)
    expect(o).toMatch(/CassandraDataReplication that would be applied:\napiVersion: apigee.cloud.google.com\/v1alpha1\nkind: CassandraDataReplication\nmetadata:\n  name: region-expansion\n  namespace: apigee\nspec:\n  organizationRef: org-crd\n  force: false\n  source:\n    region: dc-43/)
    expect(r.outputs['rebuilt-nodes']).toBe('')
    expect(r.summary).toMatch(/Dry run: would apply CassandraDataReplication region-expansion \(source dc-43, force: false\); nothing was applied/)
    expect(writes()).toEqual([])
    expect(cdrs()).toEqual([])
    expect(op.runs).toEqual([])
  }, 300_000)

  it("the operator's error (the replication re-pointed at dc-99 by hand) fails the run naming the pod and Cassandra's message", async () => {
    await op.stop() // the operator restarts meanwhile, so the hand edit lands before it acts
    const step = startStep('rebuild-dc', 'main', inputs(), { env: w.env })
    let seen = ''
    step.child.stdout!.on('data', (b: Buffer) => (seen += b.toString()))
    const until = Date.now() + 300_000
    while (!/applied CassandraDataReplication region-expansion/.test(seen) && Date.now() < until) await new Promise((res) => setTimeout(res, 250))
    expect(seen).toMatch(/applied CassandraDataReplication region-expansion \(source dc-43, force: false\)/)
    // the vendor guide's manifest with a typo in the source region
    const wrong = 'apiVersion: apigee.cloud.google.com/v1alpha1\nkind: CassandraDataReplication\nmetadata:\n  name: region-expansion\n  namespace: apigee\nspec:\n  organizationRef: org-crd\n  force: false\n  source:\n    region: "dc-99"\n'
    const applied = await kubectl(['apply', '-f', '-'], wrong)
    expect(applied.stdout.trim()).toBe('cassandradatareplication.apigee.cloud.google.com/region-expansion configured')
    op.start()
    const r = await step.done
    all.push(r)
    expect(r.code).toBe(1)
    const o = out(r)
    expect(o).toMatch(/apigee-cassandra-default-0: the Apigee operator reports error: failed to rebuild from dc-99: Provided datacenter 'dc-99' is not a valid datacenter, available datacenters are: dc-4[34],dc-4[34]/)
    expect(o).toMatch(/fix: check source-datacenter \(dc-43\)/)
    expect(o).toMatch(/not started: apigee-cassandra-default-1/)
    expect(r.outputs['rebuilt-nodes']).toBe('')
    // the documented way to look: kubectl -n apigee get apigeeds -o json
    const ds = JSON.parse((await kubectl(['-n', 'apigee', 'get', 'apigeeds', '-o', 'json'])).stdout) as { items: { status: { cassandraDataReplication: { state: string; rebuildDetails: Record<string, { state: string; message?: string }> } } }[] }
    const repl = ds.items[0].status.cassandraDataReplication
    expect(repl.state).toBe('error')
    expect(repl.rebuildDetails['apigee-cassandra-default-0']).toMatchObject({ state: 'error', message: expect.stringMatching(/^failed to rebuild from dc-99: Provided datacenter/) })
  }, 600_000)

  it('a re-run re-applies for dc-43 with force: true (saying so); the operator rebuilds every new node; rows readable at LOCAL_ONE in dc-44; spot check passes', async () => {
    const r = await run()
    ok(r)
    const o = out(r)
    expect(o).toMatch(/region-expansion \(source dc-99\) names another source \(state error\): re-applying region-expansion for dc-43 with force: true/)
    expect(o).toMatch(/applied CassandraDataReplication region-expansion \(source dc-43, force: true\)/)
    expect(o).toMatch(/apigee-cassandra-default-0: operator state running[\s\S]*apigee-cassandra-default-0: operator state complete[\s\S]*apigee-cassandra-default-1: operator state complete/)
    expect(r.outputs['rebuilt-nodes']).toBe(PODS)
    expect(r.outputs['skipped-nodes']).toBe('')
    // bytes read from nodetool netstats while the operator's rebuild ran (NodeProgress, as in the nodetool path)
    expect(Number(r.outputs['bytes-streamed'])).toBeGreaterThan(0)
    expect(o).toMatch(/apigee-cassandra-default-\d: running; \d.* \/ .*\(\d+\.\d%\)/)
    // the spot check: every key sampled from dc-43 found at LOCAL_ONE in dc-44, none excused or missing
    for (const [table, rows] of [['items', ROWS], ['blobs', BLOBS]] as const) {
      const m = new RegExp(`app\\.${table}\\s+(\\d+)\\s+(\\d+)\\s+0\\s+0\\s+.*\\bok$`, 'm').exec(o)
      expect(m).not.toBeNull()
      expect([Number(m![1]) > 0, Number(m![1]) <= rows, m![2]]).toEqual([true, true, m![1]])
    }
    expect(r.summary).toMatch(/\| pod \| rack \| outcome \| received \| time \| note \|/)
    expect(r.summary).toMatch(/\| apigee-cassandra-default-1 \| ra-2 \| rebuilt \|/)
    expect(cdrs().map((c) => c.spec)).toEqual([{ organizationRef: 'org-crd', force: true, source: { region: SRC } }])
    const ds = JSON.parse((await kubectl(['-n', 'apigee', 'get', 'apigeeds', '-o', 'json'])).stdout) as { items: { status: { cassandraDataReplication: { state: string; rebuildDetails: Record<string, { state: string }> } } }[] }
    const repl = ds.items[0].status.cassandraDataReplication
    expect(repl.state).toBe('complete')
    expect(Object.entries(repl.rebuildDetails).map(([p, x]) => `${p}=${x.state}`)).toEqual(['apigee-cassandra-default-0=complete', 'apigee-cassandra-default-1=complete'])
    expect(op.runs.map((x) => [x.source, x.force, x.state])).toEqual([
      ['dc-99', false, 'error'],
      [SRC, true, 'complete']
    ])
    // each new node answers alone for its DC
    for (const n of w.cluster.nodes().filter((x) => x.datacenter === TGT)) expect(await localOneCount(n.name)).toBe(ROWS)
  }, 600_000)

  it('a re-run skips: nothing written to the API, the replication object untouched', async () => {
    const before = cdrs()[0]
    const runs = op.runs.length
    w.target.accessLog.length = 0
    const r = await run()
    ok(r)
    expect(out(r)).toMatch(/nothing to do: the operator reports every pod complete for region-expansion \(source dc-43\)/)
    expect(r.outputs['rebuilt-nodes']).toBe('')
    expect(r.outputs['skipped-nodes']).toBe(PODS)
    expect(writes()).toEqual([])
    expect(w.target.accessLog.some((e) => e.resource === 'apigeedatastores' && e.verb === 'list')).toBe(true)
    const after = cdrs()[0]
    expect([after.metadata.resourceVersion, after.metadata.generation]).toEqual([before.metadata.resourceVersion, before.metadata.generation])
    expect(op.runs).toHaveLength(runs)
  }, 300_000)

  it('the replication object deleted after completion: a re-run forces a new one; Cassandra 5.0 refuses it over streamed data (the fix is named), 4.1 streams again', async () => {
    w.target.delete('cassandradatareplications', 'apigee', 'region-expansion')
    const r = await run({ verify: 'false' })
    const o = out(r)
    expect(o).toMatch(/no CassandraDataReplication, but the datastore reports an earlier replication \(state complete\) of unknown source: applying with force: true/)
    if (cassandraRuntime().major >= 5) {
      expect(r.code).toBe(1)
      expect(o).toMatch(/apigee-cassandra-default-0: the Apigee operator reports error: failed to rebuild from dc-43: Discovered existing bootstrap data/)
      expect(o).toMatch(/fix: this node already streamed \(part of\) the data and Cassandra 5\.0 refuses to rebuild over it: restart the node with the JVM option -Dcassandra\.reset_bootstrap_progress=false/)
    } else {
      // measured on 4.1.10: the forced rebuild streams the ranges again and succeeds
      expect(r.code).toBe(0)
      expect(o).not.toMatch(/Discovered existing bootstrap data/)
    }
  }, 600_000)

  it('never shows the JMX or CQL password in argv (the operator included), logs, summaries or outputs', () => {
    const { hits, samples } = scanner.stop()
    expect(samples).toBeGreaterThan(10)
    expect(hits).toEqual([])
    expect(all.length).toBeGreaterThan(3)
    expect(secretLeaks(all, [w.jmxPassword, w.ddlPassword])).toEqual([])
  })
})
