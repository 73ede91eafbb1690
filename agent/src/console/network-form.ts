// The network form: its raw values, and their validation into NetworkSettings with one sentence per bad field.
import type { Messages, Text } from './i18n.js';
import { broadcastOf, classifyIpv4, formatIpv4, inSubnet, networkOf, parseIpv4, parsePrefix, type Ipv4Problem } from './ipv4.js';
import type { NetworkSettings, NetworkStatus } from './types.js';

export interface NetworkFormValues {
  readonly mode: 'dhcp' | 'static';
  readonly address: string;
  readonly prefix: string;
  readonly gateway: string;
  /** Comma- or space-separated. */
  readonly dns: string;
}

export type FieldName = 'address' | 'prefix' | 'gateway' | 'dns';

export interface FieldError {
  readonly field: FieldName;
  readonly text: Text;
}

export type FormValidation = { ok: true; settings: NetworkSettings } | { ok: false; errors: FieldError[] };

export const MAX_DNS_SERVERS = 3;

export const EMPTY_FORM: NetworkFormValues = { mode: 'static', address: '', prefix: '24', gateway: '', dns: '' };

type LabelOf = (m: Messages) => string;
const LABEL: Record<FieldName, LabelOf> = {
  address: (m) => m.fieldAddress,
  prefix: (m) => m.fieldPrefix,
  gateway: (m) => m.fieldGateway,
  dns: (m) => m.fieldDns,
};

function ipProblemText(field: FieldName, value: string, problem: Ipv4Problem): Text {
  const label = LABEL[field];
  switch (problem.kind) {
    case 'empty':
      return (m) => m.required(label(m));
    case 'format':
      return (m) => m.ipFormat(label(m), value);
    case 'octet':
      return (m) => m.ipOctet(label(m), value, problem.part);
    case 'leadingZero':
      return (m) => m.ipLeadingZero(label(m), value, problem.part);
  }
}

/** A host address: parsed, and an ordinary unicast address (not loopback, multicast, link-local ...). */
function parseHost(field: FieldName, raw: string, errors: FieldError[]): number | undefined {
  const value = raw.trim();
  const parsed = parseIpv4(value);
  if (!parsed.ok) {
    errors.push({ field, text: ipProblemText(field, value, parsed.problem) });
    return undefined;
  }
  const kind = classifyIpv4(parsed.value);
  if (kind !== 'unicast') {
    errors.push({ field, text: (m) => m.ipKind(LABEL[field](m), value, kind) });
    return undefined;
  }
  return parsed.value;
}

export function splitDns(raw: string): string[] {
  return raw.split(/[\s,;]+/).filter((s) => s !== '');
}

/** Validates the form. Every field is checked, so the person sees every problem at once. */
export function validateNetworkForm(values: NetworkFormValues): FormValidation {
  if (values.mode === 'dhcp') return { ok: true, settings: { mode: 'dhcp' } };
  const errors: FieldError[] = [];

  const address = parseHost('address', values.address, errors);
  const prefixParse = parsePrefix(values.prefix);
  let prefix: number | undefined;
  if (prefixParse.ok) prefix = prefixParse.value;
  else {
    const p = prefixParse.problem;
    const raw = values.prefix.trim();
    errors.push({
      field: 'prefix',
      text: p.kind === 'empty' ? (m) => m.required(m.fieldPrefix) : p.kind === 'range' ? (m) => m.prefixRange(p.prefix) : p.kind === 'mask' ? (m) => m.prefixMask : (m) => m.prefixFormat(raw),
    });
  }

  // Where the address and prefix are good, the range of usable hosts, for the sentences that need it.
  const subnet =
    address !== undefined && prefix !== undefined
      ? {
          network: networkOf(address, prefix),
          broadcast: broadcastOf(address, prefix),
          cidr: `${formatIpv4(networkOf(address, prefix))}/${prefix}`,
          first: formatIpv4(networkOf(address, prefix) + 1),
          last: formatIpv4(broadcastOf(address, prefix) - 1),
        }
      : undefined;
  const addressText = values.address.trim();
  if (subnet && address === subnet.network) {
    errors.push({ field: 'address', text: (m) => m.addressIsNetwork(addressText, subnet.cidr, subnet.first, subnet.last) });
  } else if (subnet && address === subnet.broadcast) {
    errors.push({ field: 'address', text: (m) => m.addressIsBroadcast(addressText, subnet.cidr, subnet.first, subnet.last) });
  }

  const gateway = parseHost('gateway', values.gateway, errors);
  const gatewayText = values.gateway.trim();
  if (gateway !== undefined && subnet && prefix !== undefined) {
    if (!inSubnet(gateway, subnet.network, prefix)) {
      errors.push({ field: 'gateway', text: (m) => m.gatewayOutside(gatewayText, subnet.cidr, subnet.first, subnet.last) });
    } else if (gateway === subnet.network) {
      errors.push({ field: 'gateway', text: (m) => m.gatewayIsNetwork(gatewayText, subnet.cidr) });
    } else if (gateway === subnet.broadcast) {
      errors.push({ field: 'gateway', text: (m) => m.gatewayIsBroadcast(gatewayText, subnet.cidr) });
    } else if (gateway === address) {
      errors.push({ field: 'gateway', text: (m) => m.gatewayIsAddress(gatewayText) });
    }
  }

  const dnsList = splitDns(values.dns);
  const dns: string[] = [];
  if (dnsList.length === 0) errors.push({ field: 'dns', text: (m) => m.required(m.fieldDns) });
  else if (dnsList.length > MAX_DNS_SERVERS) errors.push({ field: 'dns', text: (m) => m.dnsTooMany });
  else {
    for (const server of dnsList) {
      const before = errors.length;
      const value = parseHost('dns', server, errors);
      if (errors.length > before || value === undefined) break;
      const text = formatIpv4(value);
      if (dns.includes(text)) {
        errors.push({ field: 'dns', text: (m) => m.dnsDuplicate(text) });
        break;
      }
      dns.push(text);
    }
  }

  if (errors.length > 0 || address === undefined || prefix === undefined || gateway === undefined) return { ok: false, errors };
  return { ok: true, settings: { mode: 'static', address: formatIpv4(address), prefix, gateway: formatIpv4(gateway), dns } };
}

/** The form as first shown: the console's own file if there is one, else the interface's current addressing. */
export function formFromStatus(status: NetworkStatus | undefined): NetworkFormValues {
  const s = status?.fileSettings;
  if (s?.mode === 'dhcp') return { ...EMPTY_FORM, mode: 'dhcp' };
  if (s?.mode === 'static') return { mode: 'static', address: s.address, prefix: String(s.prefix), gateway: s.gateway, dns: s.dns.join(', ') };
  const [first] = status?.addresses ?? [];
  if (!first) return EMPTY_FORM;
  const [address = '', prefix = '24'] = first.split('/');
  return { mode: 'static', address, prefix, gateway: status?.gateway ?? '', dns: '' };
}
