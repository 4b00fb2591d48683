// The Kubernetes API double against the REAL kubectl (Debian's 1.20.2 from `npm run setup`):
// discovery, Table output, selectors, exec over SPDY/3.1 (stdout, stderr, exit codes, stdin), logs,
// secrets and namespaces through apply/create/delete, scale with the replica hook, annotate, auth,
// two clusters in one kubeconfig. Also shows how a world registers pods and workloads.
import { spawn } from 'node:child_process'
import { request } from 'node:https'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import YAML from 'yaml'
import { localProcessExec, startKubeCluster, writeKubeconfig, type KubeCluster, type ReplicaChange } from '../../sandbox/kube/index.ts'

const KUBECTL = resolve('.cache/bin/kubectl')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

let dir: string
let dc1: KubeCluster
let dc2: KubeCluster
let kubeconfig: string
const hookCalls: ReplicaChange[] = []
let releaseHook: (() => void) | undefined

function kubectl(args: string[], opts: { stdin?: string; context?: string; kubeconfig?: string } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(
      KUBECTL,
      ['--kubeconfig', opts.kubeconfig ?? kubeconfig, '--context', opts.context ?? 'apigee-dc-1', '--cache-dir', join(dir, 'cache'), ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir }, stdio: ['pipe', 'pipe', 'pipe'] }
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
    child.stdin.end(opts.stdin ?? '')
  })
}

beforeAll(async () => {
  if (!existsSync(KUBECTL)) throw new Error(`${KUBECTL} is missing: run \`npm run setup\` first`)
  dir = mkdtempSync(join(tmpdir(), 'kube-double-'))
  const tlsDir = join(dir, 'tls')
  // --- how a world sets up a region cluster -------------------------------------------------
  dc1 = await startKubeCluster({ name: 'apigee-dc-1', tlsDir, namespaces: ['apigee', 'cert-manager'] })
  dc2 = await startKubeCluster({ name: 'apigee-dc-2', tlsDir, namespaces: ['apigee'] })
  const logFile = join(dir, 'system.log')
  writeFileSync(logFile, Array.from({ length: 50 }, (_, i) => `INFO line ${i + 1}`).join('\n') + '\n')
  for (const [i, ip] of ['127.0.0.11', '127.0.0.12'].entries()) {
    dc1.addPod({
      namespace: 'apigee',
      name: `apigee-cassandra-default-${i}`,
      podIP: ip,
      labels: { app: 'apigee-cassandra', name: 'default' },
      containers: [{ name: 'apigee-cassandra', image: 'apigee-hybrid-cassandra:1.0', ports: [9042, 7001] }],
      // the world maps this onto the node's tools; here: plain local processes with a marker env
      exec: localProcessExec({ extraEnv: { POD_IP: ip } }),
      logs: { file: logFile }
    })
  }
  dc1.addPod({ namespace: 'apigee', name: 'apigee-runtime-abc', podIP: '127.0.0.21', labels: { app: 'apigee-runtime' }, ready: false })
  dc2.addPod({ namespace: 'apigee', name: 'apigee-cassandra-default-0', podIP: '127.0.0.31', labels: { app: 'apigee-cassandra' } })
  dc1.addWorkload({
    kind: 'Deployment',
    namespace: 'apigee',
    name: 'apigee-runtime',
    replicas: 2,
    onReplicas: async (change) => {
      hookCalls.push(change)
      if (change.replicas === 7) await new Promise<void>((r) => (releaseHook = r)) // a slow start
      return Math.min(change.replicas, 3) // at most 3 replicas come up
    }
  })
  dc1.addWorkload({ kind: 'StatefulSet', namespace: 'apigee', name: 'apigee-cassandra-default', replicas: 2 })
  dc1.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'apigee-datastore-default-creds', namespace: 'apigee' },
    data: { 'jmx.user': Buffer.from('jmxuser').toString('base64'), 'jmx.password': Buffer.from('s3cret').toString('base64') }
  })
  kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), [dc1, dc2], { namespace: 'apigee' })
  await dc1.settled()
})

afterAll(async () => {
  await dc1?.close()
  await dc2?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('kubeconfig', () => {
  it('has one context per cluster with the CA inline and a private file mode', () => {
    const doc = YAML.parse(readFileSync(kubeconfig, 'utf8'))
    expect(doc.contexts.map((c: { name: string }) => c.name)).toEqual(['apigee-dc-1', 'apigee-dc-2'])
    expect(doc.contexts[0].context.namespace).toBe('apigee')
    expect(Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toContain('BEGIN CERTIFICATE')
    expect(doc.clusters[0].cluster.server).toBe(dc1.url)
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600)
  })
})

describe('auth', () => {
  it('refuses a client without the token, and one with a wrong token', async () => {
    const bad = join(dir, 'bad-kubeconfig')
    writeKubeconfig(bad, [{ ...dc1.kubeconfigEntry(), token: 'wrong' }])
    const r = await kubectl(['get', 'pods'], { kubeconfig: bad })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/Unauthorized/)
    const before = dc1.accessLog.length
    const noToken = join(dir, 'no-token-kubeconfig')
    const doc = YAML.parse(readFileSync(bad, 'utf8'))
    doc.users[0].user = {}
    writeFileSync(noToken, YAML.stringify(doc))
    const r2 = await kubectl(['get', 'secrets', '-n', 'apigee'], { kubeconfig: noToken })
    expect(r2.code).not.toBe(0)
    expect(dc1.accessLog.slice(before).every((e) => e.status === 401)).toBe(true)
  })
})

describe('pods', () => {
  it('get pods -o wide prints IP, node, readiness from the server-side table', async () => {
    const r = await kubectl(['get', 'pods', '-o', 'wide'])
    expect(r.stderr).toBe('')
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/)
    expect(lines.find((l) => l.startsWith('apigee-cassandra-default-1'))).toMatch(/1\/1\s+Running\s+0\s+\S+\s+127\.0\.0\.12\s+node-127-0-0-12/)
    expect(lines.find((l) => l.startsWith('apigee-runtime-abc'))).toMatch(/0\/1\s+Running/)
    const list = dc1.accessLog.filter((e) => e.verb === 'list' && e.resource === 'pods').at(-1)
    expect(list).toMatchObject({ namespace: 'apigee', status: 200 })
  })

  it('get pods -l selector -o json gives the pod objects with podIP, hostIP, labels, ready condition', async () => {
    const r = await kubectl(['get', 'pods', '-l', 'app=apigee-cassandra', '-o', 'json'])
    expect(r.code).toBe(0)
    const items = JSON.parse(r.stdout).items
    expect(items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['apigee-cassandra-default-0', 'apigee-cassandra-default-1'])
    expect(items[0].status).toMatchObject({ podIP: '127.0.0.11', hostIP: '127.0.0.11', phase: 'Running' })
    expect(items[0].status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True')
    expect(items[0].spec.containers[0]).toMatchObject({ name: 'apigee-cassandra', ports: [{ containerPort: 9042, protocol: 'TCP' }, { containerPort: 7001, protocol: 'TCP' }] })
    const jp = await kubectl(['get', 'pods', '-l', 'app in (apigee-cassandra),name=default', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.podIP}{"\\n"}{end}'])
    expect(jp.stdout).toBe('apigee-cassandra-default-0 127.0.0.11\napigee-cassandra-default-1 127.0.0.12\n')
  })

  it('a pod that is not there is NotFound; the other context sees its own cluster', async () => {
    const r = await kubectl(['get', 'pod', 'nope'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Error from server (NotFound): pods "nope" not found')
    const other = await kubectl(['get', 'pods', '-o', 'jsonpath={.items[*].status.podIP}'], { context: 'apigee-dc-2' })
    expect(other.stdout).toBe('127.0.0.31')
  })

  it('a pod handle changes readiness as the API shows it', async () => {
    const h = dc1.pod('apigee', 'apigee-runtime-abc')!
    h.setReady(true)
    const r = await kubectl(['get', 'pod', 'apigee-runtime-abc', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])
    expect(r.stdout).toBe('True')
  })
})

describe('exec over SPDY/3.1', () => {
  it('passes stdout, stderr and the exit code through', async () => {
    const r = await kubectl(['exec', 'apigee-cassandra-default-1', '--', 'sh', '-c', 'echo "out $POD_IP"; echo err >&2; exit 3'])
    expect(r.stdout).toBe('out 127.0.0.12\n')
    expect(r.stderr).toContain('err\n')
    expect(r.stderr).toContain('command terminated with exit code 3')
    expect(r.code).toBe(3)
    const exec = dc1.accessLog.filter((e) => e.subresource === 'exec').at(-1)
    expect(exec).toMatchObject({ method: 'POST', verb: 'create', status: 101, name: 'apigee-cassandra-default-1' })
  })

  it('exit 0 with argv kept intact (spaces, quotes)', async () => {
    const r = await kubectl(['exec', 'apigee-cassandra-default-0', '-c', 'apigee-cassandra', '--', 'printf', '%s|', 'a b', "it's", ''])
    expect(r).toEqual({ code: 0, stdout: "a b|it's||", stderr: '' })
  })

  it('pipes stdin with -i until EOF', async () => {
    const input = Array.from({ length: 2000 }, (_, i) => `row ${i}`).join('\n') + '\n'
    const r = await kubectl(['exec', '-i', 'apigee-cassandra-default-0', '--', 'sh', '-c', 'cat; exit 3'], { stdin: input })
    expect(r.stdout).toBe(input)
    expect(r.code).toBe(3)
  })

  it('carries large output intact', async () => {
    const r = await kubectl(['exec', 'apigee-cassandra-default-0', '--', 'sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" x'])
    expect(r.code).toBe(0)
    expect(r.stdout.length).toBe(3000000)
  })

  it('a missing command exits 127 like a container runtime', async () => {
    const r = await kubectl(['exec', 'apigee-cassandra-default-0', '--', 'no-such-tool-xyz'])
    expect(r.code).toBe(127)
    expect(r.stderr).toMatch(/executable file not found/)
  })

  it('aborts the handler when the client goes away (Ctrl-C)', async () => {
    let aborted: () => void = () => {}
    const gone = new Promise<void>((r) => (aborted = r))
    const h = dc1.addPod({
      namespace: 'apigee',
      name: 'hang',
      podIP: '127.0.0.41',
      exec: ({ stdout, signal }) =>
        new Promise<number>((resolve) => {
          stdout.write('started\n')
          signal.addEventListener('abort', () => (aborted(), resolve(130)))
        })
    })
    const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), 'exec', 'hang', '--', 'wait'], { env: { HOME: dir, PATH: process.env.PATH ?? '' } })
    await new Promise<void>((r) => child.stdout.once('data', () => r()))
    child.kill('SIGINT')
    await gone
    h.remove()
  })

  it('refuses a websocket upgrade with 400 (newer kubectl then falls back to SPDY)', async () => {
    const status = await new Promise<number | undefined>((done, fail) => {
      const req = request(`${dc1.url}/api/v1/namespaces/apigee/pods/apigee-cassandra-default-0/exec?command=true&stdout=true`, {
        method: 'GET',
        ca: dc1.ca,
        headers: { Authorization: `Bearer ${dc1.token}`, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' }
      })
      req.on('response', (res) => (res.resume(), done(res.statusCode)))
      req.on('upgrade', () => done(101))
      req.on('error', fail)
      req.end()
    })
    expect(status).toBe(400)
  })

  it('the programmatic exec runs the same handler', async () => {
    const r = await dc1.exec('apigee', 'apigee-cassandra-default-0', ['sh', '-c', 'cat; echo $POD_IP'], { stdin: 'x\n' })
    expect(r).toEqual({ code: 0, stdout: 'x\n127.0.0.11\n', stderr: '' })
  })
})

describe('logs', () => {
  it('serves the log file, with --tail', async () => {
    const all = await kubectl(['logs', 'apigee-cassandra-default-0'])
    expect(all.stdout.split('\n').length).toBe(51)
    const tail = await kubectl(['logs', 'apigee-cassandra-default-0', '--tail=2'])
    expect(tail.stdout).toBe('INFO line 49\nINFO line 50\n')
    expect(dc1.accessLog.filter((e) => e.subresource === 'log').at(-1)).toMatchObject({ query: 'tailLines=2', status: 200 })
  })

  it('follows the file with -f', async () => {
    const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), 'logs', '-f', '--tail=1', 'apigee-cassandra-default-0'], {
      env: { HOME: dir, PATH: process.env.PATH ?? '' }
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d))
    const file = join(dir, 'system.log')
    await new Promise((r) => setTimeout(r, 700))
    appendFileSync(file, 'INFO appended\n')
    const deadline = Date.now() + 5000
    while (!out.includes('INFO appended') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    child.kill()
    expect(out).toBe('INFO line 50\nINFO appended\n')
  })
})

describe('secrets and namespaces', () => {
  it('reads a secret and decodes its data', async () => {
    const r = await kubectl(['get', 'secret', 'apigee-datastore-default-creds', '-o', 'jsonpath={.data.jmx\\.user}'])
    expect(Buffer.from(r.stdout, 'base64').toString()).toBe('jmxuser')
    const table = await kubectl(['get', 'secrets'])
    expect(table.stdout).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\napigee-datastore-default-creds\s+Opaque\s+2\s+/)
  })

  it('apply creates, re-apply patches (strategic merge), delete removes; namespaces too', async () => {
    const manifest = join(dir, 'apigee-ca.yaml')
    const write = (crt: string): void =>
      writeFileSync(
        manifest,
        `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: region-2\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: apigee-ca\n  namespace: region-2\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${Buffer.from(crt).toString('base64')}\n  tls.key: a2V5\n`
      )
    write('ca-1')
    const created = await kubectl(['apply', '-f', manifest])
    expect(created.stdout).toBe('namespace/region-2 created\nsecret/apigee-ca created\n')
    expect(created.code).toBe(0)
    const same = await kubectl(['apply', '-f', manifest])
    expect(same.stdout).toBe('namespace/region-2 unchanged\nsecret/apigee-ca unchanged\n')
    write('ca-2')
    const changed = await kubectl(['apply', '-f', manifest])
    expect(changed.stdout).toBe('namespace/region-2 unchanged\nsecret/apigee-ca configured\n')
    expect(dc1.accessLog.filter((e) => e.verb === 'patch' && e.name === 'apigee-ca').map((e) => e.patchType)).toEqual(['application/strategic-merge-patch+json'])
    const secret = dc1.get('secrets', 'region-2', 'apigee-ca') as unknown as { type: string; data: Record<string, string> }
    expect(secret.type).toBe('kubernetes.io/tls')
    expect(Buffer.from(secret.data['tls.crt'], 'base64').toString()).toBe('ca-2')
    const del = await kubectl(['delete', 'namespace', 'region-2'])
    expect(del.stdout).toBe('namespace "region-2" deleted\n')
    expect(dc1.get('secrets', 'region-2', 'apigee-ca')).toBeUndefined()
    expect((await kubectl(['get', 'ns', 'region-2'])).stderr).toContain('namespaces "region-2" not found')
  })

  it('create secret generic with --from-literal, conflict on a second create, delete', async () => {
    const create = ['create', 'secret', 'generic', 'tmp-creds', '-n', 'cert-manager', '--from-literal=ddl.user=ddl', '--from-literal=ddl.password=pw']
    expect((await kubectl(create)).stdout).toBe('secret/tmp-creds created\n')
    const again = await kubectl(create)
    expect(again.stderr).toContain('Error from server (AlreadyExists): secrets "tmp-creds" already exists')
    const data = dc1.get('secret', 'cert-manager', 'tmp-creds')!.data as Record<string, string>
    expect(Buffer.from(data['ddl.password'], 'base64').toString()).toBe('pw')
    expect((await kubectl(['delete', 'secret', 'tmp-creds', '-n', 'cert-manager'])).stdout).toBe('secret "tmp-creds" deleted\n')
    expect(dc1.get('secret', 'cert-manager', 'tmp-creds')).toBeUndefined()
  })

  it('patch --type json and --type merge', async () => {
    await kubectl(['patch', 'secret', 'apigee-datastore-default-creds', '--type', 'merge', '-p', '{"metadata":{"labels":{"x":"1"}}}'])
    await kubectl(['patch', 'secret', 'apigee-datastore-default-creds', '--type', 'json', '-p', '[{"op":"add","path":"/data/ddl.user","value":"ZGRs"}]'])
    const s = dc1.get('secrets', 'apigee', 'apigee-datastore-default-creds')!
    expect(s.metadata.labels).toEqual({ x: '1' })
    expect(Object.keys(s.data as object).sort()).toEqual(['ddl.user', 'jmx.password', 'jmx.user'])
  })
})

describe('deployments and statefulsets', () => {
  it('kubectl scale calls the hook and readyReplicas follows what the hook reports', async () => {
    hookCalls.length = 0
    const r = await kubectl(['scale', 'deployment', 'apigee-runtime', '--replicas=5'])
    expect(r.stdout).toBe('deployment.apps/apigee-runtime scaled\n')
    await dc1.settled()
    expect(hookCalls.map((c) => [c.kind, c.namespace, c.name, c.previous, c.replicas])).toEqual([['Deployment', 'apigee', 'apigee-runtime', 2, 5]])
    const d = await kubectl(['get', 'deploy', 'apigee-runtime', '-o', 'json'])
    const obj = JSON.parse(d.stdout)
    expect(obj.spec.replicas).toBe(5)
    expect(obj.status).toMatchObject({ replicas: 5, readyReplicas: 3, availableReplicas: 3, observedGeneration: obj.metadata.generation })
    const table = await kubectl(['get', 'deploy'])
    expect(table.stdout).toMatch(/apigee-runtime\s+3\/5\s+5\s+3\s+/)
    expect(dc1.accessLog.filter((e) => e.subresource === 'scale').map((e) => `${e.verb} ${e.patchType}`)).toContain('patch application/merge-patch+json')
  })

  it('status lags until a slow hook finishes; scale to 0 omits readyReplicas like a real cluster', async () => {
    await kubectl(['scale', 'deployment', 'apigee-runtime', '--replicas=7'])
    const during = dc1.get('deployments', 'apigee', 'apigee-runtime')!
    expect((during.status as { observedGeneration: number }).observedGeneration).toBeLessThan(during.metadata.generation!)
    while (!releaseHook) await new Promise((r) => setTimeout(r, 20))
    releaseHook()
    await dc1.settled()
    const after = dc1.get('deployments', 'apigee', 'apigee-runtime')!
    expect((after.status as { observedGeneration: number }).observedGeneration).toBe(after.metadata.generation)
    await kubectl(['scale', 'deployment', 'apigee-runtime', '--replicas=0'])
    await dc1.settled()
    const zero = await kubectl(['get', 'deploy', 'apigee-runtime', '-o', 'jsonpath={.spec.replicas}/{.status.readyReplicas}'])
    expect(zero.stdout).toBe('0/')
    expect(hookCalls.at(-1)).toMatchObject({ previous: 7, replicas: 0 })
  })

  it('setReadyReplicas reports a replica going down', async () => {
    await kubectl(['scale', 'statefulset', 'apigee-cassandra-default', '--replicas=3'])
    expect(dc1.get('sts', 'apigee', 'apigee-cassandra-default')!.status).toMatchObject({ replicas: 3, readyReplicas: 3 })
    dc1.setReadyReplicas('StatefulSet', 'apigee', 'apigee-cassandra-default', 2)
    const r = await kubectl(['get', 'sts'])
    expect(r.stdout).toMatch(/apigee-cassandra-default\s+2\/3\s+/)
  })

  it('kubectl annotate patches metadata.annotations (merge patch), --overwrite replaces, key- removes', async () => {
    expect((await kubectl(['annotate', 'deployment', 'apigee-runtime', 'mr-actions/replicas-before=2'])).stdout).toBe('deployment.apps/apigee-runtime annotated\n')
    const clash = await kubectl(['annotate', 'deployment', 'apigee-runtime', 'mr-actions/replicas-before=5'])
    expect(clash.code).not.toBe(0)
    await kubectl(['annotate', '--overwrite', 'deployment', 'apigee-runtime', 'mr-actions/replicas-before=5'])
    expect(dc1.get('deploy', 'apigee', 'apigee-runtime')!.metadata.annotations).toEqual({ 'mr-actions/replicas-before': '5' })
    await kubectl(['annotate', 'deployment', 'apigee-runtime', 'mr-actions/replicas-before-'])
    expect(dc1.get('deploy', 'apigee', 'apigee-runtime')!.metadata.annotations ?? {}).toEqual({})
    expect(dc1.accessLog.filter((e) => e.verb === 'patch' && e.resource === 'deployments' && !e.subresource).every((e) => e.patchType === 'application/merge-patch+json')).toBe(true)
  })

  it('apply -f a deployment runs the cluster-wide hook', async () => {
    const calls: ReplicaChange[] = []
    const off = dc1.onReplicas((c) => void calls.push(c))
    const manifest = join(dir, 'deploy.yaml')
    writeFileSync(
      manifest,
      YAML.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'echo', namespace: 'apigee' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'echo' } }, template: { metadata: { labels: { app: 'echo' } }, spec: { containers: [{ name: 'echo', image: 'echo:1' }] } } }
      })
    )
    expect((await kubectl(['apply', '-f', manifest])).stdout).toBe('deployment.apps/echo created\n')
    await dc1.settled()
    expect(calls.map((c) => [c.name, c.previous, c.replicas])).toEqual([['echo', null, 2]])
    const status = await kubectl(['rollout', 'status', 'deployment/echo', '--timeout=10s'])
    expect(status.stdout).toContain('successfully rolled out')
    off()
  })
})

describe('custom resources', () => {
  it('apply and get an ApigeeDatastore and a CassandraDataReplication (JSON merge patch on re-apply)', async () => {
    const manifest = join(dir, 'cdr.yaml')
    const cdr = (region: string): string =>
      YAML.stringify({
        apiVersion: 'apigee.cloud.google.com/v1alpha1',
        kind: 'CassandraDataReplication',
        metadata: { name: 'region-expansion', namespace: 'apigee' },
        spec: { organizationRef: 'org', force: false, source: { region } }
      })
    writeFileSync(manifest, cdr('dc-1'))
    expect((await kubectl(['apply', '-f', manifest])).stdout).toBe('cassandradatareplication.apigee.cloud.google.com/region-expansion created\n')
    writeFileSync(manifest, cdr('dc-3'))
    expect((await kubectl(['apply', '-f', manifest])).stdout).toBe('cassandradatareplication.apigee.cloud.google.com/region-expansion configured\n')
    expect(dc1.accessLog.filter((e) => e.resource === 'cassandradatareplications' && e.verb === 'patch').map((e) => e.patchType)).toEqual(['application/merge-patch+json'])
    const r = await kubectl(['get', 'cdr', 'region-expansion', '-o', 'jsonpath={.spec.source.region}'])
    expect(r.stdout).toBe('dc-3')
    dc1.apply({ apiVersion: 'apigee.cloud.google.com/v1alpha1', kind: 'ApigeeDatastore', metadata: { name: 'default', namespace: 'apigee' }, spec: {} })
    expect((await kubectl(['get', 'apigeedatastores'])).stdout).toMatch(/^NAME\s+STATE\s+AGE\ndefault\s+/)
  })
})

describe('discovery', () => {
  it('serves the groups kubectl asks for, including the Apigee CRDs', async () => {
    const r = await kubectl(['api-resources', '-o', 'name'])
    expect(r.code).toBe(0)
    for (const name of ['pods', 'secrets', 'namespaces', 'deployments.apps', 'statefulsets.apps', 'apigeedatastores.apigee.cloud.google.com', 'cassandradatareplications.apigee.cloud.google.com']) {
      expect(r.stdout.split('\n')).toContain(name)
    }
  })
})

describe('pod handles', () => {
  it('phase and readiness changes show in the API; remove() deletes; re-adding replaces', async () => {
    const h = dc2.addPod({ namespace: 'apigee', name: 'flappy', podIP: '127.0.0.51', labels: { app: 'flappy' } })
    const ready = async (): Promise<string> =>
      (await kubectl(['get', 'pod', 'flappy', '-o', 'jsonpath={.status.phase}/{.status.conditions[?(@.type=="Ready")].status}'], { context: 'apigee-dc-2' })).stdout
    expect(await ready()).toBe('Running/True')
    h.setPhase('Pending')
    expect(await ready()).toBe('Pending/False')
    h.setPhase('Running')
    expect(await ready()).toBe('Running/True')
    h.setReady(false)
    expect(await ready()).toBe('Running/False')
    h.restarted()
    expect((h.object().status as { containerStatuses: Array<{ restartCount: number }> }).containerStatuses[0].restartCount).toBe(1)
    const deleted: string[] = []
    dc2.addPod({ namespace: 'apigee', name: 'flappy', podIP: '127.0.0.52', onDelete: (p) => void deleted.push(String(p.metadata.name)) })
    h.remove() // the stale handle must not delete the new pod
    expect((dc2.get('pods', 'apigee', 'flappy')!.status as { podIP: string }).podIP).toBe('127.0.0.52')
    expect((await kubectl(['delete', 'pod', 'flappy'], { context: 'apigee-dc-2' })).stdout).toBe('pod "flappy" deleted\n')
    expect(deleted).toEqual(['flappy'])
    expect(dc2.pod('apigee', 'flappy')).toBeUndefined()
  })
})
