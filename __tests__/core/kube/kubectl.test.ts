import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inNamespace, Kubectl, podInfo, portable, secretValues, sortPods, type KubeObject } from '../../../src/core/kube/kubectl.ts'
import { containsSecret } from '../../../src/core/secrets.ts'

describe('portable', () => {
  const secret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'apigee-ca',
      namespace: 'cert-manager',
      resourceVersion: '123',
      uid: 'u-1',
      creationTimestamp: '2024-01-01T00:00:00Z',
      managedFields: [{ manager: 'x' }],
      ownerReferences: [{ kind: 'Certificate' }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' },
      labels: { a: 'b' }
    },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': 'Y2VydA==' },
    status: { x: 1 }
  }
  it('strips server-managed metadata and status, keeps data, labels and other annotations', () => {
    const p = portable(secret)
    expect(p.metadata).toEqual({ name: 'apigee-ca', namespace: 'cert-manager', annotations: { keep: 'me' }, labels: { a: 'b' } })
    expect(p.status).toBeUndefined()
    expect(p.data).toEqual({ 'tls.crt': 'Y2VydA==' })
    expect(secret.metadata.uid).toBe('u-1') // the input is not modified
  })
  it('moves a namespaced object to another namespace', () => {
    expect(portable(secret, { namespace: 'other' }).metadata.namespace).toBe('other')
  })
  it('renames a Namespace (and its name label)', () => {
    const ns: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'apigee', uid: 'x', labels: { 'kubernetes.io/metadata.name': 'apigee' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' }
    }
    const p = portable(ns, { namespace: 'apigee-we' })
    expect(p.metadata).toEqual({ name: 'apigee-we', labels: { 'kubernetes.io/metadata.name': 'apigee-we' } })
    expect(p.status).toBeUndefined()
  })
})

describe('inNamespace', () => {
  it('sets the namespace of namespaced objects only', () => {
    expect(inNamespace({ kind: 'Secret', metadata: { name: 'a', namespace: 'x' } }, 'y').metadata.namespace).toBe('y')
    expect(inNamespace<KubeObject>({ kind: 'Namespace', metadata: { name: 'a' } }, 'y').metadata.namespace).toBeUndefined()
  })
})

describe('podInfo / sortPods', () => {
  const pod = (name: string, ready: boolean, phase = 'Running') => ({
    metadata: { name, namespace: 'apigee', labels: { app: 'apigee-cassandra' } },
    spec: { nodeName: 'n1', hostNetwork: true, containers: [{ name: 'apigee-cassandra' }] },
    status: { phase, podIP: '10.0.0.1', hostIP: '10.1.0.1', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] }
  })
  it('reads readiness from the Ready condition and the phase', () => {
    expect(podInfo(pod('a-0', true)).ready).toBe(true)
    expect(podInfo(pod('a-0', false)).ready).toBe(false)
    expect(podInfo(pod('a-0', true, 'Pending')).ready).toBe(false)
    expect(podInfo(pod('a-0', true))).toMatchObject({ podIP: '10.0.0.1', hostIP: '10.1.0.1', hostNetwork: true, containers: ['apigee-cassandra'] })
  })
  it('sorts by statefulset ordinal, not lexically', () => {
    expect(sortPods([{ name: 'c-10' }, { name: 'c-2' }, { name: 'c-1' }]).map((p) => p.name)).toEqual(['c-1', 'c-2', 'c-10'])
  })
})

describe('Kubectl argv and secrets (kubectl stand-in that records its argv and stdin)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-test-'))
  const bin = join(dir, 'kubectl')
  const log = join(dir, 'argv.log')
  // Prints a canned secret for `get secret`, records argv + stdin for everything.
  writeFileSync(
    bin,
    `#!/bin/sh
printf '%s\\n' "$*" >> ${log}
case "$*" in
  *"get secret missing"*) echo 'Error from server (NotFound): secrets "missing" not found' >&2; exit 1;;
  *"get secret"*) echo '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds"},"data":{"jmx.user":"'$(printf jmxuser | base64)'","jmx.password":"'$(printf 'S3cret-pw!' | base64)'"}}';;
  *) cat >> ${log}; echo '{}';;
esac
`
  )
  chmodSync(bin, 0o755)
  const k = new Kubectl({ bin, context: 'aks-east', kubeconfig: '/tmp/kc' })

  it('puts --kubeconfig, --context and -n before the verb', () => {
    expect(k.flags('apigee')).toEqual(['--kubeconfig', '/tmp/kc', '--context', 'aks-east', '-n', 'apigee'])
  })
  it('registers secret values read from the cluster, not the listed public keys', async () => {
    const s = await k.getSecret('apigee', 'creds', ['jmx.user'])
    expect(secretValues(s!)['jmx.password']).toBe('S3cret-pw!')
    expect(containsSecret('S3cret-pw!')).toBe(true)
    expect(containsSecret('jmxuser')).toBe(false)
  })
  it('returns undefined for a missing object', async () => {
    expect(await k.getSecret('apigee', 'missing')).toBeUndefined()
  })
  it('sends objects on stdin, never in argv', async () => {
    await k.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, data: { k: Buffer.from('S3cret-pw!').toString('base64') } }, 'ns')
    const text = readFileSync(log, 'utf8')
    expect(text).toContain('--kubeconfig /tmp/kc --context aks-east -n ns create -f -')
    const argvLines = text.split('\n').filter((l) => l.startsWith('--kubeconfig'))
    expect(argvLines.join('\n')).not.toContain(Buffer.from('S3cret-pw!').toString('base64'))
  })
  it('refuses a registered secret in argv', async () => {
    await expect(k.exec('ns', 'pod', ['echo', 'S3cret-pw!'])).rejects.toThrow(/secret value is in its arguments/)
  })
})
