// Name rules of the systems we talk to, in one place, each with the text a user needs to fix a
// value that breaks it. Used for inputs and topology fields alike.

export interface Rule {
  re: RegExp
  accepted: string
}

export const rules = {
  subscription: {
    re: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    accepted: 'an Azure subscription ID (a GUID such as 00000000-0000-0000-0000-000000000000)'
  },
  tenant: {
    re: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    accepted: 'an Entra tenant ID (a GUID)'
  },
  resourceGroup: {
    re: /^[-\w.()]{0,89}[-\w()]$/,
    accepted: 'a resource group name: 1-90 letters, digits, - _ . ( ), not ending in .'
  },
  azureName: {
    // virtual network, peering, NSG and rule names
    re: /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/,
    accepted: 'an Azure resource name: 1-80 letters, digits, _ . -, starting with a letter or digit, ending with a letter, digit or _'
  },
  aksName: {
    // AKS cluster names: 1-63 letters, digits, _ -, starting and ending with a letter or digit
    re: /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/,
    accepted: 'an AKS cluster name: 1-63 letters, digits, _ -, starting and ending with a letter or digit'
  },
  region: {
    re: /^[a-z][a-z0-9-]{1,40}$/,
    accepted: 'a region key such as eastus or west-europe (lowercase letters, digits, -)'
  },
  kubeName: {
    re: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    accepted: 'a Kubernetes name (RFC 1123 label: lowercase letters, digits, -, at most 63)'
  },
  k8sClusterName: {
    // AKS and GKE cluster names (the overrides' k8sCluster.name)
    re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
    accepted: 'a cluster name: 1-63 letters, digits, _ . -, starting with a letter or digit'
  },
  kubeContext: {
    re: /^[^\s'"`$\\]{1,253}$/,
    accepted: 'a kubeconfig context name without spaces or quotes'
  },
  datacenter: {
    // Cassandra DC names end up in CQL map keys and nodetool argv: keep them plain.
    re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/,
    accepted: 'a Cassandra datacenter name such as dc-2 (letters, digits, _ . -, at most 48)'
  },
  keyspace: {
    // CQL identifiers as Cassandra creates them unquoted or quoted: letters, digits, _ (48 at most)
    re: /^[A-Za-z0-9_]{1,48}$/,
    accepted: 'keyspace names: letters, digits and _, at most 48 each, case-sensitive (e.g. cache_myorg_hybrid)'
  },
  rack: {
    re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/,
    accepted: 'a Cassandra rack name such as ra-1 (letters, digits, _ . -, at most 48)'
  }
} satisfies Record<string, Rule>
