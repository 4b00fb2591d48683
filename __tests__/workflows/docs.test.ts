// The docs layout: every action.yml has a README beside it (the root one: docs/preflight.md) whose
// inputs and outputs tables list exactly what the action.yml declares, defaults included; the
// root README stays short, keeps the quick start and links every action and every docs/ page;
// every relative link in the Markdown resolves. The helpers are in docs.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { actionMetaOf, ourActions } from './validate.ts'
import { ROOT, anchorsOf, brokenLinks, docDrift, docOf, markdownFiles, relativeLinks, tableAfter, usesOf } from './docs.ts'

const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8')
const actions = ourActions()

test('the suite has the actions this layout documents', () => {
  expect(actions.map((a) => a.name)).toEqual(expect.arrayContaining(['preflight', 'create-vnet-peering', 'configure-seed-host', 'expand-keyspaces', 'rebuild-dc', 'verify-failover', 'decommission-dc', 'internal/failover-issue']))
})

describe.each(actions.map((a) => [a.name, a]))('%s', (name) => {
  test(`has its README (${docOf(name)})`, () => {
    expect(existsSync(join(ROOT, docOf(name)))).toBe(true)
  })
  test('its README documents every input and output of its action.yml, defaults included, with a usage example and its permissions', () => {
    expect(docDrift(read(docOf(name)), actionMetaOf(name)!, usesOf(name))).toEqual([])
  })
})

describe('the drift check can fail', () => {
  const name = 'rebuild-dc'
  const md = read(docOf(name))
  const meta = actionMetaOf(name)!
  test('an input missing from the table', () => {
    const dropped = md.replace(/^\| `stall-timeout` \|.*\n/m, '')
    expect(dropped).not.toBe(md)
    expect(docDrift(dropped, meta, usesOf(name))).toEqual(["input 'stall-timeout' is declared in action.yml but not documented"])
  })
  test('a default that differs from action.yml', () => {
    const changed = md.replace('| `stall-timeout` | no | `15m` |', '| `stall-timeout` | no | `20m` |')
    expect(changed).not.toBe(md)
    expect(docDrift(changed, meta, usesOf(name))).toEqual(["input 'stall-timeout': default is '`20m`' in the README, '`15m`' in action.yml"])
  })
  test('an output documented that action.yml does not declare, and one declared but not documented', () => {
    const renamed = md.replace('| `bytes-streamed` |', '| `bytes-received` |')
    expect(docDrift(renamed, meta, usesOf(name))).toEqual(["output 'bytes-received' is documented but not declared in action.yml", "output 'bytes-streamed' is declared in action.yml but not documented"])
  })
  test('a pipe escaped inside a cell does not split it', () => {
    expect(tableAfter('## Inputs\n\n| input | x |\n| --- | --- |\n| `a` | b \\| c |\n', '## Inputs')).toEqual([['input', 'x'], ['---', '---'], ['`a`', 'b | c']])
  })
})

describe('the root README', () => {
  const readme = read('README.md')
  test('is short', () => {
    expect(readme.split('\n').length).toBeLessThan(150)
  })
  test('keeps the two quick-start commands in its Quick start section', () => {
    const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1))
    expect(quick).toContain('npm ci && npm run demo    # the whole promotion, then a DR drill, on the local sandbox\n')
    expect(quick).toContain('npm test                  # unit tests and sandbox integration tests\n')
    expect(quick).toContain('`npm run setup`')
  })
  test("links every action's README", () => {
    for (const a of actions) expect(readme).toContain(`](${docOf(a.name)})`)
  })
  test('links every docs/ page', () => {
    for (const f of readdirSync(join(ROOT, 'docs')).filter((x) => x.endsWith('.md'))) expect(readme).toContain(`](docs/${f})`)
  })
})

describe('relative links', () => {
  test.each(markdownFiles())('%s: every relative link resolves (file, folder, heading)', (f) => {
    expect(brokenLinks(f, read(f))).toEqual([])
  })
  test('the check can fail: a missing file, a missing heading', () => {
    const md = '# T\n\n## Mode remove (a region\'s decommission)\n\n[a](actions/nope/README.md) [b](#mode-remove-a-regions-decommission) [c](docs/aks.md#no-such-heading) [d](https://example.com/x)\n```\n[e](inside/a/fence.md)\n```\n'
    expect(relativeLinks(md)).toEqual(['actions/nope/README.md', '#mode-remove-a-regions-decommission', 'docs/aks.md#no-such-heading'])
    expect(brokenLinks('README.md', md)).toEqual(['README.md: actions/nope/README.md (no such file)', "README.md: docs/aks.md#no-such-heading (no heading '#no-such-heading' in docs/aks.md)"])
  })
  test('anchors as GitHub makes them', () => {
    expect([...anchorsOf('## When `parallel-racks` pays off\n## CRD mode (`method: crd`)\n## Inputs\n## Inputs\n')]).toEqual(['when-parallel-racks-pays-off', 'crd-mode-method-crd', 'inputs', 'inputs-1'])
  })
})
