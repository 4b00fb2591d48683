// configure-seed-host -> install the new region -> expand-keyspaces -> (remove, add again) ->
// finalize, on real Cassandra (CASSANDRA_VERSION) with TLS through the real kubectl and the Kubernetes API double,
// driving the BUNDLES as the runner does; plus bad inputs and bad states that must fail clearly
// with nothing changed. No password may appear in any output, summary, report or process argv.
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runAction, type StepResult } from '../../../sandbox/runner.ts'
import { applyDocumentedRbac, argvScanner, ensureBundles, haveSandbox, lockSandbox, secretLeaks, startMiniWorld, visible, type MiniWorld } from './harness.ts'

const d = haveSandbox() ? describe : describe.skip
if (!haveSandbox()) it('sandbox tools are installed (npm run setup)', () => expect(haveSandbox()).toBe(true))

const SRC = 'dc-31'
const TGT = 'dc-32'
const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy'

const SOURCE_OVERRIDES = `# Apigee hybrid overrides, region eastus
gcp:
  region: us-east1 # analytics region
  projectID: my-project
k8sCluster:
  name: aks-eastus
instanceID: "hybrid-eastus"   # unique per installation

cassandra:
  # AKS island networking: Cassandra uses the node network
  hostNetwork: true
  clusterName: apigeecluster
  datacenter: "${SRC}"   # this region's datacenter
  rack: "ra-1"
  replicaCount: 2
`

// MR_KUBE_MODE=aks: the same chain with the clusters reached as AKS with Entra ID (ARM kubeconfig,
// real kubelogin, Entra tokens, the RBAC of docs/rbac enforced); default: kubeconfig contexts.
const AKS = process.env.MR_KUBE_MODE === 'aks'

d(`configure-seed-host -> install -> expand-keyspaces -> finalize on real Cassandra${AKS ? ' (AKS with Entra ID)' : ''}`, () => {
  let release: () => void
  let w: MiniWorld
  let scanner: ReturnType<typeof argvScanner>
  const steps: StepResult[] = []
  let east: string
  let west: string

  const run = async (name: 'configure-seed-host' | 'expand-keyspaces', inputs: Record<string, string>): Promise<StepResult> => {
    const r = await runAction(name, { ...w.kubeInputs('source'), ...inputs }, { env: w.env, cwd: w.dir })
    steps.push(r)
    if (process.env.MR_DEBUG) console.log(r.stdout, r.stderr)
    return r
  }
  const seed = (inputs: Record<string, string>) =>
    run('configure-seed-host', { ...w.kubeInputs('target'), 'existing-overrides': east, 'target-overrides': west, 'target-datacenter': TGT, ...inputs })
  const expand = (inputs: Record<string, string>) => run('expand-keyspaces', { 'source-datacenter': SRC, 'target-datacenter': TGT, ...inputs })
  const replication = async (): Promise<Record<string, Record<string, string>>> => {
    const rows = await w.cluster.selectJson<{ keyspace_name: string; replication: Record<string, string> }>(`${SRC}-0`, 'SELECT JSON keyspace_name, replication FROM system_schema.keyspaces')
    return Object.fromEntries(rows.map((r) => [r.keyspace_name, r.replication]))
  }
  const fp = (pem: string) => new X509Certificate(pem).fingerprint256
  const targetCa = () => (w.target.get('secrets', 'cert-manager', 'apigee-ca') as { data?: Record<string, string> } | undefined)?.data?.['tls.crt']
  const failedClearly = (r: StepResult, re: RegExp) => {
    expect(r.code).not.toBe(0)
    expect(r.stdout).toMatch(/::error::/)
    expect(visible(r.stdout)).toMatch(re)
  }

  beforeAll(async () => {
    ensureBundles(['configure-seed-host', 'expand-keyspaces'])
    release = await lockSandbox()
    try {
      w = await startMiniWorld({ sourceDc: SRC, targetDc: TGT, sourceNodes: 2, racks: ['ra-1', 'ra-2'], aks: AKS })
    } catch (e) {
      release()
      throw e
    }
    scanner = argvScanner([w.ddlPassword, w.jmxPassword])
    east = join(w.dir, 'overrides-eastus.yaml')
    west = join(w.dir, 'overrides-westeurope.yaml')
    writeFileSync(east, SOURCE_OVERRIDES)
    await w.cluster.cql(`${SRC}-0`, [
      `CREATE KEYSPACE cache_org_hybrid WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 2}`,
      `CREATE KEYSPACE "Mixed_Case" WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 1}`,
      `CREATE KEYSPACE legacy WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      // rows that only the source DC will hold (the chain never rebuilds the new one)
      'CREATE TABLE cache_org_hybrid.kvm_rows (k int PRIMARY KEY, v text)',
      ...Array.from({ length: 20 }, (_, i) => `INSERT INTO cache_org_hybrid.kvm_rows (k, v) VALUES (${i}, 'v${i}')`)
    ])
  }, 900_000)

  afterAll(async () => {
    try {
      const seen = scanner?.stop()
      if (seen) {
        expect(seen.samples).toBeGreaterThan(10)
        expect(seen.hits).toEqual([])
      }
      // No password in any log line, summary, output or report of any step.
      expect(secretLeaks(steps, [w.ddlPassword, w.jmxPassword])).toEqual([])
      expect(steps.length).toBeGreaterThan(15)
    } finally {
      await w?.close()
      release?.()
    }
  }, 120_000)

  // ---- configure-seed-host ---------------------------------------------------------------

  it('refuses a target overrides that would share the source instanceID (0 changes)', async () => {
    const r = await seed({})
    failedClearly(r, /instanceID 'hybrid-eastus' of .*overrides-westeurope.yaml is also the instanceID of .*overrides-eastus.yaml \(the file is a copy\)/)
    expect(existsSync(west)).toBe(false)
    expect(targetCa()).toBeUndefined()
  })

  it('refuses when an existing region lacks hostNetwork: true (0 changes)', async () => {
    const noHn = join(w.dir, 'overrides-nohn.yaml')
    writeFileSync(noHn, SOURCE_OVERRIDES.replace('hostNetwork: true', 'hostNetwork: false'))
    const r = await seed({ 'existing-overrides': noHn, 'target-instance-id': 'hybrid-westeurope' })
    failedClearly(r, /cassandra.hostNetwork is false; every region needs hostNetwork: true/)
    expect(existsSync(west)).toBe(false)
  })

  it('refuses malformed overrides (0 changes)', async () => {
    const bad = join(w.dir, 'overrides-bad.yaml')
    writeFileSync(bad, 'cassandra:\n  hostNetwork: true\n   clusterName: [x\n')
    const r = await seed({ 'existing-overrides': bad, 'target-instance-id': 'hybrid-westeurope' })
    failedClearly(r, /overrides-bad.yaml is not valid YAML at line/)
    expect(existsSync(west)).toBe(false)
  })

  it('refuses a missing CA secret, and a different CA in the new cluster with replace-ca false (0 changes)', async () => {
    // AKS: the documented Roles name the CA secret, so the check in advance names the permissions another one needs
    failedClearly(await seed({ 'target-instance-id': 'hybrid-westeurope', 'ca-secret': 'no-such-ca' }), AKS ? /lacks Kubernetes permissions on region source .*get secrets 'no-such-ca' in namespace cert-manager/ : /CA secret 'cert-manager\/no-such-ca' not found/)
    // the new cluster's cert-manager made its own CA (stays for the good run below: auto replaces it)
    const other = w.caPem('b')
    w.target.apply({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'apigee-ca', namespace: 'cert-manager' }, data: { 'tls.crt': Buffer.from(other.crt).toString('base64'), 'tls.key': Buffer.from(other.key).toString('base64') } })
    const r = await seed({ 'target-instance-id': 'hybrid-westeurope', 'replace-ca': 'false' })
    failedClearly(r, new RegExp(`holds another CA \\(SHA-256 ${fp(other.crt)}\\)[\\s\\S]*replace-ca is false`))
    expect(existsSync(west)).toBe(false)
    expect(Buffer.from(targetCa()!, 'base64').toString()).toBe(other.crt)
  })

  it("refuses a new region that would register as the source's cluster (k8sCluster, 0 changes)", async () => {
    // AKS: the copy's k8sCluster.region comes from the topology's region key ('target'), so the
    // clash needs a source registered with that region (the kubeconfig mode leaves it unset)
    const existing = AKS ? join(w.dir, 'overrides-eastus-region.yaml') : undefined
    if (existing) writeFileSync(existing, SOURCE_OVERRIDES.replace('  name: aks-eastus\n', '  name: aks-eastus\n  region: target\n'))
    const r = await seed({ 'target-instance-id': 'hybrid-westeurope', 'target-k8s-cluster-name': 'aks-eastus', ...(existing ? { 'existing-overrides': existing } : {}) })
    const of = AKS ? "region 'target'\\) equals the k8sCluster of .*overrides-eastus-region.yaml" : "region '\\(unset\\)'\\) equals the k8sCluster of .*overrides-eastus.yaml"
    failedClearly(r, new RegExp(`overrides-westeurope.yaml: k8sCluster \\(name 'aks-eastus', ${of}[\\s\\S]*fix: .*'target-k8s-cluster-name'`))
    expect(existsSync(west)).toBe(false)
  })

  it('refuses a datacenter name already in the ring (0 changes)', async () => {
    failedClearly(await seed({ 'target-instance-id': 'hybrid-westeurope', 'target-datacenter': SRC }), new RegExp(`datacenter '${SRC}' is already in the ring`))
    expect(existsSync(west)).toBe(false)
  })

  it('dry-run plans and changes nothing', async () => {
    const r = await seed({ 'target-instance-id': 'hybrid-westeurope', 'seed-count': '2', 'dry-run': 'true' })
    expect(r.code).toBe(0)
    expect(r.outputs['seed-hosts']).toBe('127.0.31.1,127.0.31.2')
    expect(r.outputs.changes).toBe('0')
    expect(existsSync(west)).toBe(false)
    expect(Buffer.from(targetCa()!, 'base64').toString()).toBe(w.caPem('b').crt)
  })

  it('writes the new overrides keeping comments, copies the namespace, replaces the new cluster\'s own CA (fingerprints equal)', async () => {
    const r = await seed({ 'target-instance-id': 'hybrid-westeurope', 'seed-count': '2' })
    expect(r.code).toBe(0)
    expect(r.outputs['seed-hosts']).toBe('127.0.31.1,127.0.31.2') // one per rack
    expect(r.outputs['overrides-path']).toBe(west)
    expect(r.outputs['ca-fingerprint']).toBe(fp(w.caPem('a').crt))
    expect(Buffer.from(targetCa()!, 'base64').toString()).toBe(w.caPem('a').crt)
    expect(w.target.get('namespaces', undefined, 'apigee')).toBeDefined()
    const text = readFileSync(west, 'utf8')
    for (const c of ['# Apigee hybrid overrides, region eastus', '# analytics region', '# unique per installation', '# AKS island networking', "# this region's datacenter"]) expect(text).toContain(c)
    expect(text).toContain('multiRegionSeedHost: 127.0.31.1,127.0.31.2')
    expect(text).toContain(`datacenter: "${TGT}"`)
    expect(text).toContain('instanceID: "hybrid-westeurope"')
    // the copy registers as the new cluster (named after the target context), not the source's
    expect(text).toContain('k8sCluster:\n  name: region-target\n')
    expect(r.stdout).toMatch(/copy of .*overrides-eastus.yaml; (instanceID, )?k8sCluster.name, /)
  })

  it('a re-run changes nothing', async () => {
    const before = readFileSync(west, 'utf8')
    expect(visible((await seed({ 'target-instance-id': 'hybrid-westeurope', 'seed-count': '2', 'dry-run': 'true' })).stdout)).toMatch(/keep\s+secret cert-manager\/apigee-ca/)
    const r = await seed({ 'target-instance-id': 'hybrid-westeurope', 'seed-count': '2' })
    expect(r.code).toBe(0)
    expect(r.outputs.changes).toBe('0')
    expect(readFileSync(west, 'utf8')).toBe(before)
  })

  // ---- install the new region from the written overrides -----------------------------------

  it("installed with its own CA, the new region's node fails Cassandra's TLS handshake for real and never joins", async () => {
    const copied = w.target.get('secrets', 'cert-manager', 'apigee-ca') as unknown as { data: Record<string, string> }
    const own = w.caPem('b')
    const setCa = (data: Record<string, string>) => w.target.apply({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'apigee-ca', namespace: 'cert-manager' }, data })
    setCa({ 'tls.crt': Buffer.from(own.crt).toString('base64'), 'tls.key': Buffer.from(own.key).toString('base64') })
    try {
      // Cassandra's own words from the new node's log, not a message of the sandbox
      await expect(w.installRegion(west, 1)).rejects.toThrow(new RegExp(`node ${TGT}-0 cannot join the ring; its log says: .*(SSLHandshakeException|PKIX path (building|validation) failed|certificate_unknown)`))
      expect(readFileSync(w.cluster.paths(`${TGT}-0`).log, 'utf8')).toMatch(/javax\.net\.ssl\.SSLHandshakeException/)
      expect((await w.cluster.nodetool(`${SRC}-0`, ['status'])).stdout).not.toContain(`Datacenter: ${TGT}`)
    } finally {
      setCa(copied.data) // the CA configure-seed-host copied: the next install joins
    }
  }, 600_000)

  it('installs the new region from the overrides (seed host, datacenter, rack)', async () => {
    await w.installRegion(west, 1)
    const ring = await w.cluster.nodetool(`${SRC}-0`, ['status'])
    expect(ring.stdout).toContain(`Datacenter: ${TGT}`)
  }, 600_000)

  it('once Cassandra runs in the new region, a different CA there is refused, not replaced (0 changes)', async () => {
    const good = (w.target.get('secrets', 'cert-manager', 'apigee-ca') as unknown as { data: Record<string, string> }).data
    const other = w.caPem('b')
    w.target.apply({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'apigee-ca', namespace: 'cert-manager' }, data: { 'tls.crt': Buffer.from(other.crt).toString('base64') } })
    const before = readFileSync(west, 'utf8')
    failedClearly(await seed({ 'target-instance-id': 'hybrid-westeurope', 'seed-count': '2' }), /holds another CA[\s\S]*Cassandra already runs there \(apigee-cassandra-default-0\)/)
    expect(Buffer.from(targetCa()!, 'base64').toString()).toBe(other.crt)
    expect(readFileSync(west, 'utf8')).toBe(before)
    w.target.apply({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'apigee-ca', namespace: 'cert-manager' }, data: good })
  })

  // ---- expand-keyspaces --------------------------------------------------------------------

  it('bad inputs fail before anything is read or changed', async () => {
    const before = await replication()
    failedClearly(await expand({ mode: 'grow' }), /input 'mode': not one of the choices \(got 'grow'\)/)
    failedClearly(await expand({ 'target-datacenter': "dc-2'}; DROP KEYSPACE x; --" }), /input 'target-datacenter': .* is not valid|'target-datacenter'/)
    failedClearly(await expand({ 'replication-factors': 'cache_org_hybrid:2' }), /'cache_org_hybrid:2' is not keyspace=RF/)
    failedClearly(await expand({ 'target-datacenter': SRC }), /both 'dc-31'/)
    expect(await replication()).toEqual(before)
  })

  it('bad states fail clearly with 0 ALTER: unknown DC, RF above node count, unknown keyspace, missing secret, wrong password', async () => {
    const before = await replication()
    failedClearly(await expand({ 'target-datacenter': 'dc-99' }), /'dc-99' is not in the ring; datacenters: dc-31, dc-32/)
    failedClearly(await expand({ 'replication-factor': '3' }), /'dc-32' has 1 live node\(s\) but .*'cache_org_hybrid' asks RF 3/)
    failedClearly(await expand({ 'replication-factors': 'mixed_case=1' }), /'mixed_case'.*do not exist[\s\S]*case-sensitive/)
    // AKS: the documented Role may read only the real credentials secret, so the check in advance names the permission
    failedClearly(await expand({ 'credentials-secret': 'nope' }), AKS ? /lacks Kubernetes permissions on region source .*get secrets 'nope' in namespace apigee/ : /credentials secret 'nope' not found in namespace 'apigee'/)
    failedClearly(await expand({ 'ddl-user': 'ddl_user', 'ddl-password': 'wrong-password-123' }), /cqlsh in pod .* failed[\s\S]*(Bad credentials|AuthenticationFailed|Provided username)/)
    expect(await replication()).toEqual(before)
  })

  it('dry-run prints the plan and alters nothing', async () => {
    const before = await replication()
    const r = await expand({ 'dry-run': 'true' })
    expect(r.code).toBe(0)
    expect(r.outputs.altered).toBe('0')
    expect(r.stdout).toContain('would run: ALTER KEYSPACE "Mixed_Case" WITH replication')
    expect(r.summary).toContain('| system_auth | alter |')
    expect(JSON.parse(readFileSync(r.outputs['plan-path'], 'utf8')).items.length).toBeGreaterThan(5)
    expect(await replication()).toEqual(before)
  })

  it(`adds ${TGT} to every NTS keyspace in one session, LocalStrategy and SimpleStrategy untouched`, async () => {
    const from = w.source.accessLog.length
    const r = await expand({})
    expect(r.code).toBe(0)
    expect(r.outputs.altered).toBe('5')
    // two execs: the read; all five ALTERs, one agreement wait and the re-read (cqlsh's driver;
    // cqlsh -f the fallback). No nodetool describecluster after the ALTERs: the driver saw agreement
    expect(r.stdout.split('--credentials "$d/credentials" -f').length - 1).toBe(2)
    expect(r.stdout.split('cat > "$d/apply.py"').length - 1).toBe(1)
    expect(r.stdout).toMatch(/applied 5 ALTER KEYSPACE statement\(s\) in one session of cqlsh's driver \(no agreement wait per statement\)/)
    expect(r.stdout).toMatch(/schema agreement: one version on the coordinator and every peer it lists/)
    const execs = w.source.accessLog.slice(from).filter((e) => e.subresource === 'exec').map((e) => decodeURIComponent(e.query.replace(/\+/g, ' ')))
    expect(execs.filter((q) => q.includes('describecluster')).length).toBe(1) // the gate, before the ALTERs
    // and the world agrees: every node's own describecluster lists one schema version
    for (const n of w.cluster.nodes()) expect([n.name, (await w.cluster.nodetool(n.name, ['describecluster'])).stdout.match(/^\s+[0-9a-f-]{36}: \[/gm)?.length]).toEqual([n.name, 1])
    expect(r.stdout).toMatch(/::warning::keyspace 'legacy' uses SimpleStrategy/)
    const after = await replication()
    for (const ks of ['system_auth', 'system_distributed', 'system_traces', 'cache_org_hybrid', 'Mixed_Case']) {
      expect(after[ks]).toMatchObject({ class: NTS, [SRC]: expect.any(String), [TGT]: '1' })
    }
    expect(after.legacy.class).toMatch(/SimpleStrategy/)
    expect(after.system.class).toMatch(/LocalStrategy/)
  })

  it('a re-run makes no ALTER', async () => {
    const r = await expand({})
    expect(r.code).toBe(0)
    expect(r.outputs.altered).toBe('0')
    expect(r.summary).toContain('unchanged')
    expect(r.stdout).not.toMatch(/applied \d+ ALTER/)
  })

  it('mode remove takes the DC out again but keeps system_auth while the DC has live nodes; add restores it', async () => {
    // the DC was never rebuilt: its node refuses the login (no roles), it holds nothing to lose
    const r = await expand({ mode: 'remove' })
    if (r.code !== 0) console.log(visible(r.stdout))
    expect(r.code).toBe(0)
    expect(r.outputs.altered).toBe('4')
    expect(r.stdout).toMatch(/127\.0\.32\.1 \(dc-32\) refuses the login/)
    expect(r.stdout).toMatch(/::warning::system_auth keeps 'dc-32' while that datacenter has nodes in the ring/)
    const after = await replication()
    for (const ks of ['system_distributed', 'system_traces', 'cache_org_hybrid', 'Mixed_Case']) expect(after[ks][TGT]).toBeUndefined()
    expect(after.system_auth[TGT]).toBe('1')
    const plan = JSON.parse(readFileSync(r.outputs['plan-path'], 'utf8')) as { items: { keyspace: string; action: string }[] }
    expect(plan.items[plan.items.length - 1].keyspace).toBe('system_auth') // ordered last
    const again = await expand({})
    expect(again.code).toBe(0)
    expect(again.outputs.altered).toBe('4')
  })

  it('mode remove refuses before any change: a misspelled DC, swapped DCs, a DC left too small for its RF, and removing the only DC that holds the data', async () => {
    // a keyspace the remaining DC could not serve at LOCAL_QUORUM alone: RF 5 in a DC of 2 live nodes
    await w.cluster.cql(`${SRC}-0`, [`CREATE KEYSPACE ks_quorum WITH replication = {'class': 'NetworkTopologyStrategy', '${SRC}': 5, '${TGT}': 1}`])
    const withQuorum = await replication()
    const small = await expand({ mode: 'remove' })
    failedClearly(small, new RegExp(`keyspace 'ks_quorum' would be left with '${SRC}' \\(RF 5\\) alone answering for it, but '${SRC}' has 2 live node\\(s\\): LOCAL_QUORUM needs 3`))
    expect(visible(small.stdout).match(/::error::/g)).toHaveLength(1)
    expect(await replication()).toEqual(withQuorum)
    await w.cluster.cql(`${SRC}-0`, ['DROP KEYSPACE ks_quorum'])
    const before = await replication()
    failedClearly(await expand({ mode: 'remove', 'target-datacenter': 'dc-33' }), /datacenter 'dc-33' is neither in the ring nor in any keyspace's replication[\s\S]*check input 'target-datacenter'/)
    // run from the source region's pod: the datacenter it would remove is its own
    failedClearly(await expand({ mode: 'remove', 'source-datacenter': TGT, 'target-datacenter': SRC }), new RegExp(`is in datacenter '${SRC}', not in source-datacenter '${TGT}': source and target look swapped`))
    // run from the new region, never rebuilt (its cluster has the credentials secret, as Apigee's
    // install makes one per region): its node knows no role yet, the first read is refused
    const creds = w.source.get('secrets', 'apigee', 'apigee-datastore-default-creds')!
    w.target.apply({ ...creds, metadata: { name: 'apigee-datastore-default-creds', namespace: 'apigee' } })
    // AKS: expand-keyspaces run there needs its documented Role there too, as a platform team binds it
    if (w.arm) applyDocumentedRbac(w.target, 'expand-keyspaces.yaml', w.arm.entra.apps.get(w.arm.clientId)!.objectId)
    const fromTarget = Object.fromEntries(Object.entries(w.kubeInputs('target')).map(([k, v]) => [k.replace(/^target-/, 'source-'), v]))
    const removeSource = () => run('expand-keyspaces', { ...fromTarget, mode: 'remove', 'source-datacenter': TGT, 'target-datacenter': SRC })
    failedClearly(await removeSource(), /Bad credentials[\s\S]*its system_auth was never rebuilt/)
    // its roles rebuilt, its data not (a rebuild stopped after system_auth): the rows would be lost
    await w.cluster.nodetool(`${TGT}-0`, ['rebuild', '-ks', 'system_auth', '--', SRC])
    failedClearly(
      await removeSource(),
      new RegExp(`keyspace 'cache_org_hybrid': '${TGT}' does not hold the data '${SRC}' holds \\(rows at LOCAL_ONE via 127\\.0\\.32\\.1 vs 127\\.0\\.31\\.\\d: kvm_rows 0 of 20\\); '${TGT}' was probably never rebuilt[\\s\\S]*rebuild '${TGT}' from '${SRC}' first`)
    )
    expect(await replication()).toEqual(before)
  })

  // ---- finalize ----------------------------------------------------------------------------

  it('finalize removes the seed host, keeps the comments and runs the re-apply command; a re-run changes nothing', async () => {
    const marker = join(w.dir, 'reapplied')
    const r = await run('configure-seed-host', { mode: 'finalize', 'target-overrides': west, 'reapply-command': `echo applied >> ${marker}` })
    expect(r.code).toBe(0)
    expect(r.outputs.changes).toBe('1')
    const text = readFileSync(west, 'utf8')
    expect(text).not.toContain('multiRegionSeedHost')
    expect(text).toContain('# AKS island networking')
    expect(text).toContain(`datacenter: "${TGT}"`)
    expect(readFileSync(marker, 'utf8')).toBe('applied\n')
    const again = await run('configure-seed-host', { mode: 'finalize', 'target-overrides': west })
    expect(again.code).toBe(0)
    expect(again.outputs.changes).toBe('0')
  })

  // ---- a node down (last: it stops a node) ---------------------------------------------------

  it('a node down fails the gates naming it, with 0 ALTER', async () => {
    await w.cluster.stop(`${TGT}-0`)
    const before = await replication()
    const r = await expand({ 'convert-simple-strategy': 'true' })
    failedClearly(r, /gate\(s\) failed; no keyspace was changed[\s\S]*not Up\/Normal: 127\.0\.32\.1 \(dc-32\/ra-1, DN\)/)
    expect(await replication()).toEqual(before)
  }, 300_000)
})
