// Detection: the inventory type, pure parsers, the root-dir reader and the detection itself.
export { detectInventory } from './detect.js';
export { formatInventory } from './format.js';
export { INVENTORY_SCHEMA, type BiosState, type BootEntry, type BootKind, type Cpu, type Disk, type DiskKind, type Dmi, type Firmware, type Inventory, type Nic, type Tpm, type UsbRootHub } from './inventory.js';
export * from './parse.js';
export { fsReader, type SysReader } from './reader.js';
