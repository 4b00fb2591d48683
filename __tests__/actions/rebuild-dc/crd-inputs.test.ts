// rebuild-dc's inputs for method crd: read before anything touches a cluster, every problem named.
import { describe, expect, it } from '@jest/globals'
import { readRebuildInputs } from '../../../src/actions/rebuild-dc/inputs.ts'
import { InputReader } from '../../../src/core/inputs.ts'

const base = { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2' }
const read = (values: Record<string, string>) => readRebuildInputs(new InputReader((n) => ({ ...base, ...values })[n as keyof typeof base] ?? ''))
const error = (values: Record<string, string>): string => {
  try {
    read(values)
  } catch (e) {
    return e instanceof Error ? e.message + ('hint' in e ? `\nfix: ${String((e as { hint?: string }).hint)}` : '') : String(e)
  }
  throw new Error('no error')
}

describe('rebuild-dc inputs: method', () => {
  it('defaults to nodetool, without CRD settings (organization is not needed)', () => {
    const cfg = read({})
    expect(cfg.method).toBe('nodetool')
    expect(cfg.crd).toBeUndefined()
  })

  it('crd with organization; datastore optional', () => {
    expect(read({ method: 'crd', organization: 'my-org-1a2b3c4' }).crd).toEqual({ organization: 'my-org-1a2b3c4', datastore: undefined })
    expect(read({ method: 'crd', organization: 'o', datastore: 'default' }).crd).toEqual({ organization: 'o', datastore: 'default' })
  })

  it('crd without organization fails naming the input and where to find the value', () => {
    expect(error({ method: 'crd' })).toMatch(/input 'organization': is required\nfix: with method crd, the name of the ApigeeOrganization .*kubectl -n apigee get apigeeorg/)
  })

  it('an unknown method and bad names are refused', () => {
    expect(error({ method: 'operator' })).toMatch(/input 'method': not one of the choices \(got 'operator'\)\nfix: one of nodetool, crd/)
    expect(error({ method: 'crd', organization: 'Org_1' })).toMatch(/input 'organization': 'Org_1' is not valid/)
    expect(error({ method: 'crd', organization: 'o', datastore: 'a b' })).toMatch(/input 'datastore': 'a b' is not valid/)
  })

  it('nodetool-only inputs are refused with crd, all problems at once', () => {
    const e = error({ method: 'crd', keyspaces: 'a', 'parallel-racks': 'true' })
    expect(e).toMatch(/input 'organization': is required/)
    expect(e).toMatch(/input 'keyspaces' cannot be used with method 'crd'/)
    expect(e).toMatch(/input 'parallel-racks' cannot be used with method 'crd'/)
  })
})
