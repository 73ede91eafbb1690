// What detection finds on a unit: plain JSON-serialisable data (the fleet inventory sends it as is).

export const INVENTORY_SCHEMA = 'plugsrv.hw-inventory/1';

export interface Dmi {
  sysVendor: string | null;
  productName: string | null;
  productVersion: string | null;
  /** Dell's system ID (4 hex digits). */
  productSku: string | null;
  /** The service tag on Dell units; readable by root only. */
  productSerial: string | null;
  boardVendor: string | null;
  boardName: string | null;
  biosVendor: string | null;
  biosVersion: string | null;
  biosDate: string | null;
  /** SMBIOS chassis type number (3 desktop, 35 mini PC ...). */
  chassisType: number | null;
}

export interface Cpu {
  vendor: string | null;
  model: string | null;
  sockets: number;
  /** Physical cores (distinct physical id + core id). */
  cores: number;
  /** Logical processors. */
  threads: number;
}

export type DiskKind = 'nvme' | 'ssd' | 'hdd' | 'virtual' | 'usb' | 'mmc' | 'unknown';

export interface Disk {
  name: string;
  model: string | null;
  serial: string | null;
  sizeBytes: number;
  kind: DiskKind;
  rotational: boolean | null;
  removable: boolean;
  driver: string | null;
}

export interface Nic {
  name: string;
  mac: string | null;
  driver: string | null;
  /** PCI vendor:device, e.g. 8086:1A1C (Intel I219-LM). */
  pciId: string | null;
  wireless: boolean;
  /** null when the link is down or the driver does not say (virtual NICs). */
  speedMbps: number | null;
  carrier: boolean | null;
  operstate: string | null;
  /** The OS side of wake-up for the NIC's device (device/power/wakeup: enabled|disabled). */
  wakeup: string | null;
}

export interface Tpm {
  device: string;
  /** 2 for TPM 2.0, 1 for TPM 1.2, null when the kernel does not say. */
  versionMajor: number | null;
}

export type BootKind = 'usb' | 'nvme' | 'sata' | 'network' | 'file' | 'other' | 'unknown';

export interface BootEntry {
  /** Boot#### number. */
  number: number;
  description: string | null;
  active: boolean | null;
  kind: BootKind;
}

export interface Firmware {
  uefi: boolean;
  /** null when not UEFI or the variable cannot be read. */
  secureBoot: boolean | null;
  /** true = no platform key enrolled (Secure Boot cannot be enforced). */
  setupMode: boolean | null;
  bootCurrent: number | null;
  bootOrder: BootEntry[] | null;
}

export interface UsbRootHub {
  bus: string;
  /** 480 for USB 2, 5000/10000/20000 for SuperSpeed. */
  speedMbps: number | null;
  ports: number | null;
  version: string | null;
}

export interface BiosState {
  /** The firmware-attributes driver that exposes the settings (dell-wmi-sysman), null when none. */
  source: string | null;
  attributes: Record<string, string>;
  adminPasswordSet: boolean | null;
}

export interface Inventory {
  schema: typeof INVENTORY_SCHEMA;
  detectedAt: string;
  dmi: Dmi;
  cpu: Cpu;
  memory: { totalBytes: number | null };
  disks: Disk[];
  nics: Nic[];
  tpm: Tpm | null;
  firmware: Firmware;
  /** null when the USB bus is not visible at all. */
  usb: { rootHubs: UsbRootHub[] } | null;
  bios: BiosState;
  /** What could not be read and why (permissions, missing trees). */
  notes: string[];
}
