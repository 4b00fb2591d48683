// The ARM double's wire format helpers (server.ts): the default security rules every NSG
// reports, and the stable resource GUIDs derived from resource ids.
export const DEFAULT_RULES = [
  { name: 'AllowVnetInBound', priority: 65000, direction: 'Inbound', access: 'Allow', protocol: '*', sourcePortRange: '*', destinationPortRange: '*', sourceAddressPrefix: 'VirtualNetwork', destinationAddressPrefix: 'VirtualNetwork' },
  { name: 'AllowAzureLoadBalancerInBound', priority: 65001, direction: 'Inbound', access: 'Allow', protocol: '*', sourcePortRange: '*', destinationPortRange: '*', sourceAddressPrefix: 'AzureLoadBalancer', destinationAddressPrefix: '*' },
  { name: 'DenyAllInBound', priority: 65500, direction: 'Inbound', access: 'Deny', protocol: '*', sourcePortRange: '*', destinationPortRange: '*', sourceAddressPrefix: '*', destinationAddressPrefix: '*' }
]

export function hex12(s: string): string {
  let h = 0n
  for (const c of s.toLowerCase()) h = (h * 131n + BigInt(c.charCodeAt(0))) % 0xffffffffffffn
  return h.toString(16).padStart(12, '0')
}
