// The cqlsh session script run for real by /bin/sh: a kubectl stand-in executes the command after
// `--` locally, a cqlsh stand-in (which numbers errors as real cqlsh does) records its argv, the credentials file (mode + content) and the
// statement file it was given. Plus the pure parsers and quoting.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kubectl } from '../../../src/core/kube/kubectl.ts'
import { CqlError, Cqlsh, cqlIdent, cqlString, parseJsonRows, statementErrors } from '../../../src/core/cassandra/cqlsh.ts'

const dir = mkdtempSync(join(tmpdir(), 'cqlsh-test-'))
const podTmp = mkdtempSync(join(tmpdir(), 'cqlsh-pod-'))
const argvLog = join(dir, 'argv.log')
const kubectl = join(dir, 'kubectl')
writeFileSync(kubectl, `#!/bin/sh\nprintf 'kubectl %s\\n' "$*" >> ${argvLog}\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexport TMPDIR=${podTmp}\nexec "$@"\n`)
const cqlsh = join(dir, 'cqlsh')
writeFileSync(
  cqlsh,
  `#!/bin/sh
printf 'cqlsh %s\\n' "$*" >> ${argvLog}
while [ $# -gt 0 ]; do
  case "$1" in
    --credentials) shift; printf 'creds mode %s\\n' "$(stat -c %a "$1")"; cat "$1";;
    -f) shift; f="$1"; echo '--- statements'; cat "$f";;
    *) printf 'arg %s\\n' "$1";;
  esac
  shift
done
if grep -q BAD "$f"; then echo "$f:3:SyntaxException: line 1:0 no viable alternative at input 'BAD'" >&2; exit 2; fi
`
)
chmodSync(kubectl, 0o755)
chmodSync(cqlsh, 0o755)

const pw = `pa'ss"w\\o$(rd)%x`
const c = new Cqlsh({ kube: new Kubectl({ bin: kubectl }), namespace: 'apigee' }, { user: 'ddluser', password: pw }, { bin: cqlsh, ssl: true, host: '10.0.0.5', port: 9042 })

it('runs all statements in one cqlsh with a 0600 credentials file, nothing secret in argv', async () => {
  const { result } = await c.session('pod-0', ['ALTER KEYSPACE "a" WITH replication = {}', 'SELECT\n  1;'])
  expect(result.stdout).toContain(`creds mode 600\n[plain_text_auth]\nusername = ddluser\npassword = ${pw}\n`)
  expect(result.stdout).toContain('--- statements\nALTER KEYSPACE "a" WITH replication = {};\nSELECT 1;\n')
  expect(result.stdout).toContain('arg --no-color\narg --ssl\narg 10.0.0.5\narg 9042\n')
  const argv = readFileSync(argvLog, 'utf8')
  expect(argv.match(/^cqlsh /gm)).toHaveLength(1)
  expect(argv).not.toContain("pa'ss")
  expect(argv).not.toContain('$(rd)')
  expect(readdirSync(podTmp)).toEqual([])
})

it('names the failing statement', async () => {
  const err = await c.session('pod-0', ['SELECT 1', 'BAD']).catch((e) => e)
  expect(err).toBeInstanceOf(CqlError)
  expect(err.errors).toEqual([{ index: 1, statement: 'BAD', message: "SyntaxException: line 1:0 no viable alternative at input 'BAD'" }])
  expect(err.message).toMatch(/cqlsh in pod pod-0 failed \(exit 2\):\n  BAD\n    -> SyntaxException/)
})

it('spreads statements over concurrent sessions in one exec and still names the failing one', async () => {
  const stmts = ['S0', 'S1', 'S2', 'BAD', 'S4']
  const err = await c.session('pod-0', stmts, { sessions: 2 }).catch((e) => e)
  expect(err).toBeInstanceOf(CqlError)
  // session 1 got S1 and BAD; the stand-in reports BAD at line 3 as real cqlsh would
  expect(err.errors).toEqual([{ index: 3, statement: 'BAD', message: "SyntaxException: line 1:0 no viable alternative at input 'BAD'" }])
  const ok = await c.session('pod-0', ['A0', 'A1', 'A2'], { sessions: 2 })
  expect(ok.result.stdout).toContain('--- statements\nA0;\nA2;\n')
  expect(ok.result.stdout).toContain('--- statements\nA1;\n')
  expect(readFileSync(argvLog, 'utf8')).not.toContain("pa'ss")
  expect(readdirSync(podTmp)).toEqual([])
})

describe('parseJsonRows', () => {
  // The shape cqlsh 6.2 prints for SELECT JSON without a tty.
  const out = `
 [json]
---------------------------------------------------------------------------------------------------
 {"keyspace_name": "Mixed_Case", "durable_writes": true, "replication": {"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc-1": "3"}}
 {"keyspace_name": "system", "durable_writes": true, "replication": {"class": "org.apache.cassandra.locator.LocalStrategy"}}
 {"keyspace_name": "q", "note": "a \\\\"quoted\\\\" word"}

(3 rows)
`
  it('reads each row and undoes the doubled backslashes', () => {
    const rows = parseJsonRows<{ keyspace_name: string; note?: string }>(out)
    expect(rows.map((r) => r.keyspace_name)).toEqual(['Mixed_Case', 'system', 'q'])
    expect(rows[2].note).toBe('a "quoted" word')
  })
  it('checks the row count', () => {
    expect(() => parseJsonRows(out.replace('(3 rows)', '(4 rows)'))).toThrow(/reported 4 rows but 3/)
  })
  it('reads an empty result', () => {
    expect(parseJsonRows('\n [json]\n--------\n\n(0 rows)\n')).toEqual([])
  })
})

describe('statementErrors', () => {
  it('maps FILE:LINE: prefixes to statements', () => {
    // real cqlsh 6.2 printed ':6:' for the 5th (last) statement of a session
    expect(statementErrors('/tmp/tmp.x/in.cql:2:ConfigurationException: bad\nother', ['A', 'B'])).toEqual([{ index: 0, statement: 'A', message: 'ConfigurationException: bad' }])
    expect(statementErrors('/tmp/tmp.x/in.cql:6:ConfigurationException: x', ['1', '2', '3', '4', '5'])[0].statement).toBe('5')
  })
})

describe('CQL quoting', () => {
  it('always double-quotes identifiers, doubling embedded quotes', () => {
    expect(cqlIdent('Mixed_Case')).toBe('"Mixed_Case"')
    expect(cqlIdent('a"b')).toBe('"a""b"')
  })
  it('quotes string literals so a datacenter name cannot end the literal', () => {
    expect(cqlString("dc-1'}; DROP KEYSPACE x; --")).toBe("'dc-1''}; DROP KEYSPACE x; --'")
    expect(() => cqlString('a\nb')).toThrow(/line break/)
  })
})
