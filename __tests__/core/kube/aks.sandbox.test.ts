// AKS mode end to end, without Cassandra: the real @azure/arm-containerservice client reads the
// user kubeconfig from the ARM double, the real kubelogin (npm run setup) converts it and signs
// every kubectl call in with a token from the Entra double, and the Kubernetes API double checks
// those tokens and enforces the RBAC of docs/rbac. Judged by the doubles' state (tokens issued,
// requests served, objects unchanged) and by the errors a user would read.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import YAML from 'yaml'
import { startArmDouble, type ArmDouble } from '../../../sandbox/arm/server.ts'
import { AKS_SERVER_APP_ID, EXCHANGE_AUDIENCE, GITHUB_ISSUER } from '../../../sandbox/arm/entra.ts'
import { startKubeCluster, type KubeCluster } from '../../../sandbox/kube/index.ts'
import { InputReader } from '../../../src/core/inputs.ts'
import { parseTopology } from '../../../src/core/topology.ts'
import { readKube } from '../../../src/core/kube/region.ts'
import { ACTION_PERMISSIONS, DEFAULT_NAMES, describePermission, missingPermissions, requirePermissions } from '../../../src/core/kube/permissions.ts'
import type { Kubectl } from '../../../src/core/kube/kubectl.ts'
import { cleanupSecretFiles } from '../../../src/core/secrets.ts'

const BIN = resolve('.cache/bin')
const have = existsSync(`${BIN}/kubelogin`) && existsSync(`${BIN}/kubectl`)
const d = have ? describe : describe.skip
if (!have) it('kubelogin and kubectl are installed (npm run setup)', () => expect(have).toBe(true))

const SUB = '11111111-1111-4111-8111-111111111111'
const SUBJECT = 'repo:example/platform:environment:promote-expand'

function argvOfAllProcesses(): string {
  let out = ''
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      out += readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') + '\n'
    } catch {
      // gone
    }
  }
  return out
}

/** The documented RBAC with the identity's object ID as subject, applied as the admin would. */
function applyRbac(kube: KubeCluster, file: string, objectId: string, drop?: { kind: string; rule: number; verb?: string }): void {
  for (const doc of YAML.parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = doc.toJS() as { kind: string; rules?: { verbs: string[] }[]; subjects?: { name: string }[] }
    if (o.subjects) for (const s of o.subjects) s.name = objectId
    if (drop && o.kind === drop.kind && o.rules) {
      const r = o.rules[drop.rule]
      r.verbs = drop.verb ? r.verbs.filter((v) => v !== drop.verb) : []
      o.rules = o.rules.filter((x) => x.verbs.length)
    }
    kube.apply(o as never)
  }
}

d('AKS mode: ARM kubeconfig, real kubelogin, Entra tokens, RBAC', () => {
  let arm: ArmDouble
  let kube: KubeCluster
  let objectId: string
  const saved = { ...process.env }

  beforeAll(async () => {
    arm = await startArmDouble({ federatedCredentials: [{ issuer: GITHUB_ISSUER, subject: SUBJECT, audience: EXCHANGE_AUDIENCE }], idTokenSubject: SUBJECT, tokenLifetimeSec: 4 })
    objectId = arm.entra.apps.get(arm.clientId)!.objectId
    kube = await startKubeCluster({ name: 'aks-east', tlsDir: mkdtempSync(join(tmpdir(), 'aks-tls-')), entra: { issuer: arm.entra.issuer, audience: AKS_SERVER_APP_ID, jwks: () => arm.entra.jwks() } })
    kube.addNamespace('apigee')
    kube.addPod({ namespace: 'apigee', name: 'apigee-cassandra-default-0', labels: { app: 'apigee-cassandra' }, podIP: '10.1.0.5' })
    arm.addManagedCluster({ subscription: SUB, resourceGroup: 'rg-east', name: 'aks-east', server: kube.url, ca: kube.ca })
    Object.assign(process.env, arm.runnerEnv(), { PATH: `${BIN}${delimiter}${process.env.PATH}` })
  }, 60_000)
  afterAll(async () => {
    cleanupSecretFiles()
    process.env = saved
    await kube?.close()
    await arm?.close()
  })

  const topology = (name = 'aks-east') =>
    parseTopology(`regions:\n  eastus:\n    aks: { subscription: ${SUB}, resourceGroup: rg-east, name: ${name} }\n    kube: { context: ignored-in-aks-mode }\n`, 't.yml')
  const kubectlFor = (name?: string): Kubectl => {
    const t = topology(name)
    const inputs = new InputReader((n) => arm.inputs()[n] ?? '')
    const k = readKube(inputs, 'source', t.regions.eastus, { topology: t })
    inputs.done()
    return k
  }
  const need = ACTION_PERMISSIONS['expand-keyspaces'](DEFAULT_NAMES).source!

  it('with the documented Role every permission is granted; each rule removed in turn is named, nothing else', async () => {
    applyRbac(kube, 'docs/rbac/expand-keyspaces.yaml', objectId)
    const k = kubectlFor()
    expect(await missingPermissions(k, need)).toEqual([])
    // the pods rule grants list and get (kubectl exec reads the pod first): both named when it goes
    for (const [rule, what] of [[0, ['list pods in namespace apigee', 'get pods in namespace apigee']], [1, ['create pods/exec in namespace apigee']], [2, ["get secrets 'apigee-datastore-default-creds' in namespace apigee"]]] as const) {
      kube.delete('roles', 'apigee', 'mr-actions-cassandra')
      applyRbac(kube, 'docs/rbac/expand-keyspaces.yaml', objectId, { kind: 'Role', rule })
      const missing = await missingPermissions(k, need)
      expect(missing?.map(describePermission)).toEqual(what)
      await expect(requirePermissions([{ kube: k, wanted: need }], 'docs/rbac/expand-keyspaces.yaml', () => {})).rejects.toThrow(what.join('; '))
    }
    kube.delete('roles', 'apigee', 'mr-actions-cassandra')
    applyRbac(kube, 'docs/rbac/expand-keyspaces.yaml', objectId)
  }, 120_000)

  it('every kubectl call is signed in with a fresh Entra token: calls over more than three token lifetimes succeed', async () => {
    const k = kubectlFor()
    const before = arm.entra.tokens.filter((t) => t.audience.includes(AKS_SERVER_APP_ID)).length
    const t0 = Date.now()
    let calls = 0
    let leak = ''
    const secrets = [process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!]
    while (Date.now() - t0 < 14_000 || calls < 4) {
      const pods = await k.getPods('apigee', 'app=apigee-cassandra')
      expect(pods.map((p) => p.name)).toEqual(['apigee-cassandra-default-0'])
      calls++
      const argv = argvOfAllProcesses()
      for (const s of secrets) if (argv.includes(s)) leak = s
      await new Promise((r) => setTimeout(r, 1500))
    }
    const issued = arm.entra.tokens.filter((t) => t.audience.includes(AKS_SERVER_APP_ID)).slice(before)
    expect(Date.now() - t0).toBeGreaterThan(3 * 4_000)
    expect(issued.length).toBeGreaterThanOrEqual(4) // > 3 lifetimes of 4 s, each call a token of its own
    expect(new Set(issued.map((t) => t.objectId))).toEqual(new Set([objectId]))
    expect(leak).toBe('')
  }, 120_000)

  it('a 403 met anyway names the permission', async () => {
    const k = kubectlFor()
    await expect(k.run(['get', 'secrets'], 'apigee')).rejects.toThrow("the identity lacks the permission to list secrets in namespace apigee")
  }, 60_000)

  it('a token the API server does not accept (another audience) fails naming the inputs to check, with nothing changed', async () => {
    const other = await startKubeCluster({ name: 'aks-other', tlsDir: mkdtempSync(join(tmpdir(), 'aks-tls-')), entra: { issuer: arm.entra.issuer, audience: 'api://another-server-app', jwks: () => arm.entra.jwks() } })
    try {
      arm.addManagedCluster({ subscription: SUB, resourceGroup: 'rg-east', name: 'aks-other', server: other.url, ca: other.ca })
      const k = kubectlFor('aks-other')
      await expect(k.run(['get', 'pods'], 'apigee')).rejects.toThrow(/refused the Entra ID token kubelogin presented \(401 Unauthorized/)
      expect(other.accessLog.filter((e) => !['get', 'list', 'watch', ''].includes(e.verb))).toEqual([])
    } finally {
      await other.close()
    }
  }, 60_000)

  it('an expired token (the API server\'s clock two hours ahead) fails the same way, naming the clock, with nothing changed', async () => {
    const skewed = await startKubeCluster({ name: 'aks-skewed', tlsDir: mkdtempSync(join(tmpdir(), 'aks-tls-')), entra: { issuer: arm.entra.issuer, audience: AKS_SERVER_APP_ID, jwks: () => arm.entra.jwks(), clockSkewS: 7200 } })
    try {
      arm.addManagedCluster({ subscription: SUB, resourceGroup: 'rg-east', name: 'aks-skewed', server: skewed.url, ca: skewed.ca })
      const k = kubectlFor('aks-skewed')
      const err = await k.run(['get', 'pods'], 'apigee').then(
        () => undefined,
        (e: Error & { hint?: string }) => e
      )
      expect(err?.message).toMatch(/refused the Entra ID token kubelogin presented \(401 Unauthorized: expired/)
      expect(err?.hint).toMatch(/an expired one means the runner's clock is off/)
      expect([...new Set(skewed.accessLog.map((e) => e.authError))]).toEqual(['invalid bearer token: token is expired'])
      expect(skewed.accessLog.filter((e) => !['get', 'list', 'watch', ''].includes(e.verb))).toEqual([])
    } finally {
      await skewed.close()
    }
  }, 60_000)

  it('a wrong cluster name fails naming the topology field and the fix, before any Kubernetes request', async () => {
    kube.accessLog.length = 0
    const k = kubectlFor('aks-nope')
    await expect(k.getPods('apigee')).rejects.toThrow("topology regions.eastus.aks: AKS cluster 'aks-nope' not found in resource group 'rg-east'")
    expect(kube.accessLog).toEqual([])
  }, 60_000)
})

d('AKS mode: a federated credential that does not match', () => {
  let arm: ArmDouble
  const saved = { ...process.env }
  beforeAll(async () => {
    arm = await startArmDouble({ federatedCredentials: [{ issuer: GITHUB_ISSUER, subject: 'repo:example/platform:environment:other', audience: EXCHANGE_AUDIENCE }], idTokenSubject: SUBJECT })
    arm.addManagedCluster({ subscription: SUB, resourceGroup: 'rg-east', name: 'aks-east', server: 'https://127.0.0.1:9', ca: '' })
    Object.assign(process.env, arm.runnerEnv(), { PATH: `${BIN}${delimiter}${process.env.PATH}` })
  })
  afterAll(async () => {
    cleanupSecretFiles()
    process.env = saved
    await arm?.close()
  })
  it('names the AADSTS error, the subject and the fix', async () => {
    const t = parseTopology(`regions:\n  eastus:\n    aks: { subscription: ${SUB}, resourceGroup: rg-east, name: aks-east }\n`, 't.yml')
    const inputs = new InputReader((n) => arm.inputs()[n] ?? '')
    const k = readKube(inputs, 'source', t.regions.eastus, { topology: t })
    const err = await k.getPods('apigee').then(
      () => undefined,
      (e: Error & { hint?: string }) => e
    )
    expect(err?.message).toMatch(/AADSTS70021|AADSTS700213/)
    expect(err?.message).toContain(SUBJECT)
    expect(err?.hint).toMatch(/federated credential/)
  }, 60_000)
})
