// The root preflight through its bundle in AKS mode: both clusters reached through the ARM double
// (listClusterUserCredential) and the real kubelogin, tokens from the Entra double, the RBAC of
// docs/rbac enforced by the Kubernetes API doubles. With the documented Roles no permission is
// missing; with any one rule removed the preflight names exactly that permission, and nothing is
// written to either cluster. No Cassandra here (its findings are not what this file judges).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import YAML from 'yaml'
import { startArmDouble, type ArmDouble } from '../../../sandbox/arm/server.ts'
import { AKS_SERVER_APP_ID } from '../../../sandbox/arm/entra.ts'
import { startKubeCluster, type KubeCluster } from '../../../sandbox/kube/index.ts'
import { runAction, ROOT } from '../../../sandbox/runner.ts'
import { ensureBundles, visible } from '../expand-keyspaces/harness.ts'

const BIN = join(ROOT, '.cache/bin')
const have = existsSync(join(BIN, 'kubelogin')) && existsSync(join(BIN, 'kubectl'))
const d = have ? describe : describe.skip
if (!have) it('kubelogin and kubectl are installed (npm run setup)', () => expect(have).toBe(true))

const SUB = '11111111-1111-4111-8111-111111111111'
const FILES = { source: ['expand-keyspaces.yaml', 'configure-seed-host-source.yaml'], target: ['configure-seed-host-target.yaml', 'rebuild-dc.yaml'] }
type Doc = { kind: string; metadata: { name: string; namespace?: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]; subjects?: { name: string }[] }

function docs(file: string, objectId: string): Doc[] {
  return YAML.parseAllDocuments(readFileSync(join(ROOT, 'docs/rbac', file), 'utf8')).map((x) => {
    const o = x.toJS() as Doc
    for (const s of o.subjects ?? []) s.name = objectId
    return o
  })
}

d('preflight in AKS mode: Kubernetes permissions asked of the API server', () => {
  let arm: ArmDouble
  const kube: Record<'source' | 'target', KubeCluster> = {} as never
  let objectId: string
  let topology: string

  beforeAll(async () => {
    ensureBundles(['preflight'])
    const dir = mkdtempSync(join(tmpdir(), 'mr-rbac-'))
    arm = await startArmDouble({ tlsDir: join(dir, 'arm-tls') })
    objectId = arm.entra.apps.get(arm.clientId)!.objectId
    const entra = { issuer: arm.entra.issuer, audience: AKS_SERVER_APP_ID, jwks: () => arm.entra.jwks() }
    for (const role of ['source', 'target'] as const) {
      kube[role] = await startKubeCluster({ name: `aks-${role}`, tlsDir: join(dir, 'tls'), namespaces: ['apigee', 'cert-manager'], entra })
      arm.addManagedCluster({ subscription: SUB, resourceGroup: 'rg-mr', name: `aks-${role}`, server: kube[role].url, ca: kube[role].ca })
    }
    topology = join(dir, 'topology.yml')
    writeFileSync(
      topology,
      YAML.stringify({
        azure: { endpoint: arm.url, authorityHost: arm.url, ca: arm.caFile },
        regions: Object.fromEntries(
          (['source', 'target'] as const).map((r, i) => [r, { aks: { subscription: SUB, resourceGroup: 'rg-mr', name: `aks-${r}` }, cassandra: { datacenter: `dc-${i + 1}`, rack: 'ra-1' } }])
        )
      })
    )
  }, 900_000)
  afterAll(async () => {
    await kube.source?.close()
    await kube.target?.close()
    await arm?.close()
  })

  /** The documented RBAC, optionally with one rule of one document removed. */
  const grant = (drop?: { role: 'source' | 'target'; file: string; doc: number; rule: number }): void => {
    for (const role of ['source', 'target'] as const) {
      for (const file of FILES[role]) {
        docs(file, objectId).forEach((o, i) => {
          // expand-keyspaces and configure-seed-host grant the same three rules in apigee of the source cluster: drop it from both
          const shared = drop?.file === 'expand-keyspaces.yaml' && file === 'configure-seed-host-source.yaml' && i === 0
          if (drop && drop.role === role && ((drop.file === file && drop.doc === i) || shared)) o.rules = o.rules!.filter((_, j) => j !== drop.rule)
          const plural = `${o.kind.toLowerCase()}s`
          kube[role].delete(plural, o.metadata.namespace, o.metadata.name)
          kube[role].apply(o as never)
        })
      }
    }
  }
  const preflight = async (): Promise<string> => {
    for (const k of Object.values(kube)) k.accessLog.length = 0
    const r = await runAction(
      'preflight',
      { topology, 'source-region': 'source', 'target-region': 'target', 'skip-stages': 'network', online: 'true', ...arm.inputs() },
      { env: { ...arm.runnerEnv(), PATH: `${BIN}:${process.env.PATH}` } }
    )
    // nothing but permission reviews was written
    for (const k of Object.values(kube)) expect(k.accessLog.filter((e) => ['create', 'update', 'patch', 'delete'].includes(e.verb) && e.resource !== 'selfsubjectaccessreviews' && e.subresource !== 'exec')).toEqual([])
    return visible(r.stdout)
  }
  const rbacLines = (out: string): string[] => [...new Set(out.split('\n').filter((l) => /the identity lacks the permission to/.test(l)).map((l) => /lacks the permission to (.+?) on region (\w+)/.exec(l)?.slice(1).join(' @ ') ?? l))]

  it('with the documented Roles no permission is missing (every kubectl call signed in through kubelogin)', async () => {
    grant()
    const before = arm.entra.tokens.filter((t) => t.audience.includes(AKS_SERVER_APP_ID)).length
    const out = await preflight()
    expect(rbacLines(out)).toEqual([])
    expect(out).toMatch(/holds|SelfSubjectAccessReview|reading its user kubeconfig through ARM/)
    expect(arm.entra.tokens.filter((t) => t.audience.includes(AKS_SERVER_APP_ID)).length).toBeGreaterThan(before)
  }, 300_000)

  // One rule removed at a time, in each Role / ClusterRole of both clusters: the preflight names it.
  const cases: { role: 'source' | 'target'; file: string; doc: number; rule: number; what: RegExp; also?: RegExp }[] = [
    // the pods rule holds list and get (kubectl exec reads the pod first): both are named
    { role: 'source', file: 'expand-keyspaces.yaml', doc: 0, rule: 0, what: /^list pods in namespace apigee @ source$/, also: /^get pods in namespace apigee @ source$/ },
    { role: 'source', file: 'expand-keyspaces.yaml', doc: 0, rule: 1, what: /^create pods\/exec in namespace apigee @ source$/ },
    { role: 'source', file: 'expand-keyspaces.yaml', doc: 0, rule: 2, what: /^get secrets 'apigee-datastore-default-creds' in namespace apigee @ source$/ },
    { role: 'source', file: 'configure-seed-host-source.yaml', doc: 1, rule: 0, what: /^get secrets 'apigee-ca' in namespace cert-manager @ source$/ },
    { role: 'source', file: 'configure-seed-host-source.yaml', doc: 2, rule: 0, what: /^get namespaces 'apigee' \(cluster-scoped\) @ source$/ },
    { role: 'target', file: 'configure-seed-host-target.yaml', doc: 0, rule: 1, what: /^create secrets in namespace cert-manager @ target$/ },
    { role: 'target', file: 'configure-seed-host-target.yaml', doc: 1, rule: 1, what: /^create namespaces \(cluster-scoped\) @ target$/ }
  ]
  it.each(cases)('without rule $rule of $file ($role cluster) the preflight names exactly that permission', async (c) => {
    grant(c)
    const lines = rbacLines(await preflight())
    expect(lines).toHaveLength(c.also ? 2 : 1)
    expect(lines[0]).toMatch(c.what)
    if (c.also) expect(lines[1]).toMatch(c.also)
  }, 300_000)
})
