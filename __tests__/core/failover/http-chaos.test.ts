import { chaosManifest, chaosPlan, judge, liveError, parseChaosAction, podSelection } from '../../../src/core/failover/http-chaos.ts'
import type { KubeObject } from '../../../src/core/kube/kubectl.ts'

const RUN = 'https://github.com/example/platform/actions/runs/42'
const me = `${RUN}/attempts/2`
const now = Date.parse('2026-03-01T12:00:00Z')
const obj = (annotations?: Record<string, string>): KubeObject => ({ apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'HTTPChaos', metadata: { name: 'mr-drill-hello', namespace: 'apigee', annotations } })
const until = (ms: number): string => new Date(now + ms).toISOString()

describe('http-chaos', () => {
  test('chaos-action: abort or a 5xx code', () => {
    expect(parseChaosAction('abort')).toEqual({ ok: 'abort' })
    expect(parseChaosAction('503')).toEqual({ ok: 503 })
    expect(parseChaosAction('abrt')).toEqual({ error: "'abrt' is neither 'abort' nor a 5xx status code" })
    expect(parseChaosAction('200')).toHaveProperty('error')
  })

  test('the object: owner and expiry annotations, the deployment selector, abort on the request or a replaced response code, a duration Chaos Mesh ends it by', () => {
    const t = { namespace: 'apigee', deployment: 'hello' }
    const abort = chaosManifest(chaosPlan('hello', 'abort', undefined, 30_000, 120_000), t, { owner: me, now, matchLabels: { app: 'hello' }, port: 5000 })
    expect(abort).toEqual({
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'HTTPChaos',
      metadata: { name: 'mr-drill-hello', namespace: 'apigee', labels: { 'app.kubernetes.io/managed-by': 'mr-actions' }, annotations: { 'mr-actions.io/owner': me, 'mr-actions.io/expires': '2026-03-01T12:02:30.000Z' } },
      spec: { mode: 'all', selector: { namespaces: ['apigee'], labelSelectors: { app: 'hello' } }, target: 'Request', port: 5000, abort: true, duration: '60s' }
    })
    const code = chaosManifest(chaosPlan('hello', 503, 80, 1500, 100), t, { owner: me, now, matchLabels: { app: 'hello' }, port: 80 })
    expect(code.spec).toMatchObject({ target: 'Response', replace: { code: 503 }, duration: '32s' })
    expect(code.spec).not.toHaveProperty('abort')
    // live at least as long as Chaos Mesh injects, even with a short restore-timeout
    expect(code.metadata.annotations!['mr-actions.io/expires']).toBe(until(32_000))
    // chaos-pods: Chaos Mesh's mode fixed, its value a string
    const some = chaosManifest(chaosPlan('hello', 'abort', undefined, 30_000, 120_000, 1), t, { owner: me, now, matchLabels: { app: 'hello' }, port: 80 })
    expect(some.spec).toMatchObject({ mode: 'fixed', value: '1', selector: { namespaces: ['apigee'], labelSelectors: { app: 'hello' } } })
  })

  test('an existing object: this run or an earlier attempt of it, or expired, is a leftover; anything else is live', () => {
    expect(judge(undefined, me, now)).toEqual({ kind: 'none' })
    expect(judge(obj({ 'mr-actions.io/owner': me, 'mr-actions.io/expires': until(60_000) }), me, now)).toMatchObject({ kind: 'leftover', why: 'this run made it' })
    expect(judge(obj({ 'mr-actions.io/owner': `${RUN}/attempts/1`, 'mr-actions.io/expires': until(60_000) }), me, now)).toMatchObject({ kind: 'leftover', why: 'an earlier attempt of this run made it' })
    const other = 'https://github.com/example/platform/actions/runs/7/attempts/1'
    expect(judge(obj({ 'mr-actions.io/owner': other, 'mr-actions.io/expires': until(-1) }), me, now)).toMatchObject({ kind: 'leftover', owner: other, why: `it expired at ${until(-1)}` })
    expect(judge(obj({ 'mr-actions.io/owner': other, 'mr-actions.io/expires': until(60_000) }), me, now)).toEqual({ kind: 'live', owner: other, expires: until(60_000) })
    // a later attempt of this run is not ours to delete; neither is an object without our owner
    expect(judge(obj({ 'mr-actions.io/owner': `${RUN}/attempts/3`, 'mr-actions.io/expires': until(60_000) }), me, now)).toMatchObject({ kind: 'live' })
    expect(judge(obj({ 'mr-actions.io/owner': other }), me, now)).toMatchObject({ kind: 'live', expires: undefined })
    expect(judge(obj(), me, now)).toEqual({ kind: 'live', owner: undefined, expires: undefined })
  })

  test('the refusal names the owner, the expiry and how to clear it', () => {
    const e = liveError({ namespace: 'apigee', deployment: 'hello' }, 'mr-drill-hello', { kind: 'live', owner: 'https://x/actions/runs/7/attempts/1', expires: until(60_000) }, 'region eastus')
    expect(e.message).toBe(`a drill by https://x/actions/runs/7/attempts/1 is live on deployment hello until ${until(60_000)} (httpchaos/mr-drill-hello in namespace apigee, region eastus); nothing was changed`)
    expect(e.hint).toBe('wait for it or delete httpchaos/mr-drill-hello (kubectl delete httpchaos mr-drill-hello -n apigee) if that run is gone')
  })

  test('the pods: the deployment matchLabels; the port from the input, else its first container port', () => {
    const t = { namespace: 'apigee', deployment: 'hello' }
    const d = { spec: { selector: { matchLabels: { app: 'hello' } }, template: { spec: { containers: [{}, { ports: [{ containerPort: 5000 }] }] } } } }
    expect(podSelection(d, t, undefined, 'r')).toEqual({ matchLabels: { app: 'hello' }, port: 5000 })
    expect(podSelection(d, t, 8080, 'r').port).toBe(8080)
    expect(() => podSelection({ spec: { selector: { matchLabels: { app: 'hello' } } } }, t, undefined, 'r')).toThrow(/declares no container port/)
    expect(() => podSelection({ spec: {} }, t, 80, 'r')).toThrow(/no spec.selector.matchLabels/)
  })
})
