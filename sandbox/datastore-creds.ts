// The datastore credentials secret as Apigee hybrid lays it out (apigee-datastore-default-creds,
// 11 keys) and the Cassandra roles behind it. The vendor's defaults for the usernames: admin_user,
// ddl_user, dml_user, jmxuser, and the Jolokia user `apigee` (the namespace's name, so a tool that
// treats usernames as secrets trips over every `-n apigee`). Passwords are generated once per run
// dir and kept in a 0600 file; `default.password` is the built-in `cassandra` role's password.
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CassandraCluster } from './cassandra/cluster.ts'

export interface ApigeeUsers {
  admin: { user: string; password: string }
  dml: { user: string; password: string }
  jolokia: { user: string; password: string }
}

/** The extra users of the layout (jmx and ddl come from the Cassandra cluster's own credentials). */
export function apigeeUsers(runDir: string, namespace: string): ApigeeUsers {
  const dir = join(runDir, 'secrets')
  const file = join(dir, 'apigee-users.json')
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ApigeeUsers
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  const pw = (): string => randomBytes(18).toString('base64url')
  const u: ApigeeUsers = {
    admin: { user: 'admin_user', password: pw() },
    dml: { user: 'dml_user', password: pw() },
    jolokia: { user: namespace, password: pw() }
  }
  writeFileSync(file, JSON.stringify(u, null, 2) + '\n', { mode: 0o600 })
  return u
}

/** The secret's data (base64), the 11 keys of the real layout. */
export function credentialsSecretData(cassandra: CassandraCluster, users: ApigeeUsers): Record<string, string> {
  const c = cassandra.credentials()
  const plain: Record<string, string> = {
    'default.password': c.superuserPassword,
    'admin.user': users.admin.user,
    'admin.password': users.admin.password,
    'ddl.user': c.ddlUser,
    'ddl.password': c.ddlPassword,
    'dml.user': users.dml.user,
    'dml.password': users.dml.password,
    'jmx.user': c.jmxUser,
    'jmx.password': c.jmxPassword,
    'jolokia.user': users.jolokia.user,
    'jolokia.password': users.jolokia.password
  }
  return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
}

/**
 * Creates the admin (superuser) and DML (read/write on every keyspace, no schema changes) roles
 * as the install does, on a node of an authenticated cluster. Idempotent. Passwords reach cqlsh
 * on its stdin only.
 */
export async function createApigeeRoles(cassandra: CassandraCluster, node: string, users: ApigeeUsers): Promise<void> {
  const q = (s: string): string => s.replace(/'/g, "''")
  await cassandra.cql(node, [
    `CREATE ROLE IF NOT EXISTS ${users.admin.user} WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = '${q(users.admin.password)}'`,
    `CREATE ROLE IF NOT EXISTS ${users.dml.user} WITH SUPERUSER = false AND LOGIN = true AND PASSWORD = '${q(users.dml.password)}'`,
    `GRANT SELECT ON ALL KEYSPACES TO ${users.dml.user}`,
    `GRANT MODIFY ON ALL KEYSPACES TO ${users.dml.user}`
  ])
}
