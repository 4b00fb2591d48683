// The whole demo in AKS mode (issue 9, acceptance lines 1 and 2): every stage of
// promote-region.yml, then the DR drill of dr-drill.yml, through the bundles, the clusters reached only as AKS with Entra ID reaches
// them: no kubeconfig in any step, each action reads its cluster's kubeconfig through ARM and runs
// the real kubelogin from .cache/bin, the Kubernetes API doubles accept nothing but Entra tokens
// and enforce the RBAC of docs/rbac. Tokens live a few seconds, so the rebuild stage outlasts more
// than three of them: it must still succeed, refreshing as it goes, with no 401 anywhere.
// Judged by what the world holds afterwards and by the doubles' own record, not by log wording
// (except the refreshes, which the acceptance line asks the log to show).
// A separate file from demo.test.ts: CI runs that one again on Cassandra 5.0, not this one.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'
import { AKS_SERVER_APP_ID } from '../sandbox/arm/entra.ts'
import { DEFAULT_RUN_DIR } from '../sandbox/cassandra/cluster.ts'
import { rowCounts } from '../sandbox/cassandra/seed.ts'
import { apigeeUsers } from '../sandbox/datastore-creds.ts'
import { ROOT } from '../sandbox/runner.ts'
import type { WorldAksRecord } from '../sandbox/world-aks.ts'
import { loadWorkflow } from '../sandbox/workflow-runner.ts'
import { Demo, type DemoResult, type StageResult } from '../scripts/demo/core.ts'
import type { Sandbox } from '../scripts/demo/world.ts'
import { lockSandbox, secretLeaks, visible } from './actions/expand-keyspaces/harness.ts'

/** Lifetime of the Entra access tokens (cluster and ARM), seconds: the rebuild must outlast 3 of them. */
const TOKEN_LIFETIME = 4
/** Lifetime of the GitHub ID tokens (the federated assertion): the action refreshes them every ~10 s. */
const ID_TOKEN_LIFETIME = 40
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/

const have = existsSync(join(ROOT, '.cache/bin/kubelogin')) && existsSync(join(ROOT, '.cache/bin/kubectl'))
if (!have) it('kubelogin and kubectl are installed (npm run setup)', () => expect(have).toBe(true))
const d = have ? describe : describe.skip

interface WorldSeen {
  record: WorldAksRecord
  env: Record<string, string>
  topology: { regions: Record<string, { aks?: { name: string }; kube?: Record<string, unknown> }> }
  objectId: string
  ring: string
  replication: Record<string, Record<string, string>>
  rowsInDc2: Record<string, number>
  rowsPerTable: number
  secrets: string[]
}

d('the demo in AKS mode (MR_KUBE_MODE=aks): promote-region.yml with Entra ID tokens only', () => {
  const outDir = join(ROOT, 'demo-output', 'test-aks')
  const runDir = join(DEFAULT_RUN_DIR, '..', 'demo-aks-test')
  let result: DemoResult
  let seen: WorldSeen | undefined
  let release: () => void = () => {}
  const stage = (job: string): StageResult => result.stages.find((s) => s.job === job)!
  const at = (iso: string): number => Date.parse(iso)

  beforeAll(async () => {
    release = await lockSandbox()
    for (const f of ['preflight', 'create-vnet-peering', 'configure-seed-host', 'expand-keyspaces', 'rebuild-dc', 'verify-failover']) {
      if (!existsSync(join(ROOT, 'dist', f, 'index.js'))) throw new Error(`dist/${f}/index.js is missing: run 'npm run build' first`)
    }
    // the steps inherit this process's environment: no kubeconfig may come from there either
    delete process.env.KUBECONFIG
    const t0 = Date.now()
    result = await new Demo({
      outDir,
      runDir,
      addressBase: 9,
      faultDuration: '5s',
      mode: 'aks',
      aks: { tokenLifetimeSec: TOKEN_LIFETIME, idTokenLifetimeSec: ID_TOKEN_LIFETIME },
      drill: true,
      print: () => {},
      // what the world holds and what its doubles saw, read before the teardown
      beforeTeardown: async (sb: Sandbox) => {
        const c = sb.world.cassandra
        const st = sb.world.state
        const users = apigeeUsers(st.runDir, st.namespace)
        const creds = c.credentials()
        const rows = await c.selectJson<{ keyspace_name: string; replication: Record<string, string> }>('dc-1-0', 'SELECT JSON keyspace_name, replication FROM system_schema.keyspaces')
        seen = {
          record: await sb.world.aksRecord(),
          env: sb.env,
          topology: YAML.parse(readFileSync(sb.topology, 'utf8')) as WorldSeen['topology'],
          objectId: st.aks!.objectId,
          ring: (await c.nodetool('dc-1-0', ['status'])).stdout,
          replication: Object.fromEntries(rows.map((r) => [r.keyspace_name, r.replication])),
          rowsInDc2: await rowCounts(c, 'dc-2-0', st.org, 'LOCAL_ONE'),
          rowsPerTable: st.rowsPerTable,
          secrets: [creds.jmxPassword, creds.ddlPassword, creds.superuserPassword, users.admin.password, users.dml.password, users.jolokia.password, sb.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN]
        }
      }
    }).run()
    process.stdout.write(`demo (AKS) wall time ${((Date.now() - t0) / 1000).toFixed(1)}s: ${JSON.stringify(result.timings)}; stages ${result.stages.map((s) => `${s.job} ${(s.ms / 1000).toFixed(1)}s`).join(', ')}\n`)
  }, 3_600_000) // includes waiting for the sandbox lock
  afterAll(() => release())

  test('every stage of promote-region.yml, then the drill, succeeded, and the world shows the promotion: dc-2 in the ring, in every keyspace, holding every row', () => {
    const jobs = (wf: string): string[] => loadWorkflow(join(ROOT, `.github/workflows/${wf}.yml`)).jobs.map((j) => `${wf} › ${j.id}`)
    expect({ error: result.error, stages: result.stages.map((s) => `${s.title}: ${s.result}`) }).toEqual({ error: undefined, stages: [...jobs('promote-region'), ...jobs('dr-drill')].map((j) => `${j}: success`) })
    expect(seen).toBeDefined()
    const w = seen!
    // both datacenters, every node Up/Normal
    expect([...w.ring.matchAll(/^Datacenter: (\S+)/gm)].map((m) => m[1]).sort()).toEqual(['dc-1', 'dc-2'])
    const nodes = w.ring.split('\n').filter((l) => /^[UD][NLJM]\s/.test(l))
    expect(nodes.length).toBeGreaterThanOrEqual(3)
    expect(nodes.every((l) => l.startsWith('UN'))).toBe(true)
    // every seeded keyspace replicates to dc-2, and dc-2 alone (LOCAL_ONE) holds every row
    for (const ks of ['cache_example_hybrid', 'kms_example_hybrid', 'kvm_example_hybrid', 'quota_example_hybrid', 'perses', 'system_auth']) expect(w.replication[ks]?.['dc-2']).toBeDefined()
    expect(Object.values(w.rowsInDc2)).toEqual(Object.values(w.rowsInDc2).map(() => w.rowsPerTable))
    // the finalize stage took the seed host out of the new region's overrides
    expect(readFileSync(join(outDir, 'workspace', 'overrides', 'overrides-westeurope.yaml'), 'utf8')).not.toMatch(/multiRegionSeedHost/)
  })

  test('the drill failed eastus through its AKS cluster, measured the failover against ground truth, and restored the replicas', () => {
    expect(result.drill).toBeDefined()
    expect(result.drill!.truthMs).toBeDefined()
    expect(result.drill!.measuredMs).toBeGreaterThanOrEqual(0)
    expect(result.afterDrill).toEqual({ eastus: { spec: 2, running: 2, annotation: undefined }, westeurope: { spec: 2, running: 2, annotation: undefined } })
    // the scale to zero and back reached eastus's cluster as Entra-authenticated writes of the identity
    const from = Math.min(...result.stages.filter((s) => s.workflow === 'dr-drill').map((s) => s.startedAt))
    const scales = seen!.record.kube.eastus.filter((e) => at(e.time) >= from && e.resource === 'deployments' && e.subresource === 'scale' && e.verb === 'patch')
    expect(scales.length).toBeGreaterThanOrEqual(2) // to zero, and back
    expect(scales.map((e) => `${e.credential?.kind} ${e.user} ${e.status}`)).toEqual(scales.map(() => `entra ${seen!.objectId} 200`))
  })

  test('no kubeconfig anywhere: not in the steps\' environment, not in the topology (regions.<r>.aks instead)', () => {
    const w = seen!
    expect(w.env.KUBECONFIG).toBeUndefined()
    for (const r of ['eastus', 'westeurope']) {
      expect(w.topology.regions[r].aks?.name).toBe(`aks-${r}`)
      expect(Object.keys(w.topology.regions[r].kube ?? {})).toEqual(['namespace'])
    }
  })

  test('the clusters saw only Entra-authenticated requests of the identity: no static token, no 401, no 403', () => {
    const w = seen!
    for (const region of ['eastus', 'westeurope']) {
      const log = w.record.kube[region]
      expect(log.length).toBeGreaterThan(20)
      expect(log.filter((e) => e.status === 401).map((e) => `${e.method} ${e.path}: ${e.authError}`)).toEqual([])
      // the documented Roles held everything the stages asked for: not one request denied
      expect(log.filter((e) => e.status === 403).map((e) => `${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ''} ${e.namespace}/${e.name}`)).toEqual([])
      expect([...new Set(log.map((e) => `${e.credential?.kind} ${e.user}`))]).toEqual([`entra ${w.objectId}`])
    }
    // every token a cluster accepted was issued by the Entra double for the AKS server application
    const aks = new Set(w.record.entraTokens.filter((t) => t.audience === AKS_SERVER_APP_ID).map((t) => t.tokenId))
    const used = new Set(Object.values(w.record.kube).flatMap((l) => l.map((e) => (e.credential?.kind === 'entra' ? e.credential.tokenId : ''))))
    expect([...used].filter((id) => !aks.has(id))).toEqual([])
  })

  test(`the rebuild outlasted three token lifetimes (${TOKEN_LIFETIME} s) and succeeded on refreshed tokens; its log shows the refreshes`, () => {
    const w = seen!
    const rebuild = stage('rebuild')
    expect(rebuild.result).toBe('success')
    expect(rebuild.ms).toBeGreaterThan(3 * TOKEN_LIFETIME * 1000)
    const from = rebuild.startedAt
    const to = rebuild.startedAt + rebuild.ms
    const during = Object.values(w.record.kube).flatMap((l) => l.filter((e) => at(e.time) >= from && at(e.time) <= to))
    expect(during.length).toBeGreaterThan(3)
    // every request of the rebuild carried a token valid at that moment (the double checks; so do we)
    const tokens = new Map<string, { issuedAt: number; expiresAt: number }>()
    for (const e of during) {
      if (e.credential?.kind !== 'entra') throw new Error(`a rebuild request without an Entra token: ${e.method} ${e.path}`)
      expect(e.status).not.toBe(401)
      expect(at(e.time)).toBeLessThanOrEqual(e.credential.expiresAt * 1000)
      tokens.set(e.credential.tokenId, e.credential)
    }
    // more than three lifetimes cannot be covered by three tokens: the cluster tokens were fetched again
    expect(tokens.size).toBeGreaterThan(3)
    const issued = [...tokens.values()].map((t) => t.issuedAt)
    expect(Math.max(...issued) - Math.min(...issued)).toBeGreaterThan(TOKEN_LIFETIME)
    // the federated assertion (GitHub ID token) was refreshed during the rebuild too, per the OIDC double
    const idTokens = w.record.idTokens.filter((t) => t.issuedAt * 1000 >= from - 1000 && t.issuedAt * 1000 <= to)
    expect(idTokens.length).toBeGreaterThanOrEqual(2)
    // and the action's log says so
    const log = rebuild.steps.map((s) => visible(s.stdout)).join('\n')
    expect((log.match(/refreshed the GitHub ID token kubelogin exchanges for cluster tokens/g) ?? []).length).toBeGreaterThanOrEqual(1)
  })

  test('no password, token or federated assertion in any step\'s log, summary, outputs or report', () => {
    const w = seen!
    const steps = result.stages.flatMap((s) => s.steps)
    expect(steps.length).toBeGreaterThan(6)
    expect(w.secrets.every((x) => typeof x === 'string' && x.length >= 8)).toBe(true)
    expect(secretLeaks(steps, w.secrets)).toEqual([])
    // no JWT at all (Entra access tokens, GitHub ID tokens): their values are nowhere a person reads
    const places = steps.flatMap((s) => [visible(s.stdout), s.stderr, s.summary, JSON.stringify(s.outputs)])
    for (const s of result.stages) if (s.summaryFile) places.push(readFileSync(s.summaryFile, 'utf8'))
    expect(places.filter((t) => JWT.test(t)).map((t) => JWT.exec(t)![0].slice(0, 20))).toEqual([])
  })
})
