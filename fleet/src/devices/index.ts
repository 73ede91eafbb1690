// Public surface of the device registry.
export { DeviceRegistry, type DeviceRow, type DeviceStatus, type DeviceFilter, type Admission } from './registry.js';
