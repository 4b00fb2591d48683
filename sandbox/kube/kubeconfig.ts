// Writes a kubeconfig with one context per cluster (several clusters in one file), each with its
// CA as certificate-authority-data and its bearer token. Mode 600: it holds credentials.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import YAML from 'yaml'
import type { KubeconfigEntry } from './types.ts'

type EntrySource = KubeconfigEntry | { kubeconfigEntry(namespace?: string): KubeconfigEntry }

function entryOf(source: EntrySource, namespace?: string): KubeconfigEntry {
  return 'kubeconfigEntry' in source ? source.kubeconfigEntry(namespace) : source
}

/** The kubeconfig document as YAML text. currentContext defaults to the first entry. */
export function kubeconfigYaml(sources: EntrySource[], opts: { currentContext?: string; namespace?: string } = {}): string {
  const entries = sources.map((s) => entryOf(s, opts.namespace))
  if (entries.length === 0) throw new Error('writeKubeconfig: no clusters given')
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: entries.map((e) => ({
      name: e.name,
      cluster: { server: e.server, 'certificate-authority-data': Buffer.from(e.ca).toString('base64') }
    })),
    users: entries.map((e) => ({ name: e.name, user: { token: e.token } })),
    contexts: entries.map((e) => ({
      name: e.name,
      context: { cluster: e.name, user: e.name, ...(e.namespace ? { namespace: e.namespace } : {}) }
    })),
    'current-context': opts.currentContext ?? entries[0].name
  }
  return YAML.stringify(doc)
}

/** Writes the kubeconfig (mode 600) and returns its path. */
export function writeKubeconfig(path: string, sources: EntrySource[], opts: { currentContext?: string; namespace?: string } = {}): string {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, kubeconfigYaml(sources, opts), { mode: 0o600 })
  chmodSync(path, 0o600)
  return path
}
