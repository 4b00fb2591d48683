import { parseAlternative, parseClassify, parseWeights, readPlan } from '../../../src/core/failover/plan.ts'
import { precheck } from '../../../src/core/failover/precheck.ts'
import type { ActionError, InputErrors } from '../../../src/core/errors.ts'
import { InputReader } from '../../../src/core/inputs.ts'
import { parseTopology } from '../../../src/core/topology.ts'

describe('plan parsers', () => {
  test('weights: percent or fractions, checked', () => {
    expect(parseWeights('eastus=90, westeurope=10')).toEqual({ ok: { eastus: 0.9, westeurope: 0.1 } })
    expect(parseWeights('a=0.5\nb=0.3\nc=0.2')).toEqual({ ok: { a: 0.5, b: 0.3, c: 0.2 } })
    expect(parseWeights('a=90,b=20')).toEqual({ error: expect.stringMatching(/sum to 110/) })
    expect(parseWeights('a=90,a=10')).toEqual({ error: expect.stringMatching(/listed twice/) })
    // a drained region: the split check then measures that no traffic reaches b
    expect(parseWeights('a=100,b=0')).toEqual({ ok: { a: 1, b: 0 } })
    expect(parseWeights('a=0,b=0')).toEqual({ error: expect.stringMatching(/sum to 0/) })
    expect(parseWeights('a 90, b 10')).toEqual({ error: expect.stringMatching(/not region=weight/) })
  })
  test('classify lines and alternatives', () => {
    expect(parseClassify('# comment\neastus header x-region: ^eastus$\n\nwesteurope json meta.region=westeurope')).toEqual({
      ok: { eastus: { kind: 'header', spec: 'x-region: ^eastus$' }, westeurope: { kind: 'json', spec: 'meta.region=westeurope' } }
    })
    expect(parseClassify('eastus')).toHaveProperty('error')
    const exp = { a: 0.9, b: 0.1 }
    expect(parseAlternative('', exp)).toEqual({ ok: [{ region: 'b', share: 0.2 }] })
    expect(parseAlternative('b=5%, b=0.2', exp)).toEqual({ ok: [{ region: 'b', share: 0.05 }, { region: 'b', share: 0.2 }] })
    expect(parseAlternative('b=0.1', exp)).toHaveProperty('error')
    expect(parseAlternative('c=0.1', exp)).toHaveProperty('error')
    // a drained region is checked at the default leak unless the alternative names another
    expect(parseAlternative('', { a: 1, b: 0 })).toEqual({ ok: [{ region: 'b', share: 0.05 }] })
    expect(parseAlternative('b=1%', { a: 1, b: 0 })).toEqual({ ok: [{ region: 'b', share: 0.01 }] })
    expect(parseAlternative('b=0.2', { a: 0.5, b: 0.5, c: 0 })).toEqual({ ok: [{ region: 'b', share: 0.2 }, { region: 'c', share: 0.05 }] })
  })
  test('a typo in weights gives one error naming weights (no false ingress-url is required)', () => {
    const topo = parseTopology('regions:\n  eastus:\n    ingress: { url: "https://api.example.com/", json: "region=eastus" }\n  westeurope:\n    ingress: { url: "https://api.example.com/", header: "x-region: westeurope" }\n')
    for (const [weights, t] of [
      ['eastus=9, westeurope=1', topo],
      ['90%', topo],
      ['eastus=9, westeurope=1', undefined],
      ['90%', undefined]
    ] as const) {
      let err: Error | undefined
      try {
        readPlan(new InputReader((n: string) => ({ weights, 'fault-mode': 'scale-to-zero', 'fault-region': 'eastus', deployment: 'hello' })[n] ?? ''), t)
      } catch (e) {
        err = e as Error
      }
      expect({ weights, lines: err?.message.split('\n').filter((l) => /input '/.test(l)) }).toEqual({ weights, lines: [expect.stringMatching(/input 'weights'/)] })
    }
  })
  test('readPlan fills from the topology and reports every problem at once', () => {
    const topo = parseTopology(
      'regions:\n  eastus:\n    kube: { context: aks-eastus }\n    service: { deployment: hello, namespace: apigee }\n    ingress: { url: "https://api.example.com/", json: "region=eastus" }\n  westeurope:\n    ingress: { header: "x-region: westeurope" }\n'
    )
    const src = (v: Record<string, string>) => (n: string) => v[n] ?? ''
    const plan = readPlan(new InputReader(src({ weights: 'eastus=90,westeurope=10', 'fault-mode': 'scale-to-zero', 'fault-region': 'eastus' })), topo)!
    expect(plan.url).toBe('https://api.example.com/')
    expect(plan.rules.westeurope.source).toBe('header x-region: westeurope')
    expect(plan.fault.kube).toEqual({ deployment: 'hello', namespace: 'apigee', context: 'aks-eastus', kubeconfig: undefined })
    expect(plan.fixedN).toBe(301)
    let err: Error | undefined
    try {
      readPlan(new InputReader(src({ weights: 'eastus=90,mars=10', alpha: '2', 'fault-mode': 'command', 'fault-region': 'eastus' })), topo)
    } catch (e) {
      err = e as Error
    }
    expect(err?.message).toMatch(/region 'mars' is not in topology/)
    expect(err?.message).toMatch(/input 'alpha'/)
    expect(err?.message).toMatch(/input 'fault-command': is required/)
  })
  const topo = parseTopology(
    'regions:\n  eastus:\n    kube: { context: aks-eastus }\n    service: { deployment: hello, namespace: apigee }\n    ingress: { url: "https://api.example.com/", json: "region=eastus" }\n  westeurope:\n    ingress: { header: "x-region: westeurope" }\n'
  )
  /** Each error as 'message | fix: hint'. */
  const errorLines = (v: Record<string, string>): string[] => {
    try {
      readPlan(new InputReader((n: string) => v[n] ?? ''), topo)
    } catch (e) {
      return ((e as InputErrors).errors ?? [e as ActionError]).map((x) => `${x.message} | fix: ${x.hint}`)
    }
    return []
  }
  test('http-chaos: the same kube target as scale-to-zero from the topology, abort by default, the object named after the deployment', () => {
    const plan = readPlan(new InputReader((n: string) => ({ weights: 'eastus=90,westeurope=10', 'fault-mode': 'http-chaos', 'fault-region': 'eastus', 'fault-duration': '30s', 'restore-timeout': '2m' })[n] ?? ''), topo)!
    expect(plan.fault.kube).toEqual({ deployment: 'hello', namespace: 'apigee', context: 'aks-eastus', kubeconfig: undefined })
    // Chaos Mesh's duration: the fault phase plus 30 s; live: the fault phase plus restore-timeout
    expect(plan.fault.chaos).toEqual({ name: 'mr-drill-hello', action: 'abort', port: undefined, durationMs: 60000, liveMs: 150000 })
    const coded = readPlan(new InputReader((n: string) => ({ weights: 'eastus=90,westeurope=10', 'fault-mode': 'http-chaos', 'fault-region': 'eastus', 'chaos-action': '503', 'chaos-port': '8080' })[n] ?? ''), topo)!
    expect(coded.fault.chaos).toMatchObject({ action: 503, port: 8080 })
    const partial = readPlan(new InputReader((n: string) => ({ weights: 'eastus=50,westeurope=50', 'fault-mode': 'http-chaos', 'fault-region': 'eastus', 'chaos-pods': '1' })[n] ?? ''), topo)!
    expect(partial.fault.chaos).toMatchObject({ pods: 1 })
  })
  test('the mesh objects: topology mesh: names namespace and cluster (region), the inputs override, the old fallback stays', () => {
    const text = (mesh: string) =>
      `${mesh}regions:\n  eastus:\n    kube: { context: aks-eastus }\n    service: { deployment: hello, namespace: apigee }\n    ingress: { url: "https://api.example.com/", json: "region=eastus" }\n  westeurope:\n    kube: { context: aks-westeurope, kubeconfig: /k/we }\n    ingress: { header: "x-region: westeurope" }\n`
    const meshOf = (t: string, v: Record<string, string> = {}) => readPlan(new InputReader((n: string) => ({ weights: 'eastus=90,westeurope=10', ...v })[n] ?? ''), parseTopology(text(t)))!.mesh
    expect(meshOf('mesh: { namespace: istio-config, region: westeurope }\n')).toEqual({ namespace: 'istio-config', context: 'aks-westeurope', kubeconfig: '/k/we', region: 'westeurope' })
    expect(meshOf('mesh: { namespace: istio-config, region: westeurope }\n', { 'mesh-namespace': 'other', 'mesh-context': 'ctx-x' })).toEqual({ namespace: 'other', context: 'ctx-x', kubeconfig: '/k/we', region: 'westeurope' })
    // without mesh.region: the first region of weights holds them
    expect(meshOf('mesh: { namespace: istio-config }\n')).toEqual({ namespace: 'istio-config', context: 'aks-eastus', kubeconfig: undefined, region: 'eastus' })
    // without mesh: the first region's service namespace, as before
    expect(meshOf('')).toEqual({ namespace: 'apigee', context: 'aks-eastus', kubeconfig: undefined, region: 'eastus' })
    expect(() => meshOf('', { 'mesh-namespace': 'Bad_NS' })).toThrow("input 'mesh-namespace': 'Bad_NS' is not valid")
  })
  test('http-chaos input mistakes: one error each, naming the input, the value and the fix', () => {
    const base = { weights: 'eastus=90,westeurope=10', 'fault-mode': 'http-chaos', 'fault-region': 'eastus' }
    expect(errorLines({ ...base, 'chaos-action': 'abrt' })).toEqual([expect.stringMatching(/^input 'chaos-action': 'abrt' is neither 'abort' nor a 5xx status code \| fix: 'abort' \(requests reset\) or a 5xx status such as 503/)])
    expect(errorLines({ ...base, 'chaos-action': '404' })).toEqual([expect.stringMatching(/input 'chaos-action': '404' is neither/)])
    expect(errorLines({ ...base, 'chaos-port': '70000' })).toEqual([expect.stringMatching(/input 'chaos-port': out of range 1..65535 \(got '70000'\)/)])
    expect(errorLines({ ...base, 'chaos-pods': '0' })).toEqual([expect.stringMatching(/input 'chaos-pods': out of range 1..10000 \(got '0'\)/)])
    expect(errorLines({ ...base, 'fault-mode': 'scale-to-zero', 'chaos-pods': '1' })).toEqual([expect.stringMatching(/input 'chaos-pods': is only used with fault-mode http-chaos \(got mode scale-to-zero\)/)])
    expect(errorLines({ ...base, 'fault-command': 'true', 'restore-command': 'true' })).toEqual([expect.stringMatching(/input 'fault-command': is not used with fault-mode http-chaos/)])
    expect(errorLines({ ...base, 'fault-mode': 'scale-to-zero', 'chaos-action': '503' })).toEqual([expect.stringMatching(/input 'chaos-action': is only used with fault-mode http-chaos \(got mode scale-to-zero\)/)])
    expect(errorLines({ ...base, 'fault-mode': 'failing-pods' })).toEqual([expect.stringMatching(/input 'fault-mode': not one of the choices \(got 'failing-pods'\) \| fix: one of none, scale-to-zero, http-chaos, command/)])
    expect(errorLines({ ...base, 'fault-mode': 'command', 'fault-command': 'true' })).toEqual([expect.stringMatching(/input 'restore-command': is required with fault-mode command/)])
  })
})

describe('precheck (Istio objects)', () => {
  const exp = { eastus: 0.9, westeurope: 0.1 }
  const meta = (name: string) => ({ name, namespace: 'apigee' })
  const vs = { kind: 'VirtualService', metadata: meta('helloworld'), spec: { hosts: ['*'], http: [{ route: [{ destination: { host: 'helloworld' } }] }] } }
  const dr = (tp: object, extra: object = {}) => ({ kind: 'DestinationRule', metadata: meta('helloworld'), spec: { host: 'helloworld', trafficPolicy: tp, ...extra } })
  const od = { consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '30s', maxEjectionPercent: 100 }
  const distribute = (to: Record<string, number>) => ({ loadBalancer: { localityLbSetting: { enabled: true, distribute: [{ from: '*', to }] } } })
  const good = { namespace: 'apigee', virtualServices: [vs], destinationRules: [dr({ ...distribute({ 'eastus/*': 90, 'westeurope/*': 10 }), outlierDetection: od })], pods: { eastus: 2, westeurope: 2 } }
  const msgs = (m: object, mode: Parameters<typeof precheck>[2] = 'http-chaos') => precheck({ ...good, ...m }, exp, mode, 'eastus').map((f) => `${f.level}: ${f.message}`)
  test('a fitting configuration has no findings', () => {
    expect(precheck(good, exp, 'http-chaos', 'eastus')).toEqual([])
  })
  test('each of Istio\'s rules gives one finding naming the object and the field', () => {
    const both = { loadBalancer: { localityLbSetting: { distribute: [{ from: '*', to: { 'eastus/*': 90, 'westeurope/*': 10 } }], failover: [{ from: 'eastus', to: 'westeurope' }] } }, outlierDetection: od }
    expect(msgs({ destinationRules: [dr(both)] })).toEqual([expect.stringMatching(/^error: DestinationRule apigee\/helloworld: spec.trafficPolicy.loadBalancer.localityLbSetting sets both distribute and failover/)])
    const fo = { loadBalancer: { localityLbSetting: { failover: [{ from: 'eastus', to: 'westeurope' }] } } }
    expect(msgs({ destinationRules: [dr(fo)] }, 'scale-to-zero')).toEqual([expect.stringMatching(/^error: DestinationRule apigee\/helloworld: .*failover without spec.trafficPolicy.outlierDetection/)])
    expect(msgs({ destinationRules: [dr({ ...distribute({ 'eastus/*': 90, 'westeurope/*': 10 }), outlierDetection: { consecutive5xxErrors: 1 } })] })).toEqual([
      expect.stringMatching(/outlierDetection.maxEjectionPercent unset \(Istio default 10\) lets Envoy eject 1 of 4 pods, but eastus has 2/)
    ])
    expect(msgs({ destinationRules: [dr({ ...distribute({ 'eastus/*': 80, 'westeurope/*': 20 }), outlierDetection: od })] }, 'none')).toEqual([
      expect.stringMatching(/^error: DestinationRule apigee\/helloworld: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute\[0\].to gives eastus 80.0%, westeurope 20.0%/)
    ])
    const split = { ...vs, spec: { hosts: ['*'], http: [{ route: [{ destination: { host: 'helloworld', subset: 'east' }, weight: 90 }, { destination: { host: 'helloworld', subset: 'west' }, weight: 10 }] }] } }
    const subsets = dr({ outlierDetection: od }, { subsets: [{ name: 'east', labels: { region: 'eastus' } }, { name: 'west', labels: { region: 'westeurope' } }] })
    expect(msgs({ virtualServices: [split], destinationRules: [subsets] }, 'scale-to-zero')).toEqual([expect.stringMatching(/^error: VirtualService apigee\/helloworld: spec.http\[0\].route splits traffic across subsets east, west/)])
    expect(msgs({ virtualServices: [split], destinationRules: [subsets] }, 'none')).toEqual([])
  })
})
