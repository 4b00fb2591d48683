// The kubectl wrapper and the pod-side secret scripts against the real kubectl (Debian 1.20,
// SPDY exec) talking to the Kubernetes API double; pods exec real /bin/sh locally.
// While a script runs, every process's argv on this machine is scanned for the password.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { localProcessExec, startKubeCluster, writeKubeconfig, type KubeCluster } from '../../../sandbox/kube/index.ts'
import { Kubectl, portable, secretValues } from '../../../src/core/kube/kubectl.ts'
import { Nodetool, readDatastoreCredentials } from '../../../src/core/cassandra/nodetool.ts'
import { containsSecret } from '../../../src/core/secrets.ts'

const KUBECTL = resolve('.cache/bin/kubectl')
const have = existsSync(KUBECTL)
const d = have ? describe : describe.skip
if (!have) it('kubectl is installed (npm run setup)', () => expect(have).toBe(true))

const b64 = (s: string) => Buffer.from(s).toString('base64')
const PASSWORD = 'Pw-' + Math.random().toString(36).slice(2) + "'q\"$x"

function argvOfAllProcesses(): string {
  let out = ''
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      out += readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') + '\n'
    } catch {
      /* gone */
    }
  }
  return out
}

d('Kubectl against the API double', () => {
  let east: KubeCluster
  let west: KubeCluster
  let k: Kubectl
  let kw: Kubectl
  const dir = mkdtempSync(join(tmpdir(), 'kube-double-'))
  beforeAll(async () => {
    east = await startKubeCluster({ name: 'east', tlsDir: join(dir, 'tls'), namespaces: ['apigee', 'cert-manager'] })
    west = await startKubeCluster({ name: 'west', tlsDir: join(dir, 'tls'), namespaces: ['cert-manager'] })
    for (let i = 0; i < 3; i++) {
      east.addPod({
        namespace: 'apigee',
        name: `apigee-cassandra-default-${i}`,
        podIP: `127.0.1.${i + 1}`,
        hostNetwork: true,
        labels: { app: 'apigee-cassandra' },
        containers: [{ name: 'apigee-cassandra' }],
        ready: i !== 2,
        exec: localProcessExec({ extraEnv: { TMPDIR: dir } })
      })
    }
    east.addPod({ namespace: 'apigee', name: 'other', podIP: '127.0.1.9', labels: { app: 'runtime' }, logs: 'INFO one\nINFO two\nINFO rebuild from dc: dc-1\n' })
    east.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'apigee' }, data: { 'jmx.user': b64('jmxuser'), 'jmx.password': b64(PASSWORD) } })
    const kc = writeKubeconfig(join(dir, 'kubeconfig'), [east, west], { currentContext: 'east' })
    k = new Kubectl({ bin: KUBECTL, kubeconfig: kc, context: 'east' })
    kw = new Kubectl({ bin: KUBECTL, kubeconfig: kc, context: 'west' })
  })
  afterAll(async () => {
    await east?.close()
    await west?.close()
  })

  it('lists pods by selector with readiness and IPs', async () => {
    const pods = await k.getPods('apigee', 'app=apigee-cassandra')
    expect(pods.map((p) => [p.name, p.ready, p.podIP, p.hostIP])).toEqual([
      ['apigee-cassandra-default-0', true, '127.0.1.1', '127.0.1.1'],
      ['apigee-cassandra-default-1', true, '127.0.1.2', '127.0.1.2'],
      ['apigee-cassandra-default-2', false, '127.0.1.3', '127.0.1.3']
    ])
  })

  it('copies a namespace (renamed) and a secret to another cluster', async () => {
    const ns = await k.getNamespace('apigee')
    expect(ns?.metadata.uid).toBeTruthy()
    expect(await kw.getNamespace('apigee-west')).toBeUndefined()
    await kw.create(portable(ns!, { namespace: 'apigee-west' }))
    const copied = await kw.getNamespace('apigee-west')
    expect(copied?.metadata.name).toBe('apigee-west')
    expect(copied?.metadata.uid).not.toBe(ns!.metadata.uid)
    const s = await k.getSecret('apigee', 'creds', ['jmx.user'])
    await kw.create(portable(s!), 'cert-manager')
    const back = await kw.getSecret('cert-manager', 'creds')
    expect(secretValues(back!)['jmx.password']).toBe(PASSWORD)
    await kw.replace(portable(back!), 'cert-manager')
  })

  it('runs a pod script with the JMX password from stdin: in the 0600 file, in no process argv', async () => {
    const s = await k.getSecret('apigee', 'creds', ['jmx.user'])
    const v = secretValues(s!)
    const nt = new Nodetool({ kube: k, namespace: 'apigee', container: 'apigee-cassandra' }, { user: v['jmx.user'], password: v['jmx.password'] })
    let scanned = ''
    const scanner = setInterval(() => (scanned += argvOfAllProcesses()), 50)
    // `nt` is not called: the body only shows what the tool would get.
    const res = await nt.shell('apigee-cassandra-default-0', 'stat -c %a "$d/jmx"; cat "$d/jmx"; sleep 0.6; echo "args:$*"', ['status', 'x y'])
    clearInterval(scanner)
    expect(res.stdout).toBe(`600\njmxuser ${PASSWORD}\nargs:status x y\n`)
    expect(scanned).toContain('apigee-cassandra-default-0') // the scan did see kubectl running
    expect(scanned).not.toContain(PASSWORD)
    expect(readdirSync(dir).filter((f) => f.startsWith('tmp.'))).toEqual([])
  })

  it('reads logs with --tail', async () => {
    expect(await k.logs('apigee', 'other', { tail: 1 })).toBe('INFO rebuild from dc: dc-1\n')
  })

  it('reports a missing object as undefined and a bad context clearly', async () => {
    expect(await k.getSecret('apigee', 'nope')).toBeUndefined()
    const bad = new Kubectl({ bin: KUBECTL, kubeconfig: join(dir, 'kubeconfig'), context: 'nowhere' })
    await expect(bad.getPods('apigee')).rejects.toThrow(/context nowhere/)
  })

  it("reads the vendor's 11-key credentials secret: passwords registered, usernames (Jolokia's is 'apigee') not, so kubectl -n apigee still runs", async () => {
    const plain: Record<string, string> = {
      'default.password': 'Default-pw-1', 'admin.user': 'admin_user', 'admin.password': 'Admin-pw-1',
      'ddl.user': 'ddl_user', 'ddl.password': 'Ddl-pw-1', 'dml.user': 'dml_user', 'dml.password': 'Dml-pw-1',
      'jmx.user': 'jmxoperator', 'jmx.password': 'Jmx-pw-1', 'jolokia.user': 'apigee', 'jolokia.password': 'Jolokia-pw-1'
    }
    east.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'apigee-datastore-default-creds', namespace: 'apigee' }, data: Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, b64(v)])) })
    const c = await readDatastoreCredentials(k, 'apigee', 'apigee-datastore-default-creds', { jmx: true, ddl: true })
    expect(c).toEqual({ jmx: { user: 'jmxoperator', password: 'Jmx-pw-1' }, ddl: { user: 'ddl_user', password: 'Ddl-pw-1' } })
    // (jmx.user is not the vendor's default jmxuser here: an earlier test of this file read a secret without naming its public keys)
    for (const [key, v] of Object.entries(plain)) expect([key, containsSecret(v)]).toEqual([key, key.endsWith('.password')])
    // the call that used to be refused ("a secret value is in its arguments"): -n apigee
    expect((await k.getPods('apigee', 'app=apigee-cassandra')).length).toBe(3)
  })
})
