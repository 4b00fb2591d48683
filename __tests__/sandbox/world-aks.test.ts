// The sandbox world in AKS mode (WorldOptions.aks): its regions are managed clusters in the world's
// ARM double, reached only as an action would reach them: listClusterUserCredential, the real
// kubelogin (workloadidentity, GitHub OIDC double) and the real kubectl; RBAC enforced from the
// roles applied with the world's admin kubeconfig. Runs its own world on 127.23.x.x.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import YAML from 'yaml'
import { CACHE_DIR } from '../../sandbox/cassandra/cluster.ts'
import { down, up, type WorldClient } from '../../sandbox/world-client.ts'

const BIN = join(CACHE_DIR, 'bin')
const have = existsSync(join(BIN, 'kubelogin'))
if (!have) it('kubelogin is installed (npm run setup)', () => expect(have).toBe(true))
const d = have ? describe : describe.skip

interface Out {
  code: number
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], env: Record<string, string>, stdin?: string): Promise<Out> {
  return new Promise((done) => {
    const c = execFile(cmd, args, { env, timeout: 120000 }, (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }))
    c.stdin?.end(stdin ?? '')
  })
}

d('the world in AKS mode', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mr-world-aks-'))
  const runDir = join(tmp, 'run')
  let world: WorldClient
  let env: Record<string, string>

  beforeAll(async () => {
    world = (await up({ runDir, rowsPerTable: 5, addressBase: 23, source: { nodes: 1 }, aks: { tokenLifetimeSec: 120 } })).client
    const a = world.state.aks!
    env = {
      PATH: `${BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: tmp,
      AZURE_CLIENT_ID: a.clientId,
      AZURE_TENANT_ID: a.tenantId,
      AZURE_AUTHORITY_HOST: a.authorityHost,
      SSL_CERT_FILE: a.caFile,
      ...a.runnerEnv
    }
  }, 600000)

  afterAll(async () => {
    await down(runDir)
    rmSync(tmp, { recursive: true, force: true })
  }, 120000)

  it('serves each region as a managed cluster whose kubeconfig, through kubelogin, reaches that region as the app, under RBAC', async () => {
    const a = world.state.aks!
    const source = world.region('source')
    expect(a.clusters).toEqual({ [source.name]: source.context, [world.region('target').name]: world.region('target').context })
    const topo = YAML.parse(readFileSync(a.topology!, 'utf8')) as { regions: Record<string, { aks: unknown }> }
    expect(topo.regions[source.name].aks).toEqual({ subscription: a.subscription, resourceGroup: a.resourceGroup, name: source.context })
    // an ARM token (federated), then the cluster user credential
    const idt = await new Promise<string>((done) => {
      const u = new URL(`${a.runnerEnv.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=api://AzureADTokenExchange`)
      void import('node:http').then(({ request: r }) => r(u, { headers: { authorization: `bearer ${a.runnerEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } }, (res) => {
        let t = ''
        res.on('data', (c: Buffer) => (t += c))
        res.on('end', () => done((JSON.parse(t) as { value: string }).value))
      }).end())
    })
    const post = (path: string, body: string, token?: string): Promise<Record<string, unknown>> =>
      new Promise((done, fail) => {
        const req = request(`${a.armUrl}${path}`, { method: 'POST', ca: readFileSync(a.caFile), headers: { 'content-type': 'application/x-www-form-urlencoded', ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
          let t = ''
          res.on('data', (c: Buffer) => (t += c))
          res.on('end', () => done(JSON.parse(t) as Record<string, unknown>))
        })
        req.on('error', fail)
        req.end(body)
      })
    const tok = await post(`/${a.tenantId}/oauth2/v2.0/token`, new URLSearchParams({ grant_type: 'client_credentials', client_id: a.clientId, scope: `${a.armUrl}/.default`, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: idt }).toString())
    const cred = await post(`/subscriptions/${a.subscription}/resourceGroups/${a.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${source.context}/listClusterUserCredential?api-version=2024-05-01&format=exec`, '', String(tok.access_token))
    const kc = join(tmp, 'kubeconfig')
    writeFileSync(kc, Buffer.from((cred.kubeconfigs as Array<{ value: string }>)[0].value, 'base64'), { mode: 0o600 })
    expect((await run(join(BIN, 'kubelogin'), ['convert-kubeconfig', '-l', 'workloadidentity', '--kubeconfig', kc], env)).code).toBe(0)
    const doc = YAML.parse(readFileSync(kc, 'utf8')) as { users: Array<{ user: { exec: { args: string[] } } }> }
    doc.users[0].user.exec.args.push('--disable-instance-discovery')
    writeFileSync(kc, YAML.stringify(doc), { mode: 0o600 })
    const kubectl = (...args: string[]) => run(join(BIN, 'kubectl'), ['--kubeconfig', kc, '-n', 'apigee', ...args], env)
    const denied = await kubectl('get', 'pods')
    expect(denied.stderr).toContain(`pods is forbidden: User "${a.objectId}" cannot list resource "pods" in API group "" in the namespace "apigee"`)
    // the world's admin kubeconfig (static token) grants it, as a platform engineer would
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', namespace: 'apigee' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] }
    const binding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader', namespace: 'apigee' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'User', name: a.objectId }] }
    const applied = await run(join(BIN, 'kubectl'), ['--kubeconfig', world.state.kubeconfig, '--context', source.context, 'apply', '-f', '-'], env, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role, binding] }))
    expect(applied.stderr).toBe('')
    const ok = await kubectl('get', 'pods', '-o', 'name')
    expect(ok).toEqual({ code: 0, stdout: 'pod/apigee-cassandra-default-0\n', stderr: '' })
    // the lifetime is a runtime knob
    expect((await world.tuneAks({ tokenLifetimeSec: 60 })).tokenLifetimeSec).toBe(60)
  }, 180000)
})
