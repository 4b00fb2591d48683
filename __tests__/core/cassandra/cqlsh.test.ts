// The cqlsh session script run for real by /bin/sh: a kubectl stand-in executes the command after
// `--` locally, a cqlsh stand-in (which numbers errors as real cqlsh does) records its argv, the credentials file (mode + content) and the
// statement file it was given. Plus the pure parsers and quoting.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kubectl } from '../../../src/core/kube/kubectl.ts'
import { CqlError, Cqlsh, cqlIdent, cqlString, parseJsonRows, statementErrors } from '../../../src/core/cassandra/cqlsh.ts'
import { FALLBACK_MARK, agreementLine, parseAgreement } from '../../../src/core/cassandra/cql-driver.ts'
import { resultBlocks } from '../../../src/core/cassandra/spot-check-plan.ts'

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

describe("with driver: cqlsh's own Python driver in one session", () => {
  // A stand-in for the driver (package `cassandra`, in a zip in ../lib as Apache's tarball ships
  // it next to bin/cqlsh): it records how the session was set up and what it executed.
  const apache = join(dir, 'apache')
  const driverLog = join(dir, 'driver.log')
  beforeAll(() => {
    const pkg = join(dir, 'drv', 'cassandra')
    mkdirSync(pkg, { recursive: true })
    mkdirSync(join(apache, 'bin'), { recursive: true })
    mkdirSync(join(apache, 'lib'), { recursive: true })
    writeFileSync(join(pkg, '__init__.py'), "class ConsistencyLevel:\n    name_to_value = {'ONE': 1, 'LOCAL_ONE': 10}\n")
    writeFileSync(join(pkg, 'auth.py'), 'class PlainTextAuthProvider:\n    def __init__(self, u, p):\n        self.u, self.p = u, p\n')
    writeFileSync(join(pkg, 'policies.py'), 'class WhiteListRoundRobinPolicy:\n    def __init__(self, hosts):\n        self.hosts = hosts\n')
    writeFileSync(
      join(pkg, 'cluster.py'),
      `import json, os
class InvalidRequest(Exception):
    def __init__(self, m):
        self.message = m
class Session:
    def __init__(self, log):
        self.log, self.default_timeout, self.default_consistency_level = log, None, 1
    def execute(self, q):
        self.log.write(json.dumps({'execute': q, 'timeout': self.default_timeout, 'cl': self.default_consistency_level}) + '\\n')
        self.log.flush()
        if q.startswith('BAD'):
            raise InvalidRequest('Error from server: code=2200 [Invalid query] message="bad one"')
        if q.startswith('SELECT schema_version FROM system.local'):
            return [('v2',)]
        if q.startswith('SELECT schema_version FROM system.peers'):
            # the peers' versions, one list per read (the last repeats), from peers.json
            seq = json.load(open(${JSON.stringify(join(dir, 'peers.json'))}))
            self.peer_reads = getattr(self, 'peer_reads', 0) + 1
            return [(v,) for v in seq[min(self.peer_reads, len(seq)) - 1]]
        if q.startswith('SELECT JSON'):
            # one row per word after FROM x WHERE: its text as Cassandra's JSON
            return [(json.dumps({'mr_t': i, 'k': w}),) for i, w in enumerate(q.split('WHERE', 1)[1].split())]
class Cluster:
    def __init__(self, hosts, **kw):
        self.log = open(${JSON.stringify(driverLog)}, 'a')
        kw['auth'] = [kw['auth_provider'].u, kw['auth_provider'].p]
        kw['whitelist'] = kw['load_balancing_policy'].hosts
        del kw['auth_provider'], kw['load_balancing_policy']
        self.log.write(json.dumps({'hosts': hosts, **kw}) + '\\n')
    def connect(self):
        return Session(self.log)
    def shutdown(self):
        self.log.write('{"shutdown": true}\\n')
`
    )
    execFileSync('python3', ['-m', 'zipfile', '-c', join(apache, 'lib', 'cassandra-driver-internal-only-3.29.0.zip'), pkg])
    // bin/cqlsh of the tarball is a shell script: its python is python3, its driver the zip
    writeFileSync(join(apache, 'bin', 'cqlsh'), `#!/bin/sh\necho "real cqlsh must not run" >&2\nexit 9\n`)
    chmodSync(join(apache, 'bin', 'cqlsh'), 0o755)
  })
  const plain = new Cqlsh({ kube: new Kubectl({ bin: kubectl }), namespace: 'apigee' }, { user: 'ddluser', password: pw }, { bin: join(apache, 'bin', 'cqlsh'), host: '10.0.0.5', port: 9142, requestTimeoutS: 77 })

  it('runs every statement in order in one session, with no agreement wait and one coordinator; names the failing one', async () => {
    writeFileSync(driverLog, '')
    const r = await plain.session('pod-0', ['ALTER KEYSPACE "a" WITH x', 'BAD b', 'ALTER KEYSPACE "c" WITH y;'], { driver: true, allowFailure: true })
    expect(r.via).toBe('driver')
    expect(r.result.code).toBe(2)
    expect(r.errors).toEqual([{ index: 1, statement: 'BAD b', message: 'InvalidRequest: Error from server: code=2200 [Invalid query] message="bad one"' }])
    const log = readFileSync(driverLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(log[0]).toEqual(expect.objectContaining({ hosts: ['10.0.0.5'], port: 9142, auth: ['ddluser', pw], whitelist: ['10.0.0.5'], max_schema_agreement_wait: 0, schema_metadata_enabled: false }))
    expect(log.slice(1, 4)).toEqual([
      { execute: 'ALTER KEYSPACE "a" WITH x', timeout: 77, cl: 1 },
      { execute: 'BAD b', timeout: 77, cl: 1 },
      { execute: 'ALTER KEYSPACE "c" WITH y', timeout: 77, cl: 1 }
    ])
    expect(log[4]).toEqual({ shutdown: true })
    expect(readFileSync(argvLog, 'utf8')).not.toContain("pa'ss")
    expect(readdirSync(podTmp)).toEqual([])
  })

  it("prints SELECT results as cqlsh -f does (a reader of cqlsh's output reads both), honours CONSISTENCY, and paces to the rate", async () => {
    writeFileSync(driverLog, '')
    const t = Date.now()
    const r = await plain.session('pod-0', ['CONSISTENCY LOCAL_ONE', 'SELECT JSON k FROM t WHERE a b\\c', 'SELECT JSON k FROM t WHERE', 'SELECT JSON k FROM t WHERE d', 'SELECT JSON k FROM t WHERE e', 'SELECT JSON k FROM t WHERE f'], { driver: true, ratePerS: 10 })
    const took = Date.now() - t
    expect(r.via).toBe('driver')
    const blocks = resultBlocks(r.result.stdout, 5)
    expect(blocks?.map((b) => b.map((k) => k.key))).toEqual([['"k": "a"', '"k": "b\\\\\\\\c"'], [], ['"k": "d"'], ['"k": "e"'], ['"k": "f"']])
    // cqlsh doubles the backslash when it prints; parseJsonRows undoes it for both paths alike
    expect(parseJsonRows(r.result.stdout.split('(2 rows)')[0])).toEqual([{ mr_t: 0, k: 'a' }, { mr_t: 1, k: 'b\\c' }])
    const log = readFileSync(driverLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(log.filter((l) => l.execute).map((l) => l.cl)).toEqual([10, 10, 10, 10, 10])
    // five statements at 10/s: the fifth starts 0.4 s after the first
    expect(took).toBeGreaterThanOrEqual(400)
  })

  it('waits once for schema agreement where the statements say so (system.local and system.peers on the coordinator), then runs the rest', async () => {
    writeFileSync(driverLog, '')
    // a peer with the old version for two reads, one that has not reported any (null), then agreement
    writeFileSync(join(dir, 'peers.json'), JSON.stringify([['v1', 'v2', null], ['v1', 'v2', null], ['v2', 'v2', null]]))
    const r = await plain.session('pod-0', ['ALTER KEYSPACE "a" WITH x', agreementLine(5), 'SELECT JSON k FROM t WHERE a'], { driver: true })
    expect(parseAgreement(r.result.stdout)).toEqual({ agreed: true, versions: ['v2'] })
    expect(parseJsonRows(r.result.stdout)).toEqual([{ mr_t: 0, k: 'a' }])
    const log = readFileSync(driverLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.execute).map((l) => l.execute.split(' FROM ')[1] ?? l.execute)
    expect(log).toEqual(['ALTER KEYSPACE "a" WITH x', ...Array(3).fill(["system.local WHERE key = 'local'", 'system.peers']).flat(), 't WHERE a'])
    // never agreeing: it gives up after the time given, saying which versions it saw; no error
    writeFileSync(join(dir, 'peers.json'), JSON.stringify([['v1', 'v2']]))
    const t = Date.now()
    const stuck = await plain.session('pod-0', ['ALTER KEYSPACE "a" WITH x', agreementLine(1)], { driver: true })
    expect(Date.now() - t).toBeGreaterThanOrEqual(1000)
    expect(parseAgreement(stuck.result.stdout)).toEqual({ agreed: false, versions: ['v1', 'v2'] })
    expect(stuck.errors).toEqual([])
  })

  it('host and port: $CQLSH_HOST/$CQLSH_PORT when cqlsh gets none in argv, as cqlsh does', async () => {
    writeFileSync(driverLog, '')
    // a pod whose environment sets them (as the sandbox's pods do)
    const podKubectl = join(dir, 'kubectl-env')
    writeFileSync(podKubectl, `#!/bin/sh\nexport CQLSH_HOST=10.9.9.9 CQLSH_PORT=9999\nexec ${kubectl} "$@"\n`)
    chmodSync(podKubectl, 0o755)
    const bare = new Cqlsh({ kube: new Kubectl({ bin: podKubectl }), namespace: 'apigee' }, { user: 'u', password: 'p' }, { bin: join(apache, 'bin', 'cqlsh') })
    expect((await bare.session('pod-0', ['ALTER 1'], { driver: true })).via).toBe('driver')
    expect(JSON.parse(readFileSync(driverLog, 'utf8').split('\n')[0])).toEqual(expect.objectContaining({ hosts: ['10.9.9.9'], port: 9999 }))
  })

  it("TLS through cqlsh's own sslhandling (cqlshlib in the tarball's pylib), as cqlsh sets it up", async () => {
    writeFileSync(driverLog, '')
    mkdirSync(join(apache, 'pylib', 'cqlshlib'), { recursive: true })
    writeFileSync(join(apache, 'pylib', 'cqlshlib', '__init__.py'), '')
    writeFileSync(join(apache, 'pylib', 'cqlshlib', 'sslhandling.py'), "def ssl_settings(host, config_file, env=None):\n    return {'ca_certs': '/certs/ca.pem', 'host': host, 'rc': config_file.endswith('/.cassandra/cqlshrc')}\n")
    try {
      const tls = new Cqlsh({ kube: new Kubectl({ bin: kubectl }), namespace: 'apigee' }, { user: 'u', password: 'p' }, { bin: join(apache, 'bin', 'cqlsh'), ssl: true, host: '10.0.0.7' })
      expect((await tls.session('pod-0', ['ALTER 1'], { driver: true })).via).toBe('driver')
      expect(JSON.parse(readFileSync(driverLog, 'utf8').split('\n')[0]).ssl_options).toEqual({ ca_certs: '/certs/ca.pem', host: '10.0.0.7', rc: true })
    } finally {
      rmSync(join(apache, 'pylib'), { recursive: true, force: true })
    }
  })

  it('falls back to cqlsh -f in the same exec when the driver cannot be imported, or cqlshlib for TLS', async () => {
    // the stand-in cqlsh is a shell script with no lib/ next to it: python3 has no driver
    const r = await c.session('pod-0', ['SELECT 1', 'BAD'], { driver: true, allowFailure: true })
    expect(r.via).toBe('cqlsh')
    expect(r.result.stdout).toContain(FALLBACK_MARK)
    expect(r.result.stdout).toContain('--- statements\nSELECT 1;\nBAD;\n')
    expect(r.errors.map((e) => e.statement)).toEqual(['BAD'])
    // TLS without an importable cqlshlib: the tarball layout with --ssl falls back too
    const ssl = new Cqlsh({ kube: new Kubectl({ bin: kubectl }), namespace: 'apigee' }, { user: 'u', password: 'p' }, { bin: join(apache, 'bin', 'cqlsh'), ssl: true })
    const s = await ssl.session('pod-0', ['SELECT 1'], { driver: true, allowFailure: true })
    expect(s.result.stdout).toContain(FALLBACK_MARK)
    expect(s.result.stderr).toContain('real cqlsh must not run')
    expect(readdirSync(podTmp)).toEqual([])
  })
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
