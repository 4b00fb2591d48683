// AKS with Entra ID in the sandbox, driven by the real clients: the ARM double's managedClusters
// (listClusterUserCredential returns AKS's kubelogin kubeconfig), the real kubelogin (from
// `npm run setup`) converting it to workloadidentity and fetching tokens from the Entra double
// with a federated GitHub ID token (from a file, and from the GitHub OIDC double directly), and the
// real kubectl against a Kubernetes API double that validates those tokens and enforces RBAC.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import YAML from 'yaml'
import { AKS_SERVER_APP_ID } from '../../sandbox/arm/entra.ts'
import { type ArmDouble, startArmDouble } from '../../sandbox/arm/server.ts'
import { localProcessExec, startKubeCluster, type KubeCluster } from '../../sandbox/kube/index.ts'

const BIN = resolve('.cache/bin')
const KUBECTL = join(BIN, 'kubectl')
const KUBELOGIN = join(BIN, 'kubelogin')
const S = '44444444-4444-4444-8444-444444444444'
const RG = 'hybrid-rg'
const have = existsSync(KUBECTL) && existsSync(KUBELOGIN)
if (!have) it('kubectl and kubelogin are installed (npm run setup: scripts/setup.d/kubelogin.sh)', () => expect(have).toBe(true))
const d = have ? describe : describe.skip

interface Out {
  code: number
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<Out> {
  return new Promise((done) => {
    execFile(cmd, args, { env, timeout: 60000 }, (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }))
  })
}

function https(arm: ArmDouble, method: string, path: string, token?: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((done, fail) => {
    const req = request(`${arm.url}${path}`, { method, ca: readFileSync(arm.caFile), headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) } }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c))
      res.on('end', () => done({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }))
    })
    req.on('error', fail)
    req.end(body ?? '')
  })
}

/** A GitHub ID token for Entra (audience api://AzureADTokenExchange), as a job with id-token: write gets it. */
function idToken(arm: ArmDouble): Promise<string> {
  const env = arm.runnerEnv()
  return new Promise((done, fail) => {
    const req = httpRequest(`${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=api://AzureADTokenExchange`, { headers: { authorization: `Bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c))
      res.on('end', () => (res.statusCode === 200 ? done((JSON.parse(text) as { value: string }).value) : fail(new Error(text))))
    })
    req.end()
  })
}

async function entraToken(arm: ArmDouble, scope: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: arm.clientId,
    scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await idToken(arm)
  })
  return https(arm, 'POST', `/${arm.tenantId}/oauth2/v2.0/token`, undefined, form.toString())
}

d('AKS with Entra ID: managedClusters, kubelogin, token validation, RBAC', () => {
  let dir: string
  let arm: ArmDouble
  let kube: KubeCluster
  let kubeconfig: string
  let oid: string
  let env: Record<string, string>
  const mc = `/subscriptions/${S}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters`

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-aks-'))
    arm = await startArmDouble({ tlsDir: join(dir, 'tls'), tokenLifetimeSec: 60 })
    kube = await startKubeCluster({
      name: 'aks-eastus',
      tlsDir: join(dir, 'tls'),
      namespaces: ['apigee'],
      entra: { issuer: arm.entra.issuer, audience: AKS_SERVER_APP_ID, jwks: () => arm.entra.jwks() }
    })
    arm.addManagedCluster({ subscription: S, resourceGroup: RG, name: 'aks-eastus', location: 'eastus', server: kube.url, ca: kube.ca })
    kube.addPod({ namespace: 'apigee', name: 'apigee-cassandra-default-0', podIP: '127.0.3.1', labels: { app: 'apigee-cassandra' }, containers: [{ name: 'apigee-cassandra' }], exec: localProcessExec() })
    kube.addWorkload({ kind: 'Deployment', namespace: 'apigee', name: 'apigee-runtime', replicas: 1 })
    oid = arm.entra.apps.get(arm.clientId)!.objectId
    // least privilege for this test: read pods, exec into them; nothing else
    kube.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', namespace: 'apigee' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }] })
    kube.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader', namespace: 'apigee' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: oid }] })
    env = {
      PATH: `${BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: dir,
      AZURE_CLIENT_ID: arm.clientId,
      AZURE_TENANT_ID: arm.tenantId,
      AZURE_AUTHORITY_HOST: `${arm.url}/`,
      // kubelogin is a Go program: crypto/x509 reads the extra trust from here on Linux
      SSL_CERT_FILE: arm.caFile
    }
  }, 60000)

  afterAll(async () => {
    await kube?.close()
    await arm?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('ARM serves the managed cluster and its user kubeconfig (kubelogin devicecode, CA inline), 404 for a wrong name', async () => {
    const t = await entraToken(arm, `${arm.url}/.default`)
    expect(t.status).toBe(200)
    const token = String(t.json.access_token)
    const got = await https(arm, 'GET', `${mc}/aks-eastus?api-version=2024-05-01`, token)
    expect(got.status).toBe(200)
    expect((got.json.properties as Record<string, unknown>).aadProfile).toMatchObject({ managed: true, tenantID: arm.tenantId })
    const cred = await https(arm, 'POST', `${mc}/aks-eastus/listClusterUserCredential?api-version=2024-05-01&format=exec`, token)
    expect(cred.status).toBe(200)
    const kc = Buffer.from(String((cred.json.kubeconfigs as Array<{ value: string }>)[0].value), 'base64').toString('utf8')
    const doc = YAML.parse(kc) as { clusters: Array<{ cluster: Record<string, string> }>; users: Array<{ name: string; user: { exec: { command: string; args: string[] } } }> }
    expect(doc.clusters[0].cluster.server).toBe(kube.url)
    expect(Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(kube.ca)
    expect(doc.users[0].name).toBe(`clusterUser_${RG}_aks-eastus`)
    expect([doc.users[0].user.exec.command, ...doc.users[0].user.exec.args]).toEqual([
      'kubelogin', 'get-token', '--environment', 'AzurePublicCloud', '--server-id', AKS_SERVER_APP_ID,
      '--client-id', '80faf920-1908-4b52-b5ef-a8e7bedfc67a', '--tenant-id', arm.tenantId, '--login', 'devicecode'
    ])
    kubeconfig = join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, kc, { mode: 0o600 })
    const wrong = await https(arm, 'POST', `${mc}/aks-westus/listClusterUserCredential?api-version=2024-05-01&format=exec`, token)
    expect(wrong.status).toBe(404)
    expect(wrong.json.error).toMatchObject({ code: 'ResourceNotFound' })
    expect(String((wrong.json.error as { message: string }).message)).toContain("Microsoft.ContainerService/managedClusters/aks-westus' under resource group 'hybrid-rg' was not found")
    // an AKS token does not open ARM
    const aks = await entraToken(arm, `${AKS_SERVER_APP_ID}/.default`)
    expect((await https(arm, 'GET', `${mc}/aks-eastus?api-version=2024-05-01`, String(aks.json.access_token))).status).toBe(401)
  })

  it('kubelogin convert-kubeconfig -l workloadidentity, then kubectl with a federated token file: the token passes the API server as the app', async () => {
    const conv = await run(KUBELOGIN, ['convert-kubeconfig', '-l', 'workloadidentity', '--kubeconfig', kubeconfig], env)
    expect(conv.stderr).toBe('')
    const doc = YAML.parse(readFileSync(kubeconfig, 'utf8')) as { users: Array<{ user: { exec: { args: string[] } } }> }
    expect(doc.users[0].user.exec.args).toEqual(['get-token', '--login', 'workloadidentity', '--server-id', AKS_SERVER_APP_ID])
    // convert-kubeconfig (v0.2.19) does not carry --disable-instance-discovery into the exec args:
    // an authority that is not the public cloud's needs it added (else MSAL asks
    // login.microsoftonline.com for instance metadata)
    doc.users[0].user.exec.args.push('--disable-instance-discovery')
    writeFileSync(kubeconfig, YAML.stringify(doc), { mode: 0o600 })
    const tokenFile = join(dir, 'federated-token')
    writeFileSync(tokenFile, await idToken(arm), { mode: 0o600 })
    const before = arm.entra.tokens.length
    kube.accessLog.length = 0
    const r = await run(KUBECTL, ['--kubeconfig', kubeconfig, '-n', 'apigee', 'get', 'pods', '-o', 'name'], { ...env, AZURE_FEDERATED_TOKEN_FILE: tokenFile })
    expect(r).toEqual({ code: 0, stdout: 'pod/apigee-cassandra-default-0\n', stderr: '' })
    expect(arm.entra.tokens.slice(before).map((t) => [t.audience, t.objectId])).toEqual([[AKS_SERVER_APP_ID, oid]])
    expect(new Set(kube.accessLog.filter((e) => e.resource === 'pods').map((e) => e.user))).toEqual(new Set([oid]))
    const ex = await run(KUBECTL, ['--kubeconfig', kubeconfig, '-n', 'apigee', 'exec', 'apigee-cassandra-default-0', '--', 'echo', 'hello'], { ...env, AZURE_FEDERATED_TOKEN_FILE: tokenFile })
    expect(ex).toEqual({ code: 0, stdout: 'hello\n', stderr: '' })
  })

  it('kubelogin asks the GitHub OIDC double itself when ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are set', async () => {
    const ids = arm.idTokensIssued
    const r = await run(KUBECTL, ['--kubeconfig', kubeconfig, '-n', 'apigee', 'get', 'pods', '-o', 'name'], { ...env, ...arm.runnerEnv() })
    expect(r).toEqual({ code: 0, stdout: 'pod/apigee-cassandra-default-0\n', stderr: '' })
    expect(arm.idTokensIssued).toBe(ids + 1)
  })

  it('a missing permission is a 403 that names it; kubectl auth can-i answers from the same rules', async () => {
    const e = { ...env, ...arm.runnerEnv() }
    const k = (...a: string[]) => run(KUBECTL, ['--kubeconfig', kubeconfig, '-n', 'apigee', ...a], e)
    const secrets = await k('get', 'secrets')
    expect(secrets.code).toBe(1)
    expect(secrets.stderr).toContain(`Error from server (Forbidden): secrets is forbidden: User "${oid}" cannot list resource "secrets" in API group "" in the namespace "apigee"`)
    const scale = await k('scale', 'deployment/apigee-runtime', '--replicas=2')
    expect(scale.stderr).toContain(`deployments.apps "apigee-runtime" is forbidden: User "${oid}" cannot get resource "deployments" in API group "apps" in the namespace "apigee"`)
    expect((kube.get('deployments', 'apigee', 'apigee-runtime') as unknown as { spec: { replicas: number } }).spec.replicas).toBe(1)
    const logs = await k('logs', 'apigee-cassandra-default-0')
    expect(logs.stderr).toContain(`pods "apigee-cassandra-default-0" is forbidden: User "${oid}" cannot get resource "pods/log" in API group "" in the namespace "apigee"`)
    expect(await k('auth', 'can-i', 'create', 'pods', '--subresource=exec')).toMatchObject({ code: 0, stdout: 'yes\n' })
    expect(await k('auth', 'can-i', 'list', 'pods')).toMatchObject({ code: 0, stdout: 'yes\n' })
    expect(await k('auth', 'can-i', 'get', 'secrets')).toMatchObject({ code: 1, stdout: 'no\n' })
    expect(await k('auth', 'can-i', 'patch', 'deployments', '--subresource=scale')).toMatchObject({ code: 1, stdout: 'no\n' })
    // granted: the same request passes
    kube.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'scaler', namespace: 'apigee' }, rules: [{ apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['get', 'patch'] }] })
    kube.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'scaler', namespace: 'apigee' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'scaler' }, subjects: [{ kind: 'User', name: oid }] })
    expect(await k('auth', 'can-i', 'patch', 'deployments', '--subresource=scale')).toMatchObject({ code: 0, stdout: 'yes\n' })
    expect((await k('scale', 'deployment/apigee-runtime', '--replicas=2')).code).toBe(0)
    expect((kube.get('deployments', 'apigee', 'apigee-runtime') as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2)
  })

  it('401 for an expired token, a token for another audience, a foreign signature; the static token stays admin', async () => {
    const withToken = (token: string): string => {
      const f = join(dir, `kc-${Math.random().toString(36).slice(2)}`)
      writeFileSync(f, YAML.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority-data': Buffer.from(kube.ca).toString('base64') } }], users: [{ name: 'u', user: { token } }], contexts: [{ name: 'c', context: { cluster: 'c', user: 'u', namespace: 'apigee' } }], 'current-context': 'c' }), { mode: 0o600 })
      return f
    }
    const get = (f: string) => run(KUBECTL, ['--kubeconfig', f, 'get', 'pods', '-o', 'name'], env)
    expect((await get(withToken(arm.entra.mint({ objectId: oid, audience: AKS_SERVER_APP_ID, lifetimeSec: 60 })))).code).toBe(0)
    const expired = await get(withToken(arm.entra.mint({ objectId: oid, audience: AKS_SERVER_APP_ID, notBeforeSec: -120, lifetimeSec: 60 })))
    expect(expired).toMatchObject({ code: 1, stderr: 'error: You must be logged in to the server (Unauthorized)\n' })
    const otherAudience = await get(withToken(arm.entra.mint({ objectId: oid, audience: 'https://management.azure.com' })))
    expect(otherAudience.stderr).toContain('(Unauthorized)')
    const other = await startArmDouble({ tlsDir: join(dir, 'tls2') })
    try {
      const foreign = await get(withToken(other.entra.mint({ objectId: oid, audience: AKS_SERVER_APP_ID })))
      expect(foreign.stderr).toContain('(Unauthorized)')
    } finally {
      await other.close()
    }
    expect((await get(withToken(kube.token))).code).toBe(0)
  })

  it('RBAC semantics: group subjects, ClusterRoleBinding, resourceNames, cluster scope', async () => {
    const token = arm.entra.mint({ objectId: 'a1b2c3d4-0000-4000-8000-000000000001', audience: AKS_SERVER_APP_ID, groups: ['dba-group'] })
    const call = (path: string): Promise<{ status: number; json: Record<string, unknown> }> =>
      new Promise((done, fail) => {
        const req = request(`${kube.url}${path}`, { ca: kube.ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
          let t = ''
          res.on('data', (c: Buffer) => (t += c))
          res.on('end', () => done({ status: res.statusCode ?? 0, json: JSON.parse(t) as Record<string, unknown> }))
        })
        req.on('error', fail)
        req.end()
      })
    kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'apigee-datastore-default-creds', namespace: 'apigee' }, stringData: { 'jmx.user': 'jmxuser' } })
    kube.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'creds-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['apigee-datastore-default-creds'], verbs: ['get'] }] })
    kube.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'creds-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'creds-reader' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'dba-group' }] })
    expect((await call('/api/v1/namespaces/apigee/secrets/apigee-datastore-default-creds')).status).toBe(200)
    const other = await call('/api/v1/namespaces/apigee/secrets/other')
    expect(other).toEqual({
      status: 403,
      json: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, details: { name: 'other', kind: 'secrets' },
        message: 'secrets "other" is forbidden: User "a1b2c3d4-0000-4000-8000-000000000001" cannot get resource "secrets" in API group "" in the namespace "apigee"' }
    })
    expect((await call('/api/v1/namespaces/apigee/secrets')).json.message).toBe('secrets is forbidden: User "a1b2c3d4-0000-4000-8000-000000000001" cannot list resource "secrets" in API group "" in the namespace "apigee"')
    expect((await call('/api/v1/nodes')).json.message).toBe('nodes is forbidden: User "a1b2c3d4-0000-4000-8000-000000000001" cannot list resource "nodes" in API group "" at the cluster scope')
    expect((await call('/version')).status).toBe(200)
  })

  it('a federated credential that does not match the assertion: AADSTS70021 reaches kubectl, the API server sees nothing', async () => {
    const saved = arm.idTokenSubject
    arm.idTokenSubject = 'repo:someone/else:ref:refs/heads/main'
    try {
      kube.accessLog.length = 0
      const r = await run(KUBECTL, ['--kubeconfig', kubeconfig, '-n', 'apigee', 'get', 'pods'], { ...env, ...arm.runnerEnv() })
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain("AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://token.actions.githubusercontent.com'. Assertion Subject: 'repo:someone/else:ref:refs/heads/main'")
      expect(kube.accessLog.filter((e) => e.resource === 'pods')).toEqual([])
    } finally {
      arm.idTokenSubject = saved
    }
  })
})
