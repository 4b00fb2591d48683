import { classify, parseRule, type ClassifyRule } from '../../../src/core/failover/classify.ts'

const rule = (kind: string, spec: string): ClassifyRule => {
  const r = parseRule(kind, spec)
  if ('error' in r) throw new Error(r.error)
  return r.rule
}
const res = (body: string, headers: Record<string, string> = {}) => ({ status: 200, headers, body })

describe('classify', () => {
  test('body, header and json rules', () => {
    expect(classify({ e: rule('body', 'region=eastus'), w: rule('body', 'region=westeurope') }, res('Hello version: v1, region=westeurope'))).toEqual({ region: 'w' })
    const h = { e: rule('header', 'X-Region: ^eastus$'), w: rule('header', 'x-region: ^westeurope$') }
    expect(classify(h, res('', { 'x-region': 'eastus' }))).toEqual({ region: 'e' })
    expect(classify(h, res('', { 'x-region': 'eastus2' }))).toEqual({ unclassified: true })
    const j = { e: rule('json', 'meta.region=eastus'), w: rule('json', 'meta.region=westeurope') }
    expect(classify(j, res('{"meta":{"region":"westeurope"}}'))).toEqual({ region: 'w' })
    expect(classify(j, res('not json'))).toEqual({ unclassified: true })
    expect(classify(j, res('{"meta":{"region":{"x":1}}}'))).toEqual({ unclassified: true })
  })
  test('two matching rules are ambiguous', () => {
    expect(classify({ a: rule('body', 'v1'), b: rule('body', 'v') }, res('v1'))).toEqual({ ambiguous: ['a', 'b'] })
  })
  test('bad rules are reported, not thrown', () => {
    expect(parseRule('body', '(unclosed')).toHaveProperty('error')
    expect(parseRule('body', '')).toHaveProperty('error')
    expect(parseRule('header', 'no-colon')).toHaveProperty('error')
    expect(parseRule('header', 'x-region: [')).toHaveProperty('error')
    expect(parseRule('json', 'region')).toHaveProperty('error')
    expect(parseRule('xml', 'a')).toHaveProperty('error')
  })
})
