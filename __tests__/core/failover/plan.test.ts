import { parseAlternative, parseClassify, parseWeights, readPlan } from '../../../src/core/failover/plan.ts'
import { precheck } from '../../../src/core/failover/precheck.ts'
import { InputReader } from '../../../src/core/inputs.ts'
import { parseTopology } from '../../../src/core/topology.ts'

describe('plan parsers', () => {
  test('weights: percent or fractions, checked', () => {
    expect(parseWeights('eastus=90, westeurope=10')).toEqual({ ok: { eastus: 0.9, westeurope: 0.1 } })
    expect(parseWeights('a=0.5\nb=0.3\nc=0.2')).toEqual({ ok: { a: 0.5, b: 0.3, c: 0.2 } })
    expect(parseWeights('a=90,b=20')).toEqual({ error: expect.stringMatching(/sum to 110/) })
    expect(parseWeights('a=90,a=10')).toEqual({ error: expect.stringMatching(/listed twice/) })
    expect(parseWeights('a=100,b=0')).toEqual({ error: expect.stringMatching(/at least two regions need a weight above 0/) })
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
})

describe('precheck', () => {
  const exp = { eastus: 0.9, westeurope: 0.1 }
  const good = {
    routes: [
      { region: 'eastus', weight: 90 },
      { region: 'westeurope', weight: 10 }
    ],
    localityLbSetting: { failover: [{ from: 'eastus', to: 'westeurope' }] },
    outlierDetection: { consecutive5xxErrors: 1, maxEjectionPercent: 100 },
    endpoints: { eastus: 2, westeurope: 2 }
  }
  test('a fitting configuration has no findings', () => {
    expect(precheck(good, exp, 'failing-pods', 'eastus')).toEqual([])
  })
  test('distribute and failover together, zero weights, missing outlier detection, low maxEjectionPercent', () => {
    const msgs = (c: object, mode: Parameters<typeof precheck>[2] = 'failing-pods', r = 'eastus') => precheck(c, exp, mode, r).map((f) => `${f.level}: ${f.message}`)
    expect(msgs({ ...good, localityLbSetting: { distribute: [{}], failover: [{ from: 'eastus', to: 'westeurope' }] } })).toEqual([expect.stringMatching(/^error: .*both .*distribute and \.failover/)])
    expect(msgs({ ...good, routes: [{ region: 'eastus', weight: 100 }, { region: 'westeurope', weight: 0 }] }, 'none')).toEqual([
      expect.stringMatching(/^warning: the ingress routes 100.0% to eastus/),
      expect.stringMatching(/^error: region westeurope has weight 0/)
    ])
    expect(msgs({ ...good, outlierDetection: undefined }, 'scale-to-zero')).toEqual([expect.stringMatching(/^error: the ingress has no outlierDetection/)])
    expect(msgs({ ...good, outlierDetection: { consecutive5xxErrors: 1 } })).toEqual([expect.stringMatching(/maxEjectionPercent 10 lets outlier detection eject 0 of 4/)])
    expect(msgs({ ...good, localityLbSetting: {} }, 'scale-to-zero')).toEqual([expect.stringMatching(/no localityLbSetting.failover/)])
    expect(msgs({ ...good, routes: [{ region: 'eastus', weight: 80 }, { region: 'westeurope', weight: 20 }] }, 'none')[0]).toMatch(/^warning: the ingress routes 80.0% to eastus/)
  })
})
