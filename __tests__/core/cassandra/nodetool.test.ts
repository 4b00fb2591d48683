// The nodetool runner's pod script, run for real by /bin/sh: a kubectl stand-in executes the
// command after `--` locally (as a pod would), a nodetool stand-in records its argv and the
// content of the -pwf file it was given. Asserts the password is in the file, never in argv.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kubectl } from '../../../src/core/kube/kubectl.ts'
import { Nodetool, NodetoolError } from '../../../src/core/cassandra/nodetool.ts'

const dir = mkdtempSync(join(tmpdir(), 'nodetool-test-'))
const podTmp = mkdtempSync(join(tmpdir(), 'nodetool-pod-'))
const argvLog = join(dir, 'argv.log')
const kubectl = join(dir, 'kubectl')
writeFileSync(
  kubectl,
  `#!/bin/sh
printf 'kubectl %s\\n' "$*" >> ${argvLog}
while [ "$1" != "--" ]; do shift; done
shift
export TMPDIR=${podTmp}
exec "$@"
`
)
const nodetool = join(dir, 'nodetool')
writeFileSync(
  nodetool,
  `#!/bin/sh
printf 'nodetool %s\\n' "$*" >> ${argvLog}
while [ $# -gt 0 ]; do
  case "$1" in
    -pwf) shift; printf 'pwf mode %s: ' "$(stat -c %a "$1")"; cat "$1";;
    fail) echo "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused'" >&2; exit 1;;
    *) printf 'arg %s\\n' "$1";;
  esac
  shift
done
`
)
chmodSync(kubectl, 0o755)
chmodSync(nodetool, 0o755)

const pw = `p@ss'w"o\\rd$(x)`
const nt = new Nodetool({ kube: new Kubectl({ bin: kubectl }), namespace: 'apigee' }, { user: 'jmxuser', password: pw }, { bin: nodetool })

it('passes the password through a 0600 -pwf file written from stdin', async () => {
  const res = await nt.run('apigee-cassandra-default-0', ['rebuild', '--', 'dc 1'])
  expect(res.stdout).toContain(`pwf mode 600: jmxuser ${pw}\n`)
  expect(res.stdout).toContain('arg rebuild\narg --\narg dc 1\n')
  const argv = readFileSync(argvLog, 'utf8')
  expect(argv).toContain('nodetool -u jmxuser -pwf ')
  expect(argv).not.toContain(pw)
  expect(argv).not.toContain('p@ss')
  // the private dir is gone afterwards
  expect(readdirSync(podTmp)).toEqual([])
})

it('fails with the pod, the command and a hint', async () => {
  const err = await nt.run('apigee-cassandra-default-1', ['fail']).catch((e) => e)
  expect(err).toBeInstanceOf(NodetoolError)
  expect(err.describe()).toMatch(/nodetool fail failed in pod apigee-cassandra-default-1 \(exit 1\)[\s\S]*Connection refused[\s\S]*fix: JMX is not reachable/)
  expect(readdirSync(podTmp)).toEqual([])
})

it('refuses a password with whitespace before running anything', async () => {
  const ws = new Nodetool({ kube: new Kubectl({ bin: kubectl }), namespace: 'apigee' }, { user: 'u', password: 'a b c d' }, { bin: nodetool })
  await expect(ws.run('p-0', ['status'])).rejects.toThrow(/whitespace/)
})

it('runs without credentials when JMX auth is off', async () => {
  const plain = new Nodetool({ kube: new Kubectl({ bin: kubectl }), namespace: 'apigee' }, undefined, { bin: nodetool })
  const res = await plain.run('p-0', ['status'])
  expect(res.stdout).toBe('arg status\n')
})
