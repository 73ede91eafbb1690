// The inventory for a person (`plugsrv hw detect` without --json).
import type { Inventory } from './inventory.js';

const GiB = 1024 ** 3;

export function formatInventory(inv: Inventory, matching: readonly string[] = []): string {
  const d = inv.dmi;
  const lines: string[] = [];
  lines.push(`Model:    ${d.sysVendor ?? '?'} ${d.productName ?? '?'}${d.productSku ? ` (SKU ${d.productSku})` : ''}${d.productSerial ? `, service tag ${d.productSerial}` : ''}`);
  lines.push(`Board:    ${d.boardVendor ?? '?'} ${d.boardName ?? '?'}; BIOS ${d.biosVendor ?? '?'} ${d.biosVersion ?? '?'} ${d.biosDate ?? ''}`.trimEnd());
  lines.push(`Profile:  ${matching.length > 0 ? matching.join(', ') : 'no shipped profile matches this unit'}`);
  lines.push(`CPU:      ${inv.cpu.model ?? '?'} (${inv.cpu.cores} cores, ${inv.cpu.threads} threads)`);
  lines.push(`Memory:   ${inv.memory.totalBytes === null ? '?' : `${(inv.memory.totalBytes / GiB).toFixed(1)} GiB usable`}`);
  for (const k of inv.disks) lines.push(`Disk:     ${k.name} ${k.kind} ${(k.sizeBytes / 1e9).toFixed(1)} GB${k.model ? ` ${k.model}` : ''}`);
  if (inv.disks.length === 0) lines.push('Disk:     none');
  for (const n of inv.nics) {
    const link = n.speedMbps !== null ? `${n.speedMbps} Mb/s` : n.carrier ? 'link up, speed not reported' : 'no link';
    lines.push(`NIC:      ${[n.name, n.driver ?? '?', n.wireless ? '(wireless)' : '', n.mac ?? '', link].filter(Boolean).join(' ')}`);
  }
  if (inv.nics.length === 0) lines.push('NIC:      none');
  lines.push(`TPM:      ${inv.tpm ? `${inv.tpm.device} ${inv.tpm.versionMajor === 2 ? '2.0' : inv.tpm.versionMajor === 1 ? '1.2' : 'version unknown'}` : 'none'}`);
  const f = inv.firmware;
  const order = f.bootOrder?.map((e) => `${e.description ?? e.number}${e.kind === 'usb' ? ' [USB]' : ''}`).join(' > ');
  lines.push(`Firmware: ${f.uefi ? `UEFI, Secure Boot ${f.secureBoot === null ? 'unknown' : f.secureBoot ? 'on' : 'off'}${f.setupMode ? ' (setup mode)' : ''}${order ? `, boot order ${order}` : ''}` : 'legacy BIOS'}`);
  if (inv.usb) {
    const ss = inv.usb.rootHubs.filter((h) => (h.speedMbps ?? 0) >= 5000);
    lines.push(`USB:      ${inv.usb.rootHubs.length} root hubs, ${ss.reduce((a, h) => a + (h.ports ?? 0), 0)} SuperSpeed ports`);
  } else lines.push('USB:      no USB bus');
  lines.push(`BIOS settings: ${inv.bios.source ? `${Object.keys(inv.bios.attributes).length} readable through ${inv.bios.source}, admin password ${inv.bios.adminPasswordSet === null ? 'unknown' : inv.bios.adminPasswordSet ? 'set' : 'not set'}` : 'not readable from Linux (no firmware-attributes driver)'}`);
  for (const n of inv.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}
