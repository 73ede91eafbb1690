// NIC link: the wired NIC's negotiated speed and duplex, read from sysfs (what the switch and cable gave).
import { pickNic } from '../../check/index.js';
import { parseIntOrNull } from '../../detect/index.js';
import { measure } from '../evaluate.js';
import { absent, type StepDef, type StepOutcome } from '../step.js';

/** Drivers of virtual NICs, which report no link speed. */
const VIRTUAL_NIC = /^(virtio_net|virtio-pci|vmxnet3|hv_netvsc|xen-netfront|veth)$/;

export const nicStep: StepDef = {
  id: 'nic',
  title: 'NIC link speed',
  required: (p) => p.burnin.nic.required,
  expectedSeconds: () => 0,
  async run(ctx): Promise<StepOutcome> {
    const t = ctx.profile.burnin.nic;
    const nic = pickNic(ctx.inventory.nics, ctx.profile.requires.nic?.drivers);
    if (!nic) return absent(t.required, 'no wired NIC found', 'Enable the integrated NIC in BIOS setup > Connection > Integrated NIC.');
    const base = `/sys/class/net/${nic.name}`;
    const speed = parseIntOrNull(await ctx.reader.text(`${base}/speed`));
    const duplex = (await ctx.reader.text(`${base}/duplex`))?.trim() ?? null;
    const carrier = (await ctx.reader.text(`${base}/carrier`))?.trim() === '1';
    const changes = parseIntOrNull(await ctx.reader.text(`${base}/carrier_changes`));
    const speedMbps = speed !== null && speed > 0 ? speed : null;
    if (speedMbps === null && carrier && VIRTUAL_NIC.test(nic.driver ?? '')) {
      return absent(t.required, `${nic.name} (${nic.driver}) reports no link speed (virtual NIC)`, 'A real unit must report its link speed: check the NIC driver.');
    }
    const measures = [
      measure({ id: 'speed', label: `${nic.name} link speed`, unit: 'Mb/s', value: speedMbps, threshold: { min: t.minSpeedMbps }, required: true, ...(speedMbps === null ? { note: carrier ? 'link up, speed not reported' : 'no link' } : {}) }),
      measure({ id: 'duplex', label: `${nic.name} duplex`, value: duplex === 'unknown' ? null : duplex, ...(speedMbps !== null ? { threshold: { equals: 'full' } } : {}) }),
      measure({ id: 'carrier-changes', label: `${nic.name} link changes since boot`, value: changes }),
    ];
    const failed = measures.some((m) => m.status === 'fail');
    let message = `${nic.name} (${nic.driver ?? '?'}) links at ${speedMbps} Mb/s ${duplex ?? ''} duplex.`.replace(/\s+/g, ' ');
    if (failed) {
      message = !carrier
        ? `${nic.name} has no link: plug the line's cable into the unit's RJ45 port (a 1 Gb/s switch port) and run the burn-in again.`
        : `${nic.name} links at ${speedMbps ?? 'an unknown speed'} Mb/s ${duplex ?? ''} duplex; the profile needs ${t.minSpeedMbps} Mb/s full duplex. Replace the cable (Cat 5e or better) and check the switch port; if it stays slow, the NIC or its port is faulty.`.replace(/\s+/g, ' ');
    }
    return { measures, chart: 'bars', message };
  },
};
