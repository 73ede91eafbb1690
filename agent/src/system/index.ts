// Public surface of the system adapters: commands, durable files, interfaces, network changes, the password on disk, the terminal.
export { commandRunner, type RunCommand } from './exec.js';
export { writeFileDurable, readTextIfExists, removeDurable } from './files.js';
export { IpRoute, CONFIRMED_NEIGHBOUR_STATES, type Ipv4Address } from './iproute.js';
export { detectInterface, resolveInterface, readCarrier } from './link.js';
export { waitForGateway, udpProbe, type LinkChecks, type GatewayCheck, type WaitOptions } from './gateway-check.js';
export { networkdBackend, iproute2Backend, renderResolvConf, type NetworkBackend, type IpSnapshot } from './backends.js';
export { NetworkChanger, type NetworkChangerOptions } from './network-change.js';
export { PasswordGuard, readPasswordHash, lockoutFileIn, type PasswordGuardOptions } from './password-guard.js';
export { openTerminalScreen, type TerminalScreen } from './terminal.js';
