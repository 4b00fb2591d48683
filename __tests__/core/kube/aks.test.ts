// AKS mode, the parts that need no cluster: the topology field, the kubelogin kubeconfig
// rewrite and environment, the federated token file's refresh, and the errors a user meets
// before anything runs. The whole path (ARM, real kubelogin, Entra and kube doubles) is in
// __tests__/actions/aks/*.sandbox.test.ts.
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseTopology } from '../../../src/core/topology.ts'
import { addExecArg, execUsers, findKubelogin, isPublicAuthority, kubeloginEnv } from '../../../src/core/kube/kubelogin.ts'
import { FederatedTokenFile, jwtExpiry, refreshAt } from '../../../src/core/kube/federated-token.ts'
import { aksProblems } from '../../../src/core/kube/aks.ts'
import { InputReader } from '../../../src/core/inputs.ts'
import { readKube } from '../../../src/core/kube/region.ts'
import { ActionError, InputErrors } from '../../../src/core/errors.ts'

const SUB = '11111111-1111-4111-8111-111111111111'
const topo = (aks: string): string => `
regions:
  eastus:
    azure: { subscription: ${SUB}, resourceGroup: rg-east }
    aks: ${aks}
  westeurope:
    kube: { context: ctx-west }
`
const messages = (f: () => unknown): string[] => {
  try {
    f()
  } catch (e) {
    return e instanceof InputErrors ? e.errors.map((x) => x.message) : [(e as Error).message]
  }
  return []
}

describe('topology regions.<r>.aks', () => {
  it('reads the cluster, subscription and resource group falling back to regions.<r>.azure', () => {
    const t = parseTopology(topo('{ name: aks-east }'), 't.yml')
    expect(t.regions.eastus.aks).toEqual({ subscription: SUB, resourceGroup: 'rg-east', name: 'aks-east' })
    expect(t.regions.westeurope.aks).toBeUndefined()
  })
  it('names the missing field and the fix, once', () => {
    const m = messages(() => parseTopology(topo('{ resourceGroup: rg-aks }'), 't.yml'))
    expect(m).toEqual(['topology t.yml: regions.eastus.aks: missing name'])
  })
  it('refuses a bad cluster name and an unknown field', () => {
    const m = messages(() => parseTopology(topo('{ name: "-bad", cluster: x }'), 't.yml'))
    expect(m).toEqual(["topology t.yml: regions.eastus.aks.cluster: unknown field", "topology t.yml: regions.eastus.aks.name: '-bad' is not valid"])
  })
})

const EXEC_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- cluster: { server: 'https://127.0.0.1:6443', certificate-authority-data: Zm9v }
  name: aks-east
contexts:
- context: { cluster: aks-east, user: clusterUser_rg_aks-east }
  name: aks-east
current-context: aks-east
users:
- name: clusterUser_rg_aks-east
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, workloadidentity, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]
`

describe('kubelogin kubeconfig and environment', () => {
  it('adds --disable-instance-discovery once to the kubelogin users only', () => {
    const once = addExecArg(EXEC_KUBECONFIG, '--disable-instance-discovery')
    const twice = addExecArg(once, '--disable-instance-discovery')
    expect(execUsers(twice)).toEqual([
      { name: 'clusterUser_rg_aks-east', command: 'kubelogin', args: ['get-token', '--login', 'workloadidentity', '--server-id', '6dae42f8-4368-4678-94ff-3960e28e3630', '--disable-instance-discovery'] }
    ])
  })
  it('treats only the public cloud authority as public', () => {
    expect(isPublicAuthority(undefined)).toBe(true)
    expect(isPublicAuthority('https://login.microsoftonline.com/')).toBe(true)
    expect(isPublicAuthority('https://login.microsoftonline.us')).toBe(false)
    expect(isPublicAuthority('https://127.0.0.1:4443')).toBe(false)
  })
  it('gives kubelogin the identity, the authority with its trailing slash and the token file, and hides the GitHub request variables', () => {
    const env = kubeloginEnv({ clientId: 'c', tenantId: 't', authorityHost: 'https://127.0.0.1:4443', tokenFile: '/tmp/tok' })
    expect(env).toEqual({
      AZURE_CLIENT_ID: 'c',
      AZURE_TENANT_ID: 't',
      AZURE_AUTHORITY_HOST: 'https://127.0.0.1:4443/',
      AZURE_FEDERATED_TOKEN_FILE: '/tmp/tok',
      ACTIONS_ID_TOKEN_REQUEST_URL: '',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: ''
    })
  })
  it('finds kubelogin on PATH, or says to add azure/use-kubelogin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kl-'))
    expect(() => findKubelogin('AKS cluster x', dir)).toThrow(/kubelogin is not on PATH; it is needed to sign in to AKS cluster x/)
    try {
      findKubelogin('x', dir)
    } catch (e) {
      expect((e as ActionError).hint).toMatch(/azure\/use-kubelogin@v1/)
    }
    writeFileSync(join(dir, 'kubelogin'), '#!/bin/sh\n')
    chmodSync(join(dir, 'kubelogin'), 0o755)
    expect(findKubelogin('x', `/nonexistent:${dir}`)).toBe(join(dir, 'kubelogin'))
  })
})

const jwt = (exp: number): string => `h.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.s`

describe('federated token file', () => {
  it('reads exp and refreshes a third of the lifetime (at least 30 s) before it', () => {
    expect(jwtExpiry(jwt(1000))).toBe(1_000_000)
    expect(jwtExpiry('not-a-jwt')).toBeUndefined()
    expect(refreshAt(0, 300_000)).toBe(200_000)
    expect(refreshAt(0, 60_000)).toBe(30_000)
  })
  it('fetches again only when due, writes 0600, one fetch for concurrent callers', async () => {
    let now = 0
    let fetches = 0
    const lines: string[] = []
    const path = join(mkdtempSync(join(tmpdir(), 'tok-')), 'token')
    const f = new FederatedTokenFile(path, {
      now: () => now,
      log: (l) => lines.push(l),
      fetch: async () => {
        fetches++
        return jwt(now / 1000 + 300)
      }
    })
    await Promise.all([f.fresh(), f.fresh(), f.fresh()])
    expect(fetches).toBe(1)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(jwtExpiry(readFileSync(path, 'utf8'))).toBe(300_000)
    now = 199_000
    await f.fresh()
    expect(fetches).toBe(1)
    now = 200_000
    await f.fresh()
    expect(fetches).toBe(2)
    expect(jwtExpiry(readFileSync(path, 'utf8'))).toBe(500_000)
    expect(lines[1]).toMatch(/^refreshed the GitHub ID token kubelogin exchanges for cluster tokens \(valid until 00:08:20 UTC/)
    expect(lines.join('\n')).not.toContain(readFileSync(path, 'utf8'))
  })
})

describe('AKS mode inputs', () => {
  const azure = { endpoint: 'https://management.azure.com' }
  it('needs client-id and tenant-id, and a job that may request an ID token', () => {
    const p = aksProblems(azure, 'topology regions.eastus.aks', {})
    expect(p.map((e) => e.message)).toEqual([
      "inputs 'client-id' and 'tenant-id' are required to sign in to the AKS cluster of topology regions.eastus.aks",
      'the job cannot request an OIDC token to sign in to the AKS cluster of topology regions.eastus.aks'
    ])
    expect(p[1].hint).toMatch(/permissions: id-token: write/)
    expect(aksProblems({ ...azure, clientId: 'c', tenantId: 't' }, 'x', { ACTIONS_ID_TOKEN_REQUEST_URL: 'u', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'k' })).toEqual([])
    expect(aksProblems({ ...azure, clientId: 'c', tenantId: 't' }, 'x', { AZURE_FEDERATED_TOKEN_FILE: '/var/run/token' })).toEqual([])
  })
  it('uses the AKS cluster unless a context or kubeconfig input is given; two regions are two clusters', () => {
    const t = parseTopology(topo('{ name: aks-east }').replace('westeurope:\n    kube: { context: ctx-west }', 'westeurope:\n    aks: { subscription: ' + SUB + ', resourceGroup: rg-west, name: aks-west }'), 't.yml')
    const env: Record<string, string> = { 'client-id': '0b1c2d3e-0000-4000-8000-000000000002', 'tenant-id': '72f988bf-0000-4000-8000-000000000001' }
    const save = { url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL, tok: process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN }
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = 'http://127.0.0.1:1/idtoken'
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'x'
    try {
      const inputs = new InputReader((n) => env[n] ?? '')
      const east = readKube(inputs, 'source', t.regions.eastus, { topology: t })
      const west = readKube(inputs, 'target', t.regions.westeurope, { topology: t })
      inputs.done()
      expect(east.label).toBe('region eastus (AKS aks-east)')
      expect(east.target.session).toBeDefined()
      expect(east.sameCluster(west)).toBe(false)
      expect(east.sameCluster(east)).toBe(true)
      const explicit = readKube(new InputReader((n) => (n === 'source-context' ? 'my-ctx' : '')), 'source', t.regions.eastus, { topology: t })
      expect(explicit.target).toMatchObject({ context: "my-ctx" })
      expect(explicit.target.session).toBeUndefined()
    } finally {
      process.env.ACTIONS_ID_TOKEN_REQUEST_URL = save.url ?? ''
      process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = save.tok ?? ''
      if (save.url === undefined) delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
      if (save.tok === undefined) delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    }
  })
  it('reports missing client-id once for two AKS regions', () => {
    const t = parseTopology(topo('{ name: aks-east }').replace('westeurope:\n    kube: { context: ctx-west }', 'westeurope:\n    aks: { subscription: ' + SUB + ', resourceGroup: rg-west, name: aks-west }'), 't.yml')
    const inputs = new InputReader(() => '')
    readKube(inputs, 'source', t.regions.eastus, { topology: t })
    readKube(inputs, 'target', t.regions.westeurope, { topology: t })
    expect(messages(() => inputs.done()).filter((m) => m.includes("'client-id'"))).toHaveLength(1)
  })
})
