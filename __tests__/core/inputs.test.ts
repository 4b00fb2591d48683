import { ActionError, InputError, InputErrors } from '../../src/core/errors.ts'
import { InputReader, isCidr, parsePorts, splitList } from '../../src/core/inputs.ts'
import { rules } from '../../src/core/patterns.ts'
import { fromRegion, readRegionInput, parseTopology } from '../../src/core/topology.ts'

const reader = (values: Record<string, string>): InputReader => new InputReader((n) => values[n] ?? '')

describe('InputReader: one error per mistake', () => {
  const topo = parseTopology('regions:\n  eastus: { cassandra: { datacenter: dc-1 } }\n  westeurope: { cassandra: { datacenter: dc-2 } }\n', 't.yml')
  const errors = (r: InputReader): string[] => {
    try {
      r.done()
      return []
    } catch (e) {
      return e instanceof InputErrors ? e.errors.map((x) => x.message) : [(e as Error).message]
    }
  }
  const dcOf = (r: InputReader, input: string, region: ReturnType<typeof readRegionInput>): string | undefined =>
    r.string(input, { required: true, fallback: fromRegion(region, 'cassandra.datacenter', region?.cassandra.datacenter) })
  it('an unknown or malformed region is the only error: the fields it would fill are not also missing', () => {
    for (const [value, message] of [
      ['mars', "input 'target-region': region 'mars' is not in topology t.yml"],
      ['West Europe', "input 'target-region': 'West Europe' is not valid"]
    ]) {
      const r = reader({ 'target-region': value })
      const region = readRegionInput(r, topo, 'target-region')
      expect(dcOf(r, 'target-datacenter', region)).toBeUndefined()
      expect(errors(r)).toEqual([message])
    }
  })
  it('without a region the field is plainly required (no "regions.undefined"); with one, the topology field is named', () => {
    const r = reader({})
    dcOf(r, 'target-datacenter', undefined)
    expect(errors(r)).toEqual(["input 'target-datacenter': is required"])
    const r2 = reader({})
    dcOf(r2, 'target-datacenter', { ...topo.regions.westeurope, cassandra: {} })
    expect(errors(r2)).toEqual(["input 'target-datacenter': is required and topology regions.westeurope.cassandra.datacenter is not set"])
  })
  it('given() sees a value without validating it (no second error for it)', () => {
    const r = reader({ 'tenant-id': 'not-a-guid' })
    expect([r.given('tenant-id'), r.given('client-id')]).toEqual([true, false])
    expect(r.failed).toBe(false)
  })
})

describe('InputReader', () => {
  it('reads typed values with defaults and fallbacks', () => {
    const r = reader({ count: ' 3 ', flag: 'TRUE', wait: '1h30m', list: 'a, b\nc,,', mode: 'fast' })
    expect(r.int('count', { min: 1 })).toBe(3)
    expect(r.bool('flag')).toBe(true)
    expect(r.bool('missing', { default: true })).toBe(true)
    expect(r.duration('wait')).toBe(5400000)
    expect(r.list('list')).toEqual(['a', 'b', 'c'])
    expect(r.choice('mode', ['fast', 'slow'] as const)).toBe('fast')
    expect(r.string('vnet', { fallback: { from: 'topology regions.eastus.azure.vnet', value: 'vnet-east' } })).toBe('vnet-east')
    expect(r.ports('ports', { default: [7000, 7001] })).toEqual([7000, 7001])
    r.done()
  })

  it('an input wins over the topology fallback', () => {
    const r = reader({ vnet: 'from-input' })
    expect(r.string('vnet', { fallback: { from: 'topology x', value: 'from-topology' } })).toBe('from-input')
  })

  it('names the input, the bad value and what is accepted', () => {
    const r = reader({ count: 'ten' })
    r.int('count', { min: 1, max: 5 })
    let err: unknown
    try {
      r.done()
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).input).toBe('count')
    expect((err as InputError).describe()).toBe("input 'count': not a whole number (got 'ten')\n  fix: a whole number in 1..5")
  })

  it('collects every problem and throws them together', () => {
    const r = reader({ a: 'x', b: 'maybe', c: '99999' })
    r.int('a')
    r.bool('b')
    r.ports('c')
    r.requiredString('d', { fallback: { from: 'topology regions.eastus.azure.vnet', value: undefined } })
    expect(r.failed).toBe(true)
    let err: unknown
    try {
      r.done()
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InputErrors)
    const msg = (err as InputErrors).message
    expect((err as InputErrors).errors).toHaveLength(4)
    expect(msg).toContain("input 'a': not a whole number (got 'x')")
    expect(msg).toContain("input 'b': not a boolean (got 'maybe')")
    expect(msg).toContain("input 'c'")
    expect(msg).toContain("input 'd': is required and topology regions.eastus.azure.vnet is not set")
  })

  it('checks patterns and names the topology field when the value came from there', () => {
    const r = reader({})
    r.string('source-subscription', { pattern: rules.subscription.re, accepted: rules.subscription.accepted, fallback: { from: 'topology regions.eastus.azure.subscription', value: 'nope' } })
    expect(() => r.done()).toThrow(new ActionError("topology regions.eastus.azure.subscription: 'nope' is not valid"))
  })

  it('validates ranges of numbers, durations and ports', () => {
    const r = reader({ n: '0', d: '10x', e: '1s', p: '7001-7000' })
    r.number('n', { min: 0, exclusiveMin: true })
    r.duration('d')
    r.duration('e', { minMs: 5000 })
    r.ports('p')
    expect(() => r.done()).toThrow(/input 'n': out of range \(0, inf\][\s\S]*input 'd': not a duration[\s\S]*input 'e': shorter than 5000ms[\s\S]*input 'p'/)
  })
})

describe('parsers', () => {
  it('parsePorts', () => {
    expect(parsePorts('7000-7001, 9042')).toEqual({ ok: [7000, 7001, 9042] })
    expect(parsePorts('0')).toHaveProperty('error')
    expect(parsePorts('65536')).toHaveProperty('error')
    expect(parsePorts('1-2000')).toEqual({ error: "'1-2000' opens more than 1024 ports" })
    expect(parsePorts('http')).toHaveProperty('error')
  })
  it('isCidr', () => {
    expect(isCidr('10.1.0.0/16')).toBe(true)
    expect(isCidr('120.38.1.0/24')).toBe(true)
    expect(isCidr('10.1.0.0')).toBe(false)
    expect(isCidr('10.1.0.0/33')).toBe(false)
    expect(isCidr('300.1.0.0/16')).toBe(false)
    expect(isCidr('fd00::/8')).toBe(false)
  })
  it('splitList', () => expect(splitList(' a,\n b ,, c\n')).toEqual(['a', 'b', 'c']))
})
